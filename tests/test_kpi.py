from __future__ import annotations

from dataclasses import replace

import pytest

from metrics.kpi import compute
from metrics.records import CallRecord
from metrics.report import group, render
from outcomes.results import Result
from routing.model import Center

BASE = CallRecord(
    uniqueid="x",
    tenant="minden",
    entry="own",
    dialled="0571890",
    caller="",
    topic="ausweis",
    queues=("buergerservice",),
    department="",
    reason="in_hours",
    outcome=Result.ANSWERED,
    arrived=1795300000.0,
    queued=1795300010.0,
    answered=None,
    ended=1795300100.0,
    wait=None,
    talk=None,
    agent="",
)


def answered(wait: float, talk: float = 60.0, **kw: object) -> CallRecord:
    assert BASE.queued is not None
    return replace(BASE, answered=BASE.queued + wait, wait=wait, talk=talk, agent="anna", **kw)  # type: ignore[arg-type]


def abandoned(wait: float) -> CallRecord:
    return replace(BASE, outcome=Result.ABANDONED_QUEUE, wait=wait)


def other(outcome: Result, reason: str = "in_hours") -> CallRecord:
    return replace(BASE, outcome=outcome, reason=reason, queues=(), queued=None)


def test_service_level_asa_abandon_and_handle_time() -> None:
    records = [answered(5), answered(20), answered(30), answered(31), answered(90), abandoned(40), abandoned(3)]
    k = compute(records, within=30)
    assert (k.calls, k.offered, k.answered, k.abandoned, k.short_abandoned) == (7, 6, 5, 1, 1)
    assert k.answered_within == 3  # 5, 20 and exactly 30 s count; 31 s does not
    assert k.service_level == pytest.approx(50.0)  # 3 of 6 offered
    assert k.asa == pytest.approx((5 + 20 + 30 + 31 + 90) / 5)
    assert k.abandon_rate == pytest.approx(100 / 6)
    assert k.aht == pytest.approx(60.0)
    assert k.reachability == pytest.approx(500 / 6)


def test_calls_that_never_queued_are_counted_apart() -> None:
    records = [
        other(Result.CLOSED, "closed"),
        other(Result.ABANDONED_IVR, ""),
        other(Result.CALLBACK, "overflow"),
        other(Result.FORWARDED_ANSWERED),
        other(Result.FORWARDED_UNANSWERED),
        answered(10),
    ]
    k = compute(records, within=30)
    assert (k.calls, k.closed, k.abandoned_ivr, k.callbacks, k.forwarded, k.forwarded_answered, k.offered) == (6, 1, 1, 1, 2, 1, 1)


def test_reachability_counts_opening_hours_only() -> None:
    emergency_at_night = replace(abandoned(60), reason="closed")  # an emergency line out of hours
    k = compute([answered(10), abandoned(60), emergency_at_night], within=30)
    assert k.offered == 3 and k.reachability == pytest.approx(50.0)


def test_no_calls_no_ratios() -> None:
    k = compute([], within=30)
    assert (k.service_level, k.asa, k.reachability, k.abandon_rate, k.aht) == (None, None, None, None, None)


def test_report_groups_and_uses_each_groups_target(example: Center) -> None:
    records = [answered(40), answered(40, uniqueid="y", entry="115"), replace(answered(40), uniqueid="z", tenant="jobcenter")]
    rows = group(records, example, ["tenant", "entry"], "day")
    by_key = {key: k for _, key, k in rows}
    assert by_key[("minden", "own")].within == 30 and by_key[("minden", "own")].service_level == 0.0
    assert by_key[("minden", "115")].within == 30  # 115's own target: 75 % within 30 s
    assert by_key[("jobcenter", "own")].within == 60 and by_key[("jobcenter", "own")].service_level == 100.0
    table = render(rows, ["tenant", "entry"], "table")
    assert table.splitlines()[0].split()[:5] == ["interval", "tenant", "entry", "calls", "offered"]
    assert "2026-11-21  jobcenter  own" in table
    assert render(rows, ["tenant", "entry"], "csv").splitlines()[1].startswith("2026-11-21,jobcenter,own,1,1,1,1,0,0,100.0,60,")
