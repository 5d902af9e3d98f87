"""lotse metrics in-process: the listener against a fake AMI server, the database (SQLite, the real PostgreSQL) and the real
Redis: records reach the database, the AMI link's states, Redis and refused records never lose one, phone dispositions."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
import redis
from alembic import command

from metrics import dispositions
from metrics.records import CallRecord
from metrics.spool import Spool
from metrics.store import Store
from outcomes.results import Result
from runtime.metrics import health
from stores.db import alembic_config, upgrade
from stores.live import LiveState
from tests.fakes import FakeAmi
from tests.listener_kit import call_events, make, metric, until, with_ami


def test_records_from_events_reach_the_database(tmp_path: Path) -> None:
    async def scenario(ami: FakeAmi, port: int) -> None:
        listener = make(tmp_path, port)
        await listener.start()
        await asyncio.wait_for(ami.logged_in.wait(), 5)
        for event in call_events("1.1"):
            await ami.event(**event)
        await until("the record written", lambda: listener.written == 1)
        assert metric(listener.exporter, "lotse_db_up") == 0 or listener.db_up
        await listener.close()

    with_ami(scenario)
    store = Store.open(f"sqlite:///{tmp_path / 'calls.db'}")
    (record,) = store.between(0, 2e10)
    store.close()
    assert (record.tenant, record.queues, record.outcome, record.agent) == ("minden", ("buergerservice",), Result.ANSWERED, "Anna")


def test_ami_unreachable_at_start_is_named_once_and_retried(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(ami: FakeAmi, port: int) -> None:
        listener = make(tmp_path, port)
        await listener.start()  # no Asterisk yet: lotse metrics starts all the same
        await until("three attempts", lambda: listener.link.attempts >= 3)
        listener.exporter.update_health(listener.link.up, listener.db_up, 0, 0, 0)
        assert metric(listener.exporter, "lotse_ami_up") == 0
        await ami.start(port)  # Asterisk comes up
        await until("logged in", lambda: listener.link.up)
        await listener.close()

    with caplog.at_level(logging.INFO, "lotse.metrics"):
        with_ami(scenario, start=False)
    unreachable = [m for m in caplog.messages if "unreachable" in m and "AMI" in m]
    assert len(unreachable) == 1 and unreachable[0].startswith("AMI at 127.0.0.1:")
    assert any(m.startswith("AMI logged in at 127.0.0.1:") for m in caplog.messages)


def test_a_refused_login_is_named_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(ami: FakeAmi, port: int) -> None:
        ami.secret = "another"
        listener = make(tmp_path, port)
        await listener.start()
        await until("three refused logins", lambda: ami.refused_logins >= 3)
        assert listener.link.state == "refused"
        await listener.close()

    with caplog.at_level(logging.INFO, "lotse.metrics"):
        with_ami(scenario)
    refused = [m for m in caplog.messages if "login refused" in m]
    assert refused == [
        f"AMI login refused for user lotse at {refused[0].split(' at ')[1].split(':')[0]}:{refused[0].split(':')[1]}"[:0] + refused[0]
    ]
    assert refused[0].startswith("AMI login refused for user lotse at 127.0.0.1:") and "Authentication failed" in refused[0]


def test_the_link_comes_back_after_a_drop(tmp_path: Path) -> None:
    async def scenario(ami: FakeAmi, port: int) -> None:
        listener = make(tmp_path, port)
        await listener.start()
        await until("logged in", lambda: listener.link.logins == 1)
        ami.drop()
        await until("logged in again", lambda: listener.link.logins == 2)
        await listener.close()

    with_ami(scenario)


class HangingRedis:
    """A port that accepts connections and never answers."""

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        return f"redis://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/0"

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()


@pytest.mark.parametrize("redis_state", [pytest.param("healthy", marks=pytest.mark.services), "refused", "hanging"])
def test_redis_never_changes_what_is_recorded(tmp_path: Path, redis_state: str, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(ami: FakeAmi, port: int) -> None:
        async with HangingRedis() as hanging:
            url = {"healthy": "redis://127.0.0.1:6379/15", "refused": "redis://127.0.0.1:1/0", "hanging": hanging}[redis_state]
            live = LiveState(redis.Redis.from_url(url, socket_timeout=0.3, socket_connect_timeout=0.3), prefix=f"lotse-test-{id(tmp_path)}")
            listener = make(tmp_path, port, live=live, queues=("buergerservice",))
            await listener.start()
            await asyncio.wait_for(ami.logged_in.wait(), 5)
            for n in range(5):
                for event in call_events(f"2.{n}"):
                    await ami.event(**event)
            await until("five records written", lambda: listener.written == 5)
            await listener.close()

    with caplog.at_level(logging.INFO, "lotse.metrics"):
        with_ami(scenario)
    store = Store.open(f"sqlite:///{tmp_path / 'calls.db'}")
    records = list(store.between(0, 2e10))
    store.close()
    assert [(r.queues, r.outcome, r.agent) for r in records] == [(("buergerservice",), Result.ANSWERED, "Anna")] * 5
    assert len([m for m in caplog.messages if m.startswith("live state in Redis not updated")]) <= 1  # rate-limited


@pytest.mark.services  # the real PostgreSQL (scripts/services)
def test_a_refused_record_is_set_aside_and_the_rest_written_on_postgresql(tmp_path: Path, postgres_db: str) -> None:
    good = CallRecord("3.1", "minden", "own", "0571890", "", "ausweis", ("buergerservice",), "", "in_hours", Result.ANSWERED,
                      100.0, 101.0, 110.0, 200.0, 9.0, 90.0, "Anna")  # fmt: skip
    bad = CallRecord("3.2", "x" * 300, "own", "0571890", "", "", (), "", "", Result.HANGUP, 100.0, None, None, 120.0, None, None, "")
    spool = Spool(tmp_path / "records.spool")
    spool.add([bad, good])  # as if the bad one had got past the edge
    spool.close()
    store = Store.open(postgres_db)

    async def scenario(ami: FakeAmi, port: int) -> None:
        listener = make(tmp_path, port, db_url=postgres_db)
        await listener.start()
        await until("the spool emptied", lambda: len(listener.spool) == 0)
        assert listener.spool.rejected == 1 and listener.written == 1
        await listener.close()

    with_ami(scenario)
    assert [r.uniqueid for r in store.between(0, 2e10)] == ["3.1"]
    store.close()
    (line,) = (tmp_path / "records.rejected").read_text(encoding="utf-8").splitlines()
    assert json.loads(json.loads(line)["record"])["uniqueid"] == "3.2" and "value too long" in json.loads(line)["reason"]


@pytest.mark.services  # the real PostgreSQL (scripts/services)
def test_a_dialled_number_longer_than_its_column_is_cut_at_the_edge(tmp_path: Path, postgres_db: str) -> None:
    store = Store.open(postgres_db)

    async def scenario(ami: FakeAmi, port: int) -> None:
        listener = make(tmp_path, port, db_url=postgres_db)
        await listener.start()
        await asyncio.wait_for(ami.logged_in.wait(), 5)
        for event in [*call_events("4.1", dialled="9" * 200), *call_events("4.2")]:
            await ami.event(**event)
        await until("both written", lambda: listener.written == 2)
        await listener.close()

    with_ami(scenario)
    assert [len(r.dialled) for r in store.between(0, 2e10)] == [32, 7]
    store.close()


def test_an_agents_phone_disposition_reaches_the_database_and_the_fcr_gauge(tmp_path: Path) -> None:
    """*31 after the call: the UserEvent names the agent; the listener gives it to the agent's last answered call."""

    async def scenario(ami: FakeAmi, port: int) -> None:
        listener = make(tmp_path, port)
        await listener.start()
        await asyncio.wait_for(ami.logged_in.wait(), 5)
        for uid in ("5.1", "5.2"):
            for event in call_events(uid):
                await ami.event(**event)
        await until("both records written", lambda: listener.written == 2)
        await ami.event(Event="UserEvent", UserEvent="LotseDisposition", Agent="anna", Code="1", Uniqueid="9.9")
        await ami.event(Event="UserEvent", UserEvent="LotseDisposition", Agent="nobody", Code="1", Uniqueid="9.8")
        assert listener.store is not None
        engine = listener.store.engine
        await until("the disposition written", lambda: dispositions.of_calls(engine, 0, 2e10) == {"5.2": "solved"})
        assert listener.desk.unmatched == 1  # an agent without an answered call: counted, not guessed
        await listener._export_resolution()  # what the tick does every 30 s
        assert metric(listener.exporter, "lotse_first_contact_resolution_today_percent") == 100.0
        await listener.close()

    with_ami(scenario)


