"""Live state of the center in Redis, shared by every lotse process.

Keys (prefix ``lotse:``):
- ``members:<queue>``: hash interface -> available | ringing | talking | paused | unavailable
- ``waiting:<queue>``: hash caller channel unique id -> time it joined (UNIX seconds)
- ``emergencies``: set of "tenant/emergency" switched on
- ``pauses``: hash interface -> the reason of a paused agent (PausedReason)
- ``names``: hash interface -> the member's name (MemberName)

Every change is announced on the channel ``lotse:changed`` (its message: the
time of the event), so that the wallboard redraws at once instead of polling.

Writes are idempotent (the same AMI event from two lotse instances leaves the
same state); ``rebuild`` replaces the queues' state from a QueueStatus answer
after a (re)connect. Reads give the routing engine its Live facts; a queue
Redis knows nothing about stays unknown, so it never causes an overflow.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import redis

from routing.engine import Live

Event = Mapping[str, str]
PREFIX = "lotse"
_TALKING = {"2", "3", "7", "8"}  # device states INUSE, BUSY, RINGINUSE, ONHOLD
_GONE = {"4", "5"}  # INVALID, UNAVAILABLE: not logged in


@dataclass(frozen=True)
class Snapshot:
    """The live state as the wallboard reads it."""

    members: dict[str, dict[str, str]]  # queue -> interface -> state
    waiting: dict[str, dict[str, float]]  # queue -> caller unique id -> joined (UNIX seconds)
    pauses: dict[str, str]  # interface -> pause reason
    names: dict[str, str]  # interface -> member name
    emergencies: frozenset[str]  # "tenant/emergency"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _texts(mapping: Mapping[Any, Any]) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in mapping.items()}


def member_state(event: Event) -> str:
    """An agent's state from a QueueMember* event (pure)."""
    if event.get("Paused") == "1":
        return "paused"
    status = event.get("Status", "0")
    if status in _GONE:
        return "unavailable"
    if status in _TALKING or event.get("InCall") == "1":
        return "talking"
    if status == "6":
        return "ringing"
    return "available"


