"""Live state of the center in Redis, shared by every lotse process and by the nodes of a two-node center.

Keys (prefix ``lotse:``); a field named ``<node>|<id>`` belongs to the node whose lotse metrics wrote it:
- ``members:<queue>``: hash node|interface -> available | ringing | talking | paused | unavailable
- ``waiting:<queue>``: hash node|caller channel unique id -> time it joined (UNIX seconds)
- ``pauses``: hash node|interface -> the reason of a paused agent (PausedReason)
- ``nodes``: hash node -> when its lotse metrics last wrote or said it follows its Asterisk (UNIX seconds)
- ``emergencies``: set of "tenant/emergency" switched on (one switch for every node)
- ``names``: hash interface -> the member's name (MemberName)

Every change is announced on the channel ``lotse:changed`` (its message: the
time of the event), so that the wallboard redraws at once instead of polling.

Writes are idempotent (the same AMI event from two lotse instances of one node leaves the
same state); ``rebuild`` replaces one node's entries from its Asterisk's QueueStatus answer
after a (re)connect and leaves the other node's alone. Readers take the nodes heard of within
``STALE_AFTER`` seconds, so a node whose Asterisk or lotse metrics died drops out of the wallboard
and the routing's facts instead of showing its callers for ever. Reads give the routing engine its
Live facts, summed over the nodes; a queue Redis knows nothing about stays unknown, so it never
causes an overflow.
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
STALE_AFTER = 30.0  # seconds without a word from a node's lotse metrics (it says so every 5 s) before readers leave it out
_TALKING = {"2", "3", "7", "8"}  # device states INUSE, BUSY, RINGINUSE, ONHOLD
_GONE = {"4", "5"}  # INVALID, UNAVAILABLE: not logged in
_RANK = {"talking": 4, "ringing": 3, "available": 2, "paused": 1, "unavailable": 0}  # one agent on two nodes


@dataclass(frozen=True)
class Snapshot:
    """The live state as the wallboard reads it, both nodes together."""

    members: dict[str, dict[str, str]]  # queue -> interface -> state
    waiting: dict[str, dict[str, float]]  # queue -> caller unique id -> joined (UNIX seconds)
    pauses: dict[str, str]  # interface -> pause reason
    names: dict[str, str]  # interface -> member name
    emergencies: frozenset[str]  # "tenant/emergency"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _texts(mapping: Mapping[Any, Any]) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in mapping.items()}


def _of_nodes(mapping: Mapping[Any, Any], nodes: set[str]) -> dict[str, str]:
    """The fields of the nodes given, without their node (pure); fields of other nodes, or of none, are left out."""
    found: dict[str, str] = {}
    for field, value in _texts(mapping).items():
        node, sep, name = field.partition("|")
        if sep and node in nodes:
            found[name] = value
    return found


def _members_of_nodes(mapping: Mapping[Any, Any], nodes: set[str]) -> dict[str, str]:
    """Interface -> state over the nodes; an agent in the queue on both nodes counts once, at its busiest."""
    found: dict[str, str] = {}
    for field, state in _texts(mapping).items():
        node, sep, interface = field.partition("|")
        if sep and node in nodes and _RANK.get(state, 0) >= _RANK.get(found.get(interface, "unavailable"), 0):
            found[interface] = state
    return found


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
    """One node's writer (``node``: its name, the same for its lotse metrics processes) and every node's reader."""

    def __init__(self, client: redis.Redis, prefix: str = PREFIX, node: str = "") -> None:
        if "|" in node:
            raise ValueError(f"a node's name must not contain '|': {node!r}")
        self.redis = client
        self.prefix = prefix
        self.node = node

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def _mine(self, name: str) -> str:
        return f"{self.node}|{name}"

    # -- written from AMI events ------------------------------------------------

    def apply(self, event: Event, now: float) -> None:
        name, queue = event.get("Event", ""), event.get("Queue", "")
        if not queue:
            return
        interface = event.get("Interface") or event.get("StateInterface", "")
        pipe = self.redis.pipeline(transaction=False)
        if name in ("QueueMemberStatus", "QueueMemberAdded", "QueueMemberPause", "QueueMember") and interface:
            pipe.hset(self._key("members", queue), self._mine(interface), member_state(event))
            self._member_details(pipe, interface, event)
        elif name == "QueueMemberRemoved" and interface:
            pipe.hdel(self._key("members", queue), self._mine(interface))
        elif name == "QueueCallerJoin":
            pipe.hset(self._key("waiting", queue), self._mine(event["Uniqueid"]), str(now))
        elif name in ("QueueCallerLeave", "QueueCallerAbandon"):
            pipe.hdel(self._key("waiting", queue), self._mine(event.get("Uniqueid", "")))
        else:
            return
        pipe.hset(self._key("nodes"), self.node, repr(now))
        pipe.publish(self._key("changed"), repr(now))
        pipe.execute()

    def beat(self, now: float) -> None:
        """This node's lotse metrics follows its Asterisk: its entries stay in the readers' view."""
        self.redis.hset(self._key("nodes"), self.node, repr(now))

    def leave(self, now: float) -> None:
        """This node's entries leave the readers' view at once (its AMI link is down: they may be gone)."""
        pipe = self.redis.pipeline()
        pipe.hdel(self._key("nodes"), self.node)
        pipe.publish(self._key("changed"), repr(now))
        pipe.execute()

    def _member_details(self, pipe: Any, interface: str, event: Event) -> None:
        name = event.get("MemberName") or event.get("Name")  # QueueStatus' QueueMember says Name
        if name:
            pipe.hset(self._key("names"), interface, name)
        if event.get("Paused") == "1":
            pipe.hset(self._key("pauses"), self._mine(interface), event.get("PausedReason", "") or event.get("Reason", ""))
        elif event.get("Paused") == "0":
            pipe.hdel(self._key("pauses"), self._mine(interface))

    def rebuild(self, queues: Iterable[str], status_events: Iterable[Event], now: float) -> None:
        """Replace this node's state with its Asterisk's QueueStatus answer (QueueMember and QueueEntry events)."""
        events = list(status_events)
        members: dict[str, dict[str, str]] = {q: {} for q in queues}
        waiting: dict[str, dict[str, str]] = {q: {} for q in queues}
        for event in events:
            queue = event.get("Queue", "")
            if event.get("Event") == "QueueMember" and queue in members:
                interface = event.get("StateInterface") or event.get("Location", "")
                members[queue][self._mine(interface)] = member_state(event)
            elif event.get("Event") == "QueueEntry" and queue in waiting:
                waiting[queue][self._mine(event.get("Uniqueid", ""))] = str(now - float(event.get("Wait", "0")))
        hashes = [(self._key("members", q), members[q]) for q in members] + [(self._key("waiting", q), waiting[q]) for q in waiting]
        old = self._own_fields([key for key, _ in hashes] + [self._key("pauses")])
        pipe = self.redis.pipeline()
        for key, fields in old.items():
            pipe.hdel(key, *fields)
        for key, values in hashes:
            if values:
                pipe.hset(key, mapping=cast(Any, values))  # redis' stubs want a wider key type
        for event in events:
            if event.get("Event") == "QueueMember" and event.get("Queue", "") in members:
                self._member_details(pipe, event.get("StateInterface") or event.get("Location", ""), event)
        pipe.hset(self._key("nodes"), self.node, repr(now))
        pipe.publish(self._key("changed"), repr(now))
        pipe.execute()

    def _own_fields(self, keys: list[str]) -> dict[str, list[str]]:
        """Key -> this node's fields in it, and fields of no node (written before lotse kept nodes apart)."""
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.hkeys(key)
        found: dict[str, list[str]] = {}
        for key, fields in zip(keys, pipe.execute(), strict=True):
            own = [f for f in map(_text, fields) if f.startswith(self.node + "|") or "|" not in f]
            if own:
                found[key] = own
        return found

    def nodes(self, now: float) -> set[str]:
        """The nodes heard of within STALE_AFTER seconds."""
        return _fresh(self.redis.hgetall(self._key("nodes")), now)

    def member_states(self, queues: Iterable[str], now: float | None = None) -> dict[str, dict[str, int]]:
        """Queue -> state -> number of agents (for the Prometheus gauges), both nodes together."""
        snapshot = self._read(list(queues), time.time() if now is None else now, details=False)
        counts: dict[str, dict[str, int]] = {}
        for queue, members in snapshot.members.items():
            per_state: dict[str, int] = {}
            for state in members.values():
                per_state[state] = per_state.get(state, 0) + 1
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

    def snapshot(self, queues: Iterable[str], now: float | None = None) -> Snapshot:
        """Everything the wallboard shows, of the nodes heard of lately, read in one round trip."""
        return self._read(list(queues), time.time() if now is None else now, details=True)

    def _read(self, names: list[str], now: float, details: bool) -> Snapshot:
        """The queues' members and callers of the nodes heard of lately, the emergency lines and (``details``, for
        the pages; lotse serve's routing needs neither) the pauses and names: one round trip."""
        pipe = self.redis.pipeline()
        for queue in names:
            pipe.hgetall(self._key("members", queue))
            pipe.hgetall(self._key("waiting", queue))
        for key in ("pauses", "names") if details else ():
            pipe.hgetall(self._key(key))
        pipe.hgetall(self._key("nodes"))
        pipe.smembers(self._key("emergencies"))
        replies = pipe.execute()
        nodes = _fresh(replies[-2], now)
        members = {q: _members_of_nodes(replies[2 * i], nodes) for i, q in enumerate(names)}
        waiting = {q: {uid: float(t) for uid, t in _of_nodes(replies[2 * i + 1], nodes).items()} for i, q in enumerate(names)}
        switched = frozenset(_text(v) for v in replies[-1])
        pauses, shown = (_of_nodes(replies[-4], nodes), _texts(replies[-3])) if details else ({}, {})
        return Snapshot(members, waiting, pauses, shown, switched)

    # -- read by the routing engine -----------------------------------------------

    def live(self, queues: Iterable[str], now: float | None = None) -> Live:
        """The routing's facts, summed over the nodes heard of lately."""
        snapshot = self._read(list(queues), time.time() if now is None else now, details=False)
        agents = {q: sum(1 for s in m.values() if s != "unavailable") for q, m in snapshot.members.items() if m}
        waiting = {q: len(w) for q, w in snapshot.waiting.items()}  # a queue with no members in Redis is unknown
        pairs = frozenset(tuple(v.split("/", 1)) for v in snapshot.emergencies if "/" in v)
        return Live(agents=agents, waiting=waiting, emergencies=cast(frozenset[tuple[str, str]], pairs))


def _fresh(nodes: Mapping[Any, Any], now: float) -> set[str]:
    """The nodes whose last word is at most STALE_AFTER seconds old (pure)."""
    return {node for node, seen in _texts(nodes).items() if now - float(seen) <= STALE_AFTER}
