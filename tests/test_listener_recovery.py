"""lotse metrics in-process across stops and gaps: records kept through a database outage and a restart, today's figures
after a restart, and the calls of an AMI gap completed from queue_log and the journal, or adopted while in progress."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from metrics.exporter import Exporter
from metrics.listener import MetricsListener
from metrics.records import CallRecord
from metrics.store import Store
from outcomes.results import Result
from pbx.journal import Journal
from tests.fakes import FakeAmi, event_list
from tests.listener_kit import CENTER, call_events, make, until, with_ami


def test_records_survive_a_restart_during_a_database_outage(tmp_path: Path) -> None:
    down = "postgresql+psycopg://postgres@127.0.0.1:1/test"  # nothing listens there

    async def during_outage(ami: FakeAmi, port: int) -> None:
        listener = make(tmp_path, port, db_url=down)
        await listener.start()
        await asyncio.wait_for(ami.logged_in.wait(), 5)
        for event in call_events("5.1") + call_events("5.2", answered=False):
            await ami.event(**event)
        await until("two records spooled", lambda: len(listener.spool) == 2)
        assert not listener.db_up
        await listener.close()  # the process stops while the database is still down

    with_ami(during_outage)
    assert len((tmp_path / "records.spool").read_text(encoding="utf-8").splitlines()) == 2

    async def after(ami: FakeAmi, port: int) -> None:
        listener = make(tmp_path, port)  # started again, the database reachable
        await listener.start()
        await until("the spool written", lambda: listener.written == 2 and len(listener.spool) == 0)
        await listener.close()

    with_ami(after)
    store = Store.open(f"sqlite:///{tmp_path / 'calls.db'}")
    assert sorted(r.uniqueid for r in store.between(0, 2e10)) == ["5.1", "5.2"]
    store.close()


def test_todays_figures_come_from_the_stored_records_after_a_restart(tmp_path: Path) -> None:
    exporter = Exporter(CENTER)
    start, _ = exporter.today_span(time.time())
    stored = [
        CallRecord(
            f"6.{n}",
            "minden",
            "own",
            "0571890",
            "",
            "ausweis",
            ("buergerservice",),
            "",
            "in_hours",
            Result.ANSWERED,
            start + 60 + n,
            start + 61 + n,
            start + 61 + n + wait,
            start + 300 + n,
            wait,
            100.0,
            "Anna",
        )
        for n, wait in enumerate([10.0, 20.0, 50.0, 80.0])
    ]
    store = Store.open(f"sqlite:///{tmp_path / 'calls.db'}")
    store.write(stored)
    store.close()

    async def scenario(ami: FakeAmi, port: int) -> None:
        listener = make(tmp_path, port)
        await listener.start()

        def loaded() -> bool:  # read from the database after it opened
            return b"lotse_service_level_today_percent{" in generate_latest(listener.exporter.registry)

        await until("today's figures loaded", loaded)
        await listener.close()
        text = generate_latest(listener.exporter.registry).decode()
        assert 'lotse_service_level_today_percent{entry="own",tenant="minden",within="30"} 50.0' in text
        assert 'lotse_reachability_today_percent{entry="own",tenant="minden"} 100.0' in text

    with_ami(scenario)


def test_calls_of_a_restart_gap_are_completed_and_running_calls_adopted(tmp_path: Path) -> None:
    now = time.time()
    queue_log = tmp_path / "queue_log"
    ended = int(now) - 100  # this call ended while lotse metrics was stopped
    queue_log.write_text(
        f"{ended - 60}|7.1|buergerservice|NONE|LOTSE|minden|own|ausweis\n"
        f"{ended - 60}|7.1|buergerservice|NONE|ENTERQUEUE||057112345|1\n"
        f"{ended - 50}|7.1|buergerservice|Anna|CONNECT|10|7.1.a|2\n"
        f"{ended}|7.1|buergerservice|Anna|COMPLETECALLER|10|50|1\n"
        f"{int(now) - 20}|7.2|buergerservice|NONE|LOTSE|kreis|own|kfz\n"
        f"{int(now) - 20}|7.2|buergerservice|NONE|ENTERQUEUE||057154321|1\n",
        encoding="utf-8",
    )
    # the last event before the stop: 7.1 was already waiting then (so lotse had seen it enter), and ended in the gap
    (tmp_path / "records.last-event").write_text(f"{ended - 30}\n", encoding="utf-8")
    running: dict[str, str | list[str]] = {  # 7.2 is still waiting in the queue: Asterisk's channel with lotse's variables
        "Event": "CoreShowChannel",
        "Uniqueid": "7.2",
        "Channel": "Local/c-7.2;2",
        "CallerIDNum": "057154321",
        "Duration": "00:00:30",
        "ChanVariable": [
            "LOTSE_DIALLED=05718070",
            "LOTSE_HOPS=0",
            "LOTSE_TENANT=kreis",
            "LOTSE_ENTRY=own",
            "LOTSE_TOPIC=kfz",
            "LOTSE_OUTCOME=queue",
        ],
    }
    agent_leg: dict[str, str | list[str]] = {
        **running,
        "Uniqueid": "7.3",
        "ChanVariable": ["LOTSE_DIALLED=05718070", "LOTSE_TENANT=kreis"],
    }  # inherits, no HOPS

    async def scenario(ami: FakeAmi, port: int) -> None:
        ami.handlers["coreshowchannels"] = event_list("CoreShowChannels", [running, agent_leg])
        listener = make(tmp_path, port, queue_log=queue_log)
        await listener.start()
        await until("7.1 completed from queue_log", lambda: listener.reconciled == 1 and listener.adopted == 1)
        await ami.event(Event="Hangup", Uniqueid="7.2", Cause="16")  # the adopted caller gives up
        await until("both written", lambda: listener.written == 2)
        await listener.close()

    with_ami(scenario)
    store = Store.open(f"sqlite:///{tmp_path / 'calls.db'}")
    records = {r.uniqueid: r for r in store.between(0, 2e10)}
    store.close()
    assert (records["7.1"].tenant, records["7.1"].outcome, records["7.1"].wait) == ("minden", Result.ANSWERED, 10.0)
    assert records["7.1"].caller == "+4957112xxx"  # from ENTERQUEUE's caller ID, stored truncated as configured
    assert (records["7.2"].tenant, records["7.2"].topic, records["7.2"].outcome) == ("kreis", "kfz", Result.ABANDONED_QUEUE)
    assert records["7.2"].dialled == "05718070" and records["7.2"].queues == ("buergerservice",)


def stop_during_a_call(tmp_path: Path, uid: str, events: int, queued: bool = False) -> None:
    """lotse metrics follows the first ``events`` events of a call (call_events), then stops with the call open."""

    async def scenario(ami: FakeAmi, port: int) -> None:
        listener = make(tmp_path, port)
        await listener.start()
        await asyncio.wait_for(ami.logged_in.wait(), 5)
        for event in call_events(uid)[:events]:
            await ami.event(**event)
        await until(f"{uid} open", lambda: uid in listener.tracker.calls and (not queued or listener.tracker.calls[uid].queued is not None))
        await listener.close()

    with_ami(scenario)


def test_calls_in_progress_at_a_stop_are_recorded_after_the_next_start(tmp_path: Path) -> None:
    stop_during_a_call(tmp_path, "8.1", 5)  # in the IVR: routed, not yet hung up (no queue: no trace in queue_log)
    assert (tmp_path / "records.open").exists()

    async def after_the_start(ami: FakeAmi, port: int) -> None:  # the caller hung up while lotse metrics was stopped
        listener = make(tmp_path, port)
        await listener.start()
        await until("8.1 recorded", lambda: listener.written == 1)
        await listener.close()

    with_ami(after_the_start)
    store = Store.open(f"sqlite:///{tmp_path / 'calls.db'}")
    (record,) = store.between(0, 2e10)
    store.close()
    assert (record.uniqueid, record.tenant, record.topic, record.dialled) == ("8.1", "minden", "ausweis", "0571890")
    assert not (tmp_path / "records.open").exists() or (tmp_path / "records.open").read_text() == "[]"


def test_a_call_that_began_and_ended_in_a_restart_gap_without_a_queue_comes_from_the_journal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    now = int(time.time())
    (tmp_path / "records.last-event").write_text(f"{now - 120}\n", encoding="utf-8")
    path = tmp_path / "journal"
    Journal(path).write("8.0", now - 300, now - 290, "0571890", "057112345", {"LOTSE_OUTCOME": "callback"})  # before: recorded then
    Journal(path).write("8.1", now - 60, now - 45, "0571890", "057112345", {"LOTSE_OUTCOME": "callback", "LOTSE_TENANT": "minden"})

    async def scenario(ami: FakeAmi, port: int) -> None:
        listener = make(tmp_path, port, journal=path)
        await listener.start()
        await until("8.1 written", lambda: listener.written == 1)
        await listener.close()

    with_ami(scenario)
    store = Store.open(f"sqlite:///{tmp_path / 'calls.db'}")
    (record,) = store.between(0, 2e10)
    store.close()
    assert (record.uniqueid, record.tenant, record.outcome, record.dialled) == ("8.1", "minden", Result.CALLBACK, "0571890")
    since = datetime.fromtimestamp(now - 122, CENTER.tz).strftime("%Y-%m-%d %H:%M:%S")  # the center's clock, not the host's
    assert f"AMI events missed since {since}: 1 call record(s) completed from queue_log and the journal" in caplog.text


def test_a_gap_call_that_hangs_up_while_recovery_reads_queue_log_keeps_its_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # queued before a stop, answered while lotse metrics was stopped, hung up just after the start: found in the soak
    stop_during_a_call(tmp_path, "9.1", 6, queued=True)  # up to QueueCallerJoin
    now = int(time.time())
    queue_log = tmp_path / "queue_log"
    queue_log.write_text(
        f"{now - 30}|9.1|buergerservice|NONE|ENTERQUEUE||057112345|1\n{now - 10}|9.1|buergerservice|Anna|CONNECT|20|9.1.a|2\n",
        encoding="utf-8",
    )
    slow = MetricsListener._read_queue_log

    def read_slowly(self: MetricsListener, since: float, calls: set[str]) -> dict[str, object]:
        time.sleep(0.5)  # the hang-up arrives meanwhile
        return slow(self, since, calls)  # type: ignore[return-value]

    monkeypatch.setattr(MetricsListener, "_read_queue_log", read_slowly)

    async def after_the_start(ami: FakeAmi, port: int) -> None:
        ami.handlers["coreshowchannels"] = event_list("CoreShowChannels", [])
        listener = make(tmp_path, port, queue_log=queue_log)
        await listener.start()
        await asyncio.wait_for(ami.logged_in.wait(), 5)
        await ami.event(Event="Hangup", Uniqueid="9.1", Cause="16")
        await until("9.1 recorded", lambda: listener.written == 1)
        await listener.close()

    with_ami(after_the_start)
    store = Store.open(f"sqlite:///{tmp_path / 'calls.db'}")
    (record,) = store.between(0, 2e10)
    store.close()
    assert (record.uniqueid, record.outcome, record.agent) == ("9.1", Result.ANSWERED, "Anna")
