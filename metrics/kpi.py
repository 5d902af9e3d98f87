"""KPIs from call records, pure. The exact definitions are in docs/metrics.md.

- offered: calls that joined a queue, less short abandons
- answered: offered calls an agent answered; answered_within: held at most the target's seconds as
  Asterisk counts them (whole-second clock at the answer minus at the join, see held_seconds)
- abandoned: offered calls whose caller hung up while waiting (short abandons excluded)
- short abandons: hung up within ``short_abandon`` seconds of joining (not counted as offered)
- service level = answered_within / offered; ASA = mean wait of answered calls
- reachability = answered / offered, of calls in opening hours
- abandon rate = abandoned / offered; AHT = mean talk time of answered calls
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from metrics.records import CallRecord
from outcomes.results import Result

SHORT_ABANDON = 5.0  # seconds


def held_seconds(queued: float, answered: float) -> int:
    """The wait as Asterisk counts it: whole-second clock at the answer minus at the join (queue_log's hold time,
    app_queue's service level: time(NULL) - qe->start). It may differ from the exact wait by up to a second."""
    return int(answered) - int(queued)


def within_target(record: CallRecord, within: int) -> bool:
    """Answered within ``within`` seconds of joining the queue, counted as Asterisk counts (held_seconds <= within)."""
    if record.queued is None or record.answered is None:
        return False
    return held_seconds(record.queued, record.answered) <= within


class Fate(StrEnum):
    """What became of a call that joined a queue, as the figures count it."""

    SHORT = "short"  # hung up without an answer within the short-abandon time: not offered
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    OFFERED = "offered"  # offered, neither answered nor abandoned (e.g. overflowed to a callback)


def queue_fate(record: CallRecord, short_abandon: float = SHORT_ABANDON) -> Fate | None:
    """The one rule the reports and the Prometheus counters share; None when the call never queued."""
    if record.queued is None:
        return None
    if record.answered is not None:
        return Fate.ANSWERED
    if (record.wait or 0.0) < short_abandon:
        return Fate.SHORT
    return Fate.ABANDONED if record.outcome is Result.ABANDONED_QUEUE else Fate.OFFERED


@dataclass(frozen=True)
class Kpis:
    calls: int  # every call that reached lotse
    closed: int  # outside opening hours or on a holiday
    abandoned_ivr: int
    offered: int
    answered: int
    answered_within: int
    abandoned: int
    short_abandoned: int
    forwarded: int
    forwarded_answered: int
    callbacks: int
    within: int  # the service-level target's seconds used
    service_level: float | None  # percent
    asa: float | None  # seconds
    reachability: float | None  # percent
    abandon_rate: float | None  # percent
    aht: float | None  # seconds of talk


def compute(records: Iterable[CallRecord], within: int, short_abandon: float = SHORT_ABANDON) -> Kpis:
    calls = closed = abandoned_ivr = offered = answered = answered_within = abandoned = short = 0
    forwarded = forwarded_answered = callbacks = 0
    in_hours_offered = in_hours_answered = 0
    waits: list[float] = []
    talks: list[float] = []
    for r in records:
        calls += 1
        closed += r.outcome is Result.CLOSED
        abandoned_ivr += r.outcome is Result.ABANDONED_IVR
        callbacks += r.outcome is Result.CALLBACK
        if r.outcome in (Result.FORWARDED_ANSWERED, Result.FORWARDED_UNANSWERED):
            forwarded += 1
            forwarded_answered += r.outcome is Result.FORWARDED_ANSWERED
        fate = queue_fate(r, short_abandon)
        if fate is None:
            continue
        if fate is Fate.SHORT:
            short += 1
            continue
        offered += 1
        in_hours_offered += r.in_hours
        if fate is Fate.ANSWERED:
            wait = r.wait or 0.0
            answered += 1
            in_hours_answered += r.in_hours
            answered_within += within_target(r, within)
            waits.append(wait)
            if r.talk is not None:
                talks.append(r.talk)
        elif fate is Fate.ABANDONED:
            abandoned += 1
    return Kpis(
        calls=calls,
        closed=closed,
        abandoned_ivr=abandoned_ivr,
        offered=offered,
        answered=answered,
        answered_within=answered_within,
        abandoned=abandoned,
        short_abandoned=short,
        forwarded=forwarded,
        forwarded_answered=forwarded_answered,
        callbacks=callbacks,
        within=within,
        service_level=_percent(answered_within, offered),
        asa=sum(waits) / len(waits) if waits else None,
        reachability=_percent(in_hours_answered, in_hours_offered),
        abandon_rate=_percent(abandoned, offered),
        aht=sum(talks) / len(talks) if talks else None,
    )


def _percent(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None
