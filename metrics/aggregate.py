"""Report KPIs aggregated in SQL: the same figures as metrics.kpi.compute, without fetching rows.

The sums below are exactly what compute() derives call by call; the tests
check that both give the same Kpis on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, case, cast, func, literal, not_, or_, select

from metrics.kpi import SHORT_ABANDON, Kpis
from metrics.store import Store, calls

BUCKET_LENGTH = {"15min": 16, "hour": 13, "day": 10, "month": 7}
_COLUMNS = {
    "tenant": calls.c.tenant,
    "entry": calls.c.entry,
    "topic": calls.c.topic,
    "queue": calls.c.queue,
    "department": calls.c.department,
}


def _count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))


def _whole(store: Store, column: ColumnElement[Any]) -> ColumnElement[Any]:
    """Whole seconds of a UNIX time: floor() on PostgreSQL; SQLite's integer cast truncates (the same for times > 0)."""
    if store.engine.dialect.name == "sqlite":
        return cast(column, Integer)
    return func.floor(column)


def _bucket(interval: str) -> ColumnElement[Any]:
    if interval == "all":
        return literal("all")
    length = BUCKET_LENGTH[interval]
    cut = func.substr(calls.c.slot, 1, length)
    return cut.concat(":00") if interval == "hour" else cut


def aggregate(
    store: Store, start: float, end: float, by: Sequence[str], interval: str, thresholds: Sequence[int], short: float = SHORT_ABANDON
) -> list[tuple[str, tuple[str, ...], dict[str, Any]]]:
    c = calls.c
    queued = c.queued.is_not(None)
    answered = c.answered.is_not(None)
    wait = func.coalesce(c.wait, 0.0)
    held = _whole(store, c.answered) - _whole(store, c.queued)  # kpi.held_seconds
    is_short = and_(queued, not_(answered), wait < short)
    offered = and_(queued, not_(is_short))
    in_hours = and_(c.outcome != "closed", c.reason.not_in(["closed", "holiday"]))
    bucket = _bucket(interval).label("bucket")
    dims = [_COLUMNS[d].label(d) for d in by]
    sums = [
        func.count().label("calls"),
        _count(c.outcome == "closed").label("closed"),
        _count(c.outcome == "abandoned_ivr").label("abandoned_ivr"),
        _count(c.outcome == "callback").label("callbacks"),
        _count(or_(c.outcome == "forwarded_answered", c.outcome == "forwarded_unanswered")).label("forwarded"),
        _count(c.outcome == "forwarded_answered").label("forwarded_answered"),
        _count(is_short).label("short_abandoned"),
        _count(offered).label("offered"),
        _count(answered).label("answered"),
        _count(and_(offered, not_(answered), c.outcome == "abandoned_queue")).label("abandoned"),
        _count(and_(offered, in_hours)).label("offered_in_hours"),
        _count(and_(answered, in_hours)).label("answered_in_hours"),
        func.sum(case((answered, wait), else_=0.0)).label("wait_sum"),
        func.sum(case((and_(answered, c.talk.is_not(None)), c.talk), else_=0.0)).label("talk_sum"),
        _count(and_(answered, c.talk.is_not(None))).label("talk_n"),
        *(_count(and_(answered, held <= t)).label(f"within_{t}") for t in sorted(set(thresholds))),  # kpi.within_target
    ]
    arrived: ColumnElement[Any] = c.arrived
    if store.engine.dialect.name == "sqlite" and end - start > 31 * 86400:
        # Long ranges: a plain scan beats SQLite's index search plus row look-ups (2x in bench/bench_report.py).
        # PostgreSQL's planner makes this choice by itself.
        arrived = c.arrived + 0
    query = select(bucket, *dims, *sums).where(arrived >= start, arrived < end).group_by(bucket, *dims).order_by(bucket, *dims)
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [(str(row.bucket), tuple(str(getattr(row, d)) or "-" for d in by), dict(row._mapping)) for row in rows]


def kpis(sums: dict[str, Any], within: int) -> Kpis:
    offered, answered = int(sums["offered"]), int(sums["answered"])
    offered_in_hours = int(sums["offered_in_hours"])
    talk_n = int(sums["talk_n"])
    answered_within = int(sums[f"within_{within}"])
    return Kpis(
        calls=int(sums["calls"]),
        closed=int(sums["closed"]),
        abandoned_ivr=int(sums["abandoned_ivr"]),
        offered=offered,
        answered=answered,
        answered_within=answered_within,
        abandoned=int(sums["abandoned"]),
        short_abandoned=int(sums["short_abandoned"]),
        forwarded=int(sums["forwarded"]),
        forwarded_answered=int(sums["forwarded_answered"]),
        callbacks=int(sums["callbacks"]),
        within=within,
        service_level=100.0 * answered_within / offered if offered else None,
        asa=float(sums["wait_sum"]) / answered if answered else None,
        reachability=100.0 * int(sums["answered_in_hours"]) / offered_in_hours if offered_in_hours else None,
        abandon_rate=100.0 * int(sums["abandoned"]) / offered if offered else None,
        aht=float(sums["talk_sum"]) / talk_n if talk_n else None,
    )