class LiveState:
    def __init__(self, client: redis.Redis, prefix: str = PREFIX) -> None:
        self.redis = client
        self.prefix = prefix

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    # -- written from AMI events ------------------------------------------------

    def apply(self, event: Event, now: float) -> None:
        name, queue = event.get("Event", ""), event.get("Queue", "")
        if not queue:
            return
        interface = event.get("Interface") or event.get("StateInterface", "")
        pipe = self.redis.pipeline(transaction=False)
        if name in ("QueueMemberStatus", "QueueMemberAdded", "QueueMemberPause", "QueueMember") and interface:
            pipe.hset(self._key("members", queue), interface, member_state(event))
            self._member_details(pipe, interface, event)
        elif name == "QueueMemberRemoved" and interface:
            pipe.hdel(self._key("members", queue), interface)
        elif name == "QueueCallerJoin":
            pipe.hset(self._key("waiting", queue), event["Uniqueid"], str(now))
        elif name in ("QueueCallerLeave", "QueueCallerAbandon"):
            pipe.hdel(self._key("waiting", queue), event.get("Uniqueid", ""))
        else:
            return
        pipe.publish(self._key("changed"), repr(now))
        pipe.execute()

    def _member_details(self, pipe: Any, interface: str, event: Event) -> None:
        name = event.get("MemberName") or event.get("Name")  # QueueStatus' QueueMember says Name
        if name:
            pipe.hset(self._key("names"), interface, name)
        if event.get("Paused") == "1":
            pipe.hset(self._key("pauses"), interface, event.get("PausedReason", "") or event.get("Reason", ""))
        elif event.get("Paused") == "0":
            pipe.hdel(self._key("pauses"), interface)

    def rebuild(self, queues: Iterable[str], status_events: Iterable[Event], now: float) -> None:
        """Replace the queues' state with a QueueStatus answer (QueueMember and QueueEntry events)."""
        members: dict[str, dict[str, str]] = {q: {} for q in queues}
        waiting: dict[str, dict[str, str]] = {q: {} for q in queues}
        for event in status_events:
            queue = event.get("Queue", "")
            if event.get("Event") == "QueueMember" and queue in members:
                members[queue][event.get("StateInterface") or event.get("Location", "")] = member_state(event)
            elif event.get("Event") == "QueueEntry" and queue in waiting:
                waiting[queue][event.get("Uniqueid", "")] = str(now - float(event.get("Wait", "0")))
        pipe = self.redis.pipeline()
        for queue, queue_members in members.items():
            for kind, values in (("members", queue_members), ("waiting", waiting[queue])):
                pipe.delete(self._key(kind, queue))
                if values:
                    pipe.hset(self._key(kind, queue), mapping=cast(Any, values))  # redis' stubs want a wider key type
        pipe.delete(self._key("pauses"))
        for event in status_events:
            if event.get("Event") == "QueueMember" and event.get("Queue", "") in members:
                self._member_details(pipe, event.get("StateInterface") or event.get("Location", ""), event)
        pipe.publish(self._key("changed"), repr(now))
        pipe.execute()

    def member_states(self, queues: Iterable[str]) -> dict[str, dict[str, int]]:
        """Queue -> state -> number of agents (for the Prometheus gauges)."""
        names = list(queues)
        pipe = self.redis.pipeline()
        for queue in names:
            pipe.hvals(self._key("members", queue))
        counts: dict[str, dict[str, int]] = {}
        for queue, states in zip(names, pipe.execute(), strict=True):
            per_state: dict[str, int] = {}
            for state in states:
                name = _text(state)
                per_state[name] = per_state.get(name, 0) + 1
            counts[queue] = per_state
        return counts

    # -- the emergency switch -----------------------------------------------------

    def switch(self, tenant: str, emergency: str, on: bool) -> None:
        key, value = self._key("emergencies"), f"{tenant}/{emergency}"
        pipe = self.redis.pipeline()
        if on:
            pipe.sadd(key, value)
        else:
            pipe.srem(key, value)
        pipe.publish(self._key("changed"), repr(time.time()))
        pipe.execute()

    def emergencies(self) -> set[str]:
        return {_text(v) for v in self.redis.smembers(self._key("emergencies"))}

    # -- read by the wallboard ------------------------------------------------------

    def snapshot(self, queues: Iterable[str]) -> Snapshot:
        """Everything the wallboard shows, read in one round trip."""
        names = list(queues)
        pipe = self.redis.pipeline()
        for queue in names:
            pipe.hgetall(self._key("members", queue))
            pipe.hgetall(self._key("waiting", queue))
        pipe.hgetall(self._key("pauses"))
        pipe.hgetall(self._key("names"))
        pipe.smembers(self._key("emergencies"))
        replies = pipe.execute()
        members = {q: _texts(replies[2 * i]) for i, q in enumerate(names)}
        waiting = {q: {uid: float(t) for uid, t in _texts(replies[2 * i + 1]).items()} for i, q in enumerate(names)}
        switched = {_text(v) for v in replies[-1]}
        return Snapshot(members, waiting, _texts(replies[-3]), _texts(replies[-2]), frozenset(switched))

    # -- read by the routing engine -----------------------------------------------

    def live(self, queues: Iterable[str]) -> Live:
        names = list(queues)
        pipe = self.redis.pipeline()
        for queue in names:
            pipe.hvals(self._key("members", queue))
            pipe.hlen(self._key("waiting", queue))
        pipe.smembers(self._key("emergencies"))
        replies = pipe.execute()
        agents: dict[str, int] = {}
        waiting: dict[str, int] = {}
        for index, queue in enumerate(names):
            states = [_text(s) for s in replies[2 * index]]
            if states:  # a queue with no members in Redis is unknown, not empty
                agents[queue] = sum(1 for s in states if s != "unavailable")
            waiting[queue] = int(replies[2 * index + 1])
        switched = {_text(v) for v in replies[-1]}
        pairs = frozenset(tuple(v.split("/", 1)) for v in switched if "/" in v)
        return Live(agents=agents, waiting=waiting, emergencies=cast(frozenset[tuple[str, str]], pairs))
