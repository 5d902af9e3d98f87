"""Call records through the real Asterisk: lotse metrics follows AMI; queue_log must agree."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest

from metrics.exporter import Exporter
from metrics.kpi import compute
from metrics.listener import AmiSettings, ListenerSettings, MetricsListener
from metrics.queue_log import parse
from metrics.report import group, render
from metrics.store import Store
from metrics.tracker import Privacy
from outcomes.results import Result
from routing.loader import load_or_raise
from tests.integration.conftest import Lab
from tests.integration.lab import ROOT, Ami, lotse_serve, new_caller, of

EXAMPLE = ROOT / "config"
CENTER = load_or_raise(EXAMPLE)
CALLS = [  # number, caller prefix, keys, caller behaviour
    ("0571890", "0571", "1", "lotse-lab-caller"),  # Minden, Personalausweis: answered
    ("115", "05722", "2", "lotse-lab-caller"),  # 115 -> Bückeburg, Abfall: answered
    ("05718070", "0571", "12", "lotse-lab-caller"),  # Kreis, submenu Führerschein: answered in kfz
    ("0571890", "0571", "1", "lotse-lab-impatient-caller"),  # hangs up 1 s after joining the queue
    ("0571890", "0571", "", "lotse-lab-hangup-caller"),  # hangs up during the greeting
]


async def place(listener: MetricsListener, calls: list[tuple[str, str, str, str]], expected: int) -> None:
    async with Ami() as ami:
        for number, prefix, keys, context in calls:
            await ami.call(number, new_caller(prefix), keys, context)
    deadline = time.monotonic() + 90
    while listener.written < expected:
        assert time.monotonic() < deadline, f"{listener.written} of {expected} records written: {listener.health()}"
        await asyncio.sleep(0.2)


def test_records_kpis_and_report_agree_with_queue_log(asterisk: Lab, serve_log: Path, tmp_path: Path) -> None:
    queue_log = asterisk.root / "var/log/lotse-lab/queue_log"
    already = len(queue_log.read_text().splitlines())
    db_url = f"sqlite:///{tmp_path / 'calls.db'}"
    store = Store.open(db_url)

    async def scenario() -> None:
        settings = ListenerSettings(db_url, tmp_path / "records.spool", Privacy.HASHED, salt="test")
        listener = MetricsListener(AmiSettings(secret="lab-ami-2026-secret"), settings, Exporter(CENTER))
        await listener.start()
        await asyncio.wait_for(listener.link.ready.wait(), 30)
        with lotse_serve(EXAMPLE, "2026-11-23 10:00", serve_log):
            await place(listener, CALLS, len(CALLS))
        with lotse_serve(EXAMPLE, "2026-11-22 11:00", serve_log):  # a Sunday
            await place(listener, [("0571890", "0571", "", "lotse-lab-caller")], len(CALLS) + 1)  # listens to the announcement
        await listener.close()
        assert listener.tracker.skipped == 0 and len(listener.spool) == 0

    asyncio.run(scenario())
    records = list(store.between(0, 2e9))
    store.close()

    assert Counter((r.outcome, r.tenant, r.entry, r.topic) for r in records) == Counter(
        [
            (Result.ANSWERED, "minden", "own", "ausweis"),
            (Result.ANSWERED, "bueckeburg", "115", "abfall"),
            (Result.ANSWERED, "kreis", "own", "fuehrerschein"),
            (Result.ABANDONED_QUEUE, "minden", "own", "ausweis"),
            (Result.ABANDONED_IVR, "", "", ""),
            (Result.CLOSED, "minden", "own", ""),
        ]
    )
    assert all(len(r.caller) == 16 for r in records)  # hashed, as configured

    # Asterisk's own queue_log, for the same calls
    log = parse(queue_log.read_text().splitlines()[already:])
    queued = [r for r in records if r.queues]
    assert sorted(log.calls) == sorted(r.uniqueid for r in queued)
    for record in queued:
        entry = log.calls[record.uniqueid]
        assert (entry.tenant, entry.entry, entry.topic, entry.queue) == (record.tenant, record.entry, record.topic, record.queues[-1])
        assert entry.abandoned == (record.outcome is Result.ABANDONED_QUEUE)
        assert record.wait is not None
        waited = entry.holdtime if entry.holdtime is not None else entry.waittime
        assert waited is not None and abs(waited - record.wait) <= 1.0  # queue_log counts whole seconds

    kpis = compute(records, within=30)
    connected = [c for c in log.calls.values() if c.holdtime is not None]
    assert (kpis.answered, kpis.offered + kpis.short_abandoned) == (len(connected), len(log.calls))
    assert kpis.short_abandoned == 1 and kpis.closed == 1 and kpis.abandoned_ivr == 1
    assert kpis.asa == pytest.approx(sum(c.holdtime or 0 for c in connected) / len(connected), abs=1.0)
    assert kpis.service_level == 100.0

    center = load_or_raise(EXAMPLE)
    table = render(group(records, center, ["entry"], "all"), ["entry"], "table")
    assert table.splitlines()[1].split()[:5] == ["all", "-", "1", "0", "0"]  # the caller who hung up in the greeting


def test_not_one_record_lost_when_the_ami_link_drops_during_traffic(asterisk: Lab, serve_log: Path, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'calls.db'}"
    store = Store.open(db_url)
    queue_log = asterisk.root / "var/log/lotse-lab/queue_log"
    journal = tmp_path / "journal"

    async def scenario() -> MetricsListener:
        # a long gap (20 s) so that the running calls end and new ones come and go while lotse sees nothing
        link = AmiSettings(secret="lab-ami-2026-secret", first_retry=20)
        settings = ListenerSettings(db_url, tmp_path / "records.spool", queue_log=queue_log, journal=journal)
        listener = MetricsListener(link, settings, Exporter(CENTER))
        await listener.start()
        await asyncio.wait_for(listener.link.ready.wait(), 30)
        with lotse_serve(EXAMPLE, "2026-11-23 10:00", serve_log, journal=journal):
            async with Ami() as ami:
                before = [new_caller("0571") for _ in range(2)]
                for caller in before:
                    await ami.call("0571890", caller, "1")
                for caller in before:  # both in the queue, then the link drops
                    await ami.wait_for("QueueCallerJoin", of(caller, "QueueCallerJoin"))
                assert listener.link.manager is not None and listener.link.manager.protocol is not None
                listener.link.manager.protocol.transport.close()
                inside = new_caller("0571")
                await ami.call("05718070", inside, "2", "lotse-lab-impatient-caller")  # queued and gone within the gap
                await ami.call("0571890", new_caller("0571"), "", "lotse-lab-hangup-caller")  # never queued: only the journal
                deadline = time.monotonic() + 90
                while listener.written < 4:
                    assert time.monotonic() < deadline, listener.health()
                    await asyncio.sleep(0.5)
        await listener.close()
        return listener

    listener = asyncio.run(scenario())
    records = list(store.between(0, 2e9))
    store.close()
    assert listener.link.logins == 2 and listener.reconciled == 4
    assert Counter((r.outcome, r.tenant, r.topic) for r in records) == Counter(
        [
            (Result.ANSWERED, "minden", "ausweis"),
            (Result.ANSWERED, "minden", "ausweis"),
            (Result.ABANDONED_QUEUE, "kreis", "ausweis"),
            (Result.ABANDONED_IVR, "", ""),
        ]
    )
    assert {r.dialled for r in records} == {"0571890", "05718070"}
    assert all(r.agent for r in records if r.outcome is Result.ANSWERED)
