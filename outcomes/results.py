"""What became of a call: the result its record keeps, and the facts of the call that decide it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Result(StrEnum):
    """What became of a call, as its record says (docs/metrics.md defines each); not where lotse sent it."""

    ANSWERED = "answered"  # an agent answered in a queue
    ABANDONED_QUEUE = "abandoned_queue"  # hung up while waiting in a queue
    ABANDONED_IVR = "abandoned_ivr"  # hung up before lotse decided (greeting, menu)
    CLOSED = "closed"  # outside opening hours or on a holiday
    OVERFLOWED = "overflowed"  # a queue's overflow ended the call (e.g. overflow: hangup)
    FORWARDED_ANSWERED = "forwarded_answered"  # a department answered the forward
    FORWARDED_UNANSWERED = "forwarded_unanswered"  # a department did not answer, nothing followed
    CALLBACK = "callback"  # a callback was requested (Rückmeldung)
    VOICEMAIL = "voicemail"
    HANGUP = "hangup"  # lotse ended the call in opening hours (configured hangup)
    INFORMED = "informed"  # the caller heard an information announcement they chose in a menu: resolved in the IVR


@dataclass(frozen=True, slots=True)
class Facts:
    """What the AMI events told of a call whose result is not plain (not answered, not left waiting in a queue)."""

    reason: str  # lotse's LOTSE_REASON of the last decision
    department_answered: bool | None = None  # a forward's DialEnd: ANSWER or not; None: no forward seen


def closed(facts: Facts) -> bool:
    """lotse decided it outside opening hours or on a holiday."""
    return facts.reason in ("closed", "holiday")


def closed_or(facts: Facts, otherwise: Result) -> Result:
    """Outside opening hours a call counts as closed, after a queue's overflow as overflowed, else as ``otherwise``."""
    if closed(facts):
        return Result.CLOSED
    if facts.reason == "overflow":
        return Result.OVERFLOWED
    return otherwise
