"""Asterisk's queue_log, read independently of AMI: to check and to complete the records.

Lines are ``time|callid|queue|agent|event|data...``. lotse's dialplan writes
a ``LOTSE`` line (tenant|entry|topic) before each Queue(). Pure: lines in,
one QueueCall per call id out; unreadable lines are counted, not raised.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class QueueCall:
    callid: str  # the caller channel's unique id, as in the call records
    queue: str = ""
    tenant: str = ""
    entry: str = ""
    topic: str = ""
    caller: str = ""  # the caller ID that ENTERQUEUE logged
    entered: int | None = None
    connected: int | None = None
    holdtime: int | None = None  # seconds waited before an agent answered (CONNECT)
    abandoned: bool = False
    waittime: int | None = None  # seconds waited before hanging up (ABANDON)
    talk: int | None = None
    agent: str = ""
    last: int | None = None  # time of the call's last queue_log line
    events: list[str] = field(default_factory=list)


@dataclass
class QueueLog:
    calls: dict[str, QueueCall]
    unreadable: int


def fields(line: str) -> list[str] | None:
    """A line's fields (time, callid, queue, agent, event, data...), or None when it is not a queue_log line."""
    parts = line.rstrip("\n").split("|")
    return parts if len(parts) >= 5 and parts[0].isdigit() else None


def parse(lines: Iterable[str]) -> QueueLog:
    calls: dict[str, QueueCall] = {}
    unreadable = 0
    for line in lines:
        parts = fields(line)
        if parts is None:
            unreadable += 1
            continue
        stamp, callid, queue, agent, event, *data = parts
        if callid in ("NONE", ""):
            continue  # member and queue events (ADDMEMBER, QUEUESTART, ...)
        try:
            _apply(calls.setdefault(callid, QueueCall(callid)), int(stamp), queue, agent, event, data)
        except (IndexError, ValueError):
            unreadable += 1
    return QueueLog(calls, unreadable)


def _apply(call: QueueCall, stamp: int, queue: str, agent: str, event: str, data: list[str]) -> None:
    call.events.append(event)
    call.last = stamp
    if event == "LOTSE":
        call.tenant, call.entry, call.topic = data[0], data[1], data[2]
    elif event == "ENTERQUEUE":  # data: url|callerid|position
        call.queue = queue
        call.entered = call.entered if call.entered is not None else stamp
        call.caller = call.caller or (data[1] if len(data) > 1 else "")
    elif event == "CONNECT":
        call.connected, call.holdtime, call.agent = stamp, int(data[0]), agent
    elif event == "ABANDON":
        call.abandoned, call.waittime = True, int(data[2])
    elif event in ("COMPLETEAGENT", "COMPLETECALLER"):
        call.talk = int(data[1])