def test_its_health_is_down_without_the_ami_link_and_says_why(tmp_path: Path) -> None:
    async def scenario(ami: FakeAmi, port: int) -> None:
        listener = make(tmp_path, port)
        await listener.start()
        await asyncio.wait_for(ami.logged_in.wait(), 5)
        await until("the database open", lambda: listener.db_up)
        assert health(listener)["problems"] == []
        await ami.stop()
        await until("the link seen down", lambda: listener.link.state != "up")
        (problem,) = health(listener)["problems"]
        assert problem.startswith(f"AMI link {listener.link.state}: events are missed until it is back")
        await listener.close()

    with_ami(scenario)


def test_a_refused_schema_ends_the_writer_and_keeps_the_records_in_the_spool(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0004")  # as an older lotse left it: lotse db upgrade was not run

    async def scenario(ami: FakeAmi, port: int) -> None:
        listener = make(tmp_path, port, db_url=url)
        await listener.start()
        await asyncio.wait_for(listener.refused.wait(), 5)  # runtime.metrics stops on it
        await asyncio.wait_for(ami.logged_in.wait(), 5)
        for event in call_events("7.1"):
            await ami.event(**event)
        await until("the record spooled", lambda: len(listener.spool) == 1)
        assert listener.health()["database"] == "refused"
        (problem,) = [p for p in health(listener)["problems"] if p.startswith("database")]
        assert problem.startswith("database refused: database sqlite:") and problem.endswith("(1 record(s) wait in the spool)")
        await listener.close()
        assert listener.refusal is not None and "has schema 0004" in str(listener.refusal)

    with_ami(scenario)
    assert len((tmp_path / "records.spool").read_text(encoding="utf-8").splitlines()) == 1
    upgrade(url)  # lotse db upgrade

    async def after(ami: FakeAmi, port: int) -> None:
        listener = make(tmp_path, port, db_url=url)
        await listener.start()
        await until("the spool written", lambda: listener.written == 1 and len(listener.spool) == 0)
        await listener.close()

    with_ami(after)
    store = Store.open(url)
    assert [r.uniqueid for r in store.between(0, 2e10)] == ["7.1"]
    store.close()
