"""One record per call: what happened to it, when, and for whom.

Times are UNIX seconds (floats) as Asterisk stamps its AMI events; reports
convert them to the center's time zone.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from outcomes.results import Result


@dataclass(frozen=True, slots=True)
class CallRecord:
    uniqueid: str  # the caller channel's Asterisk unique id
    tenant: str  # '' when no tenant took the call (e.g. 115 from elsewhere)
    entry: str  # own, 115, emergency, or '' when the caller left before lotse decided
    dialled: str
    caller: str  # stored as the privacy setting says: full, truncated, hashed or ''
    topic: str
    queues: tuple[str, ...]  # every queue the call waited in, in order
    department: str
    reason: str  # lotse's LOTSE_REASON of the last decision
    outcome: Result
    arrived: float  # call reached lotse
    queued: float | None  # joined the first queue
    answered: float | None  # an agent answered
    ended: float
    wait: float | None  # queued -> answered, or queued -> abandoned
    talk: float | None  # answered -> ended (agent's talk time)
    agent: str

    @property
    def in_hours(self) -> bool:
        """Whether the call came in opening hours (lotse did not decide 'closed')."""
        return self.outcome is not Result.CLOSED and self.reason not in ("closed", "holiday")


# The widths of the text columns (metrics.store and its migrations use them); values are cut to fit at the
# edge, where records are made, so that one odd AMI value (a dialled number of 200 digits that the dialplan's
# _X. pattern admits) can never make the database refuse a record.
WIDTHS = {
    "uniqueid": 64,
    "tenant": 40,
    "entry": 40,  # own, 115, emergency, or a tenant entry's id (an id has up to 40 characters)
    "dialled": 32,
    "caller": 64,
    "topic": 40,
    "queues": 400,
    "department": 40,
    "reason": 40,
    "agent": 80,
}
_TIMES = ("arrived", "queued", "answered", "ended", "wait", "talk")


def bounded(record: CallRecord) -> CallRecord:
    """The record with every text cut to its column and every time finite (a bad time becomes None or 0)."""
    changes: dict[str, Any] = {}
    for name, width in WIDTHS.items():
        if name == "queues":
            joined = ",".join(record.queues)
            if len(joined) > width:
                changes["queues"] = tuple(joined[:width].rsplit(",", 1)[0].split(","))
            continue
        value: str = getattr(record, name)
        if len(value) > width:
            changes[name] = value[:width]
    for name in _TIMES:
        value_ = getattr(record, name)
        if value_ is not None and not math.isfinite(value_):
            changes[name] = 0.0 if name in ("arrived", "ended") else None
    return replace(record, **changes) if changes else record


def to_json(record: CallRecord) -> str:
    """One line of JSON (the spool's format); ``from_json`` reads it back."""
    data = asdict(record)
    data["queues"] = list(record.queues)
    data["outcome"] = record.outcome.value
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def from_json(line: str) -> CallRecord:
    data = json.loads(line)
    data["queues"] = tuple(data["queues"])
    data["outcome"] = Result(data["outcome"])
    return CallRecord(**data)
