"""The live state in Redis as ``lotse metrics`` keeps it: Asterisk's Queue* events, applied in their order.

The listener hands each Queue* event to ``offer`` after the tracker has recorded it, so Redis
(healthy, refused or hanging) never changes what is recorded. The events wait in a bounded
queue; beyond it they are dropped and the state is marked stale. A stale state, and the
state after every AMI login, is rebuilt from QueueStatus. Redis failing is logged (once a
minute) and never stops the records or the routing: fail open.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import redis
from panoramisk import Manager

from metrics.exporter import Exporter
from pbx import actions
from pbx.ami import Event, list_events
from pbx.throttle import Throttle, reason
from stores.live import LiveState

log = logging.getLogger("lotse.metrics")
LIVE_BACKLOG = 10_000  # Queue* events waiting for Redis; beyond, they are dropped and the state is rebuilt


class LiveFeed:
    def __init__(self, live: LiveState, queues: tuple[str, ...], exporter: Exporter) -> None:
        self.live = live
        self.queues = queues
        self.exporter = exporter
        self.dropped = 0  # events not applied because the backlog was full
        self.stale = False  # Redis missed an event: rebuild from QueueStatus at the next chance
        self._events: asyncio.Queue[Event] = asyncio.Queue(LIVE_BACKLOG)
        self._warnings = Throttle(log)
        self._following = False  # this node's entries were last said to be current

    def offer(self, event: Event) -> None:
        """Queue a Queue* event for Redis without waiting; a full backlog drops it and marks the state stale."""
        try:
            self._events.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1
            self.stale = True

    async def run(self, manager: Callable[[], Manager | None]) -> None:
        """Apply the events for ever; after a failure, rebuild once the AMI link (``manager()``) is up."""
        while True:
            event = await self._events.get()
            try:
                await asyncio.to_thread(self.live.apply, event, time.time())
            except (redis.RedisError, OSError) as exc:  # fail open: records and routing go on without the live state
                self.stale = True
                self._warnings.warning(time.monotonic(), "live state in Redis not updated: %s", reason(exc))
                continue
            if self.stale and (current := manager()) is not None:
                await self.rebuild(current)

    async def rebuild(self, manager: Manager) -> None:
        """The whole state anew from Asterisk's QueueStatus."""
        events = await list_events(manager, actions.queue_status())
        try:
            await asyncio.to_thread(self.live.rebuild, self.queues, events, time.time())
        except (redis.RedisError, OSError) as exc:  # fail open: the live state catches up with the next events
            self.stale = True
            self._warnings.warning(time.monotonic(), "live state not rebuilt in Redis: %s", reason(exc))
            return
        self.stale = False
        log.info("live state rebuilt from QueueStatus (%d entries)", len(events))

    async def beat(self, following: bool) -> None:
        """Tell the readers whether this node's entries are current: while the AMI link is up they are; when it
        drops they leave the wallboard and the routing's facts at once (the Asterisk may be gone with its callers)."""
        try:
            if following:
                await asyncio.to_thread(self.live.beat, time.time())
            elif self._following:
                await asyncio.to_thread(self.live.leave, time.time())
        except (redis.RedisError, OSError) as exc:
            self._warnings.warning(time.monotonic(), "live state in Redis not updated: %s", reason(exc))
            return
        self._following = following

    async def export_agents(self) -> None:
        """The agents' state gauges from Redis; on failure they keep their last values."""
        try:
            states = await asyncio.to_thread(self.live.member_states, self.queues)
        except (redis.RedisError, OSError) as exc:
            log.debug("agent states not read from Redis: %s", exc)
            return
        self.exporter.update_agents(states)
