"""Live state of the center in Redis, shared by every lotse process.

Keys (prefix ``lotse:``):
- ``members:<queue>``: hash interface -> available | ringing | talking | paused | unavailable
- ``waiting:<queue>``: hash caller channel unique id -> time it joined (UNIX seconds)
- ``emergencies``: set of "tenant/emergency" switched on

Writes are idempotent (the same AMI event from two lotse instances leaves the
same state); ``rebuild`` replaces the queues' state from a QueueStatus answer
after a (re)connect. Reads give the routing engine its Live facts; a queue
Redis knows nothing about stays unknown, so it never causes an overflow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

import redis

from routing.engine import Live

Event = Mapping[str, str]
PREFIX = "lotse"
_TALKING = {"2", "3", "7", "8"}  # device states INUSE, BUSY, RINGINUSE, ONHOLD
_GONE = {"4", "5"}  # INVALID, UNAVAILABLE: not logged in


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
        if name in ("QueueMemberStatus", "QueueMemberAdded", "QueueMemberPause", "QueueMember") and interface:
            self.redis.hset(self._key("members", queue), interface, member_state(event))
        elif name == "QueueMemberRemoved" and interface:
            self.redis.hdel(self._key("members", queue), interface)
        elif name == "QueueCallerJoin":
            self.redis.hset(self._key("waiting", queue), event["Uniqueid"], str(now))
        elif name in ("QueueCallerLeave", "QueueCallerAbandon"):
            self.redis.hdel(self._key("waiting", queue), event.get("Uniqueid", ""))

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
                name = state.decode() if isinstance(state, bytes) else state
                per_state[name] = per_state.get(name, 0) + 1
            counts[queue] = per_state
        return counts

    # -- the emergency switch -----------------------------------------------------

    def switch(self, tenant: str, emergency: str, on: bool) -> None:
        key, value = self._key("emergencies"), f"{tenant}/{emergency}"
        if on:
            self.redis.sadd(key, value)
        else:
            self.redis.srem(key, value)

    def emergencies(self) -> set[str]:
        return {v.decode() if isinstance(v, bytes) else str(v) for v in self.redis.smembers(self._key("emergencies"))}

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
            states = [s.decode() if isinstance(s, bytes) else s for s in replies[2 * index]]
            if states:  # a queue with no members in Redis is unknown, not empty
                agents[queue] = sum(1 for s in states if s != "unavailable")
            waiting[queue] = int(replies[2 * index + 1])
        switched = {v.decode() if isinstance(v, bytes) else v for v in replies[-1]}
        pairs = frozenset(tuple(v.split("/", 1)) for v in switched if "/" in v)
        return Live(agents=agents, waiting=waiting, emergencies=cast(frozenset[tuple[str, str]], pairs))
