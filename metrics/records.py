"""One record per call: what happened to it, when, and for whom.

Times are UNIX seconds (floats) as Asterisk stamps its AMI events; reports
convert them to the center's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
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


@dataclass(frozen=True, slots=True)
class CallRecord:
    uniqueid: str  # the caller channel's Asterisk unique id
    tenant: str  # '' when no tenant took the call (e.g. 115 from elsewhere)
    entry: str  # own, 115, or '' when the caller left before lotse decided
    dialled: str
    caller: str  # stored as the privacy setting says: full, truncated, hashed or ''
    topic: str
    queues: tuple[str, ...]  # every queue the call waited in, in order
    department: str
    reason: str  # lotse's LOTSE_REASON of the last decision
    outcome: Outcome
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
        return self.outcome is not Outcome.CLOSED and self.reason not in ("closed", "holiday")
