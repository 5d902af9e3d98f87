"""Completing the records after a gap in the AMI link, from Asterisk's queue_log. Pure.

While the link is down, events are lost: calls that were in progress may end
unseen, and calls may start and end entirely in the gap. After the reconnect,
``reconcile`` takes the tracker's open calls, the unique ids of the channels
Asterisk still has, and the queue_log entries since the gap began, and returns
the records of every call that ended in the gap (in progress before it, or
with queue_log lines inside it). Calls that never reached a queue and began and ended in the
gap leave no trace in queue_log: lotse serve's journal (pbx.journal) has their decisions.
What the journal cannot tell is taken as the dialplan makes it most likely: a forward to a
department that stayed lotse's last decision was answered (an unanswered one asks lotse again).

``adopt`` takes the calls still in progress that the tracker never saw begin (after a
restart of lotse metrics, or a gap) from Asterisk's channels: a caller channel carries
lotse's variables as ``ChanVariable`` headers (manager.conf's ``channelvars``, see
pbx.contract.AMI_CHANNEL_VARIABLES), so its record is finished by its own Hangup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from metrics.queue_log import QueueCall
from metrics.records import CallRecord
from metrics.tracker import OpenCall, Tracker
from pbx import contract as c
from pbx.journal import Entry


def reconcile(
    tracker: Tracker,
    alive: set[str],
    queue_log: dict[str, QueueCall],
    known: Iterable[str],
    now: float,
    before: set[str] | None = None,
    journal: Mapping[str, Entry] | None = None,
) -> list[CallRecord]:
    """Records of the calls that ended while the AMI link was down; removes them from the tracker.

    ``before``: the calls open when the link went down (default: all open calls). Calls the tracker opened
    since the login are followed live; ``alive``, taken a moment after the login, may not list them yet.
    """
    journal = journal or {}
    records = []
    for uniqueid in [u for u in tracker.calls if u not in alive and (before is None or u in before)]:
        call = tracker.calls.pop(uniqueid)
        if uniqueid in journal:
            _decided(call, journal[uniqueid])
        entry = queue_log.get(uniqueid)
        if entry is not None:
            _complete(call, entry)
        records.append(tracker.finish(call, _ended(entry, now)))
    for uniqueid, call in tracker.calls.items():  # still in progress: what queue_log knows of the gap (join, answer)
        if uniqueid in queue_log:
            _complete(call, queue_log[uniqueid])
    seen = set(known) | {r.uniqueid for r in records} | alive | set(tracker.calls)
    for uniqueid, entry in queue_log.items():
        if uniqueid in seen or entry.entered is None:
            continue
        call = OpenCall(uniqueid, float(entry.entered), caller=entry.caller)
        call.variables.update(
            {
                c.VAR_TENANT: entry.tenant,
                c.VAR_ENTRY: entry.entry,
                c.VAR_TOPIC: entry.topic,
                c.VAR_OUTCOME: "queue",
                c.VAR_REASON: "reconciled",
            }
        )
        if uniqueid in journal:
            _decided(call, journal[uniqueid])
        _complete(call, entry)
        records.append(tracker.finish(call, _ended(entry, now)))
    seen |= set(queue_log)
    for uniqueid, decided in journal.items():  # never in a queue: only the journal knows them
        if uniqueid in seen:
            continue
        call = OpenCall(uniqueid, decided.started)
        _decided(call, decided)
        records.append(tracker.finish(call, decided.ended))
    return records


def _decided(call: OpenCall, decided: Entry) -> None:
    """What the journal adds to a call the AMI events did not show in full."""
    call.arrived = min(call.arrived, decided.started)
    call.dialled = call.dialled or decided.dialled
    call.caller = call.caller or decided.caller
    call.variables.update({name: value for name, value in decided.variables.items() if value})
    if decided.variables.get(c.VAR_OUTCOME) == "department" and call.department_answered is None:
        call.department_answered = True


def _complete(call: OpenCall, entry: QueueCall) -> None:
    if entry.entered is not None and call.queued is None:
        call.queued = float(entry.entered)
        call.queues.append(entry.queue)
    call.caller = call.caller or entry.caller
    if entry.connected is not None and call.answered is None:
        call.answered = float(entry.connected)
        call.agent = call.agent or entry.agent
    if entry.talk is not None:
        call.talk = float(entry.talk)
    if entry.abandoned and call.answered is None:
        call.abandoned = True
        if call.queued is not None and entry.waittime is not None:
            call.left_queue = call.queued + entry.waittime


def _ended(entry: QueueCall | None, now: float) -> float:
    if entry is None or entry.last is None:
        return now
    return float(entry.last)


def adopt(tracker: Tracker, channels: Iterable[Mapping[str, str]], queue_log: Mapping[str, QueueCall], now: float) -> int:
    """Open calls for the caller channels in progress that the tracker does not know; returns how many."""
    adopted = 0
    for channel in channels:
        uniqueid = channel.get("Uniqueid", "")
        variables = {k[len("ChanVariable(") : -1]: v for k, v in channel.items() if k.startswith("ChanVariable(")}
        if not uniqueid or uniqueid in tracker.calls or not variables.get(c.VAR_HOPS):  # only the caller channel has LOTSE_HOPS
            continue
        call = OpenCall(uniqueid, now - _seconds(channel.get("Duration", "")), dialled=variables.get(c.VAR_DIALLED, ""))
        number = channel.get("CallerIDNum", "")
        call.caller = "" if number.startswith("<") else number
        call.variables.update({k: v for k, v in variables.items() if k.startswith(c.VARIABLE_PREFIX)})
        entry = queue_log.get(uniqueid)
        if entry is not None:
            _complete(call, entry)
        tracker.calls[uniqueid] = call
        adopted += 1
    return adopted


def _seconds(duration: str) -> float:
    """CoreShowChannel's Duration 'HH:MM:SS' in seconds (0 when unreadable)."""
    parts = duration.split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return 0.0
    hours, minutes, seconds = (int(p) for p in parts)
    return float(hours * 3600 + minutes * 60 + seconds)
