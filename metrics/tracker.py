"""AMI events -> call records. Pure: events in, finished records out.

The caller's channel is the one on which the dialplan sets __LOTSE_DIALLED
(in the contract's incoming context);
lotse's variables, queue events (QueueCallerJoin, AgentConnect, ...) and the
department Dial are all reported on it. Other channels of the same call (the
agent's legs) are ignored. A record is finished by the caller channel's
Hangup. Malformed events are counted and skipped, never raised.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

from metrics.records import CallRecord, bounded
from outcomes import registry
from outcomes.results import Facts, Result
from pbx import contract as c
from routing.model import Outcome
from routing.numbers import caller_key

Event = Mapping[str, str]
_DIALLED_HEADER = f"ChanVariable({c.VAR_DIALLED})"  # manager.conf channelvars: on every event of the caller's channel


class Privacy(StrEnum):
    """How the caller's number is stored (DSGVO: it is personal data)."""

    FULL = "full"
    TRUNCATED = "truncated"  # the last three digits replaced by xxx
    HASHED = "hashed"  # salted SHA-256: the same caller is recognisable, the number is not
    NONE = "none"


def protect(number: str, privacy: Privacy, salt: str = "") -> str:
    if not number or privacy is Privacy.NONE:
        return ""
    if privacy is Privacy.TRUNCATED:
        return number[:-3] + "xxx" if len(number) > 3 else "xxx"
    if privacy is Privacy.HASHED:
        return hashlib.sha256((salt + number).encode()).hexdigest()[:16]
    return number


@dataclass
class OpenCall:
    """A call in progress, as far as the events so far tell."""

    uniqueid: str
    arrived: float
    dialled: str = ""
    caller: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    queues: list[str] = field(default_factory=list)
    queued: float | None = None
    answered: float | None = None
    left_queue: float | None = None
    abandoned: bool = False
    agent: str = ""
    talk: float | None = None
    department_answered: bool | None = None
    callback: bool = False


class Tracker:
    def __init__(self, privacy: Privacy = Privacy.TRUNCATED, salt: str = "") -> None:
        self.privacy = privacy
        self.salt = salt
        self.calls: dict[str, OpenCall] = {}
        self.skipped = 0  # events that could not be read

    def feed(self, event: Event, received: float) -> CallRecord | None:
        """Take one AMI event; returns a record when a call ends."""
        try:
            return self._feed(event, _time(event, received))
        except (KeyError, ValueError):
            self.skipped += 1
            return None

    def _feed(self, event: Event, at: float) -> CallRecord | None:
        name = event.get("Event", "")
        uid = event.get("Uniqueid", "")
        if name == "VarSet":
            variable = event["Variable"].lstrip("_")
            # The dialplan sets it in CONTEXT_INCOMING; channels created later (agents, departments) inherit it elsewhere.
            opens = variable == c.VAR_DIALLED and event.get("Context") == c.CONTEXT_INCOMING
            # LOTSE_HOPS is set on the caller's channel only: it opens a call whose start fell just before an AMI
            # login (too early for these events, too early for the LOTSE_HOPS that adoption looks for)
            reopens = variable == c.VAR_HOPS and _DIALLED_HEADER in event
            if (opens or reopens) and uid not in self.calls:
                caller = event.get("CallerIDNum", "")
                dialled = event.get("Value", "") if opens else event[_DIALLED_HEADER]
                self.calls[uid] = OpenCall(uid, at, dialled=dialled, caller="" if caller.startswith("<") else caller)
            call = self.calls.get(uid)
            if call is not None and variable.startswith(c.VARIABLE_PREFIX):
                call.variables[variable] = event.get("Value", "")
            return None
        call = self.calls.get(uid)
        if call is None:
            return None
        if name == "QueueCallerJoin":
            call.queues.append(event["Queue"])
            call.queued = call.queued if call.queued is not None else at
            call.abandoned = False
        elif name == "QueueCallerAbandon":
            call.abandoned, call.left_queue = True, at
        elif name == "AgentConnect":
            call.answered = at
            call.agent = event.get("MemberName") or event.get("Interface", "")
        elif name == "AgentComplete":
            call.talk = float(event["TalkTime"])
        elif name == "DialEnd" and call.variables.get(c.VAR_OUTCOME) == "department":
            call.department_answered = event.get("DialStatus") == "ANSWER"
        elif name == "UserEvent" and event.get("UserEvent") == c.EVENT_CALLBACK:
            call.callback = True
        elif name == "Hangup":
            del self.calls[uid]
            return self.finish(call, at)
        return None

    def finish(self, call: OpenCall, ended: float) -> CallRecord:
        """The record of a call that ended at ``ended``."""
        v = call.variables
        wait = None
        if call.queued is not None:
            until = call.answered if call.answered is not None else (call.left_queue or ended)
            wait = max(0.0, until - call.queued)
        talk = call.talk if call.talk is not None else (ended - call.answered if call.answered is not None else None)
        return bounded(
            CallRecord(
                uniqueid=call.uniqueid,
                tenant=v.get(c.VAR_TENANT, ""),
                entry=v.get(c.VAR_ENTRY, ""),
                dialled=call.dialled,
                caller=protect(v.get(c.VAR_CALLER) or caller_key(call.caller) or "", self.privacy, self.salt),
                topic=v.get(c.VAR_TOPIC, ""),
                queues=tuple(call.queues),
                department=v.get(c.VAR_DEPARTMENT, ""),
                reason=v.get(c.VAR_REASON, ""),
                outcome=_outcome(call),
                arrived=call.arrived,
                queued=call.queued,
                answered=call.answered,
                ended=ended,
                wait=wait,
                talk=talk,
                agent=call.agent,
            )
        )


def _outcome(call: OpenCall) -> Result:
    """Answered or left waiting in a queue, whatever was decided; else what the outcome kind decided last says."""
    v = call.variables
    decided = v.get(c.VAR_OUTCOME, "")
    if call.answered is not None:
        return Result.ANSWERED
    if call.queued is not None and (call.abandoned or decided in (Outcome.QUEUE, "")):  # "": the dialplan's fallback queue
        return Result.ABANDONED_QUEUE
    if call.callback:  # the callback key in a queue
        return Result.CALLBACK
    return registry.result(decided, Facts(v.get(c.VAR_REASON, ""), call.department_answered))


def _time(event: Event, received: float) -> float:
    stamp = event.get("Timestamp")
    if not stamp:
        return received
    value = float(stamp)
    if not math.isfinite(value):
        raise ValueError(f"Timestamp {stamp!r} is not a time")
    return value


def save_open_calls(path: Path, calls: Iterable[OpenCall]) -> None:
    """The calls in progress at a stop, for the next start (which completes them from queue_log or their hang-up)."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps([asdict(call) for call in calls]), encoding="utf-8")
    temporary.replace(path)


def load_open_calls(path: Path) -> dict[str, OpenCall]:
    """What save_open_calls kept; the file is removed once read (unreadable: nothing, and the file is kept aside)."""
    if not path.exists():
        return {}
    try:
        calls = {data["uniqueid"]: OpenCall(**data) for data in json.loads(path.read_text(encoding="utf-8"))}
    except (ValueError, TypeError, KeyError):
        path.replace(path.with_suffix(".unreadable"))
        return {}
    path.unlink()
    return calls
