"""``lotse metrics``: follow Asterisk's AMI events and write one record per call.

One lifecycle object: ``start`` connects (panoramisk reconnects by itself
after a lost link; then the calls that ended in the gap are completed from
Asterisk's queue_log, see metrics.reconcile), ``close`` writes what is pending. Records are written in
a worker thread so the event loop never waits for SQL; when the database is
unreachable they stay in memory and are retried every few seconds (fail
open: the telephony is never affected, the figures are completed later).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from panoramisk import Manager

from metrics.exporter import Exporter
from metrics.live import LiveState
from metrics.queue_log import QueueCall, parse
from metrics.reconcile import reconcile
from metrics.records import CallRecord
from metrics.store import Store
from metrics.tracker import Privacy, Tracker

log = logging.getLogger("lotse.metrics")
RETRY_SECONDS = 5.0
PURGE_EVERY = 3600  # seconds between retention purges (the first right after start)


@dataclass(frozen=True)
class AmiSettings:
    host: str = "127.0.0.1"
    port: int = 5038
    user: str = "lotse"
    secret: str = ""
    reconnect_seconds: int = 2


class MetricsListener:
    def __init__(
        self,
        ami: AmiSettings,
        store: Store,
        privacy: Privacy = Privacy.TRUNCATED,
        salt: str = "",
        exporter: Exporter | None = None,
        live: LiveState | None = None,
        queues: tuple[str, ...] = (),
        queue_log: Path | None = None,
        retention_days: int | None = None,
    ) -> None:
        self.ami = ami
        self.store = store
        self.exporter = exporter
        self.live = live  # shared state in Redis, rebuilt from QueueStatus on every (re)connect
        self.queues = queues
        self.queue_log = queue_log  # Asterisk's queue_log, to complete the records after a gap in the link
        self.logins = 0
        self.started = time.time()  # calls queued before this are not this listener's to complete
        self.last_event = time.time()
        self.recent: deque[str] = deque(maxlen=20000)  # unique ids written lately, not to write twice
        self.reconciled = 0
        self.retention_days = retention_days  # records older than this are deleted every hour (DSGVO)
        self.purged = 0
        self.tracker = Tracker(privacy, salt)
        self.pending: list[CallRecord] = []
        self.written = 0
        self._manager: Manager | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._writing = asyncio.Lock()

    async def start(self) -> None:
        self.started = time.time()
        self._manager = Manager(
            host=self.ami.host,
            port=self.ami.port,
            username=self.ami.user,
            secret=self.ami.secret,
            ping_delay=10,
            reconnect_timeout=self.ami.reconnect_seconds,
        )
        self._manager.register_event("*", self._on_event)
        self._manager.register_event("FullyBooted", self._on_connect)  # sent after every (re)login
        await self._manager.connect()
        self._flusher = asyncio.create_task(self._retry_forever())
        log.info("following AMI on %s:%d as %s", self.ami.host, self.ami.port, self.ami.user)

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
        if self._manager is not None:
            self._manager.close()
        await self.flush()
        if self.pending:
            log.error("%d call record(s) could not be written before shutdown", len(self.pending))

    def health(self) -> dict[str, object]:
        return {
            "calls_in_progress": len(self.tracker.calls),
            "records_pending": len(self.pending),
            "records_written": self.written,
            "events_skipped": self.tracker.skipped,
        }

    async def _on_connect(self, manager: Manager, message: Any) -> None:
        self.logins += 1
        if self.logins > 1:
            await self._reconcile(manager, gap_start=self.last_event)
        if self.live is None:
            return
        answer = await manager.send_action({"Action": "QueueStatus"})
        events = [_flat(m) for m in (answer if isinstance(answer, list) else [answer])]
        try:
            await asyncio.to_thread(self.live.rebuild, self.queues, events, time.time())
            log.info("live state rebuilt from QueueStatus (%d entries)", len(events))
        except Exception as exc:  # fail open: the live state catches up with the next events
            log.warning("could not rebuild the live state: %s", exc)

    async def _export_agents(self) -> None:
        assert self.exporter is not None and self.live is not None
        try:
            states = await asyncio.to_thread(self.live.member_states, self.queues)
        except Exception as exc:  # fail open: the gauges keep their last values
            log.debug("agent states not read from Redis: %s", exc)
            return
        self.exporter.update_agents(states)

    async def _reconcile(self, manager: Manager, gap_start: float) -> None:
        """After a reconnect: finish the calls that ended unseen, add those queued inside the gap."""
        answer = await manager.send_action({"Action": "CoreShowChannels"})
        alive = {_flat(m).get("Uniqueid", "") for m in (answer if isinstance(answer, list) else [answer])}
        entries = await asyncio.to_thread(self._read_queue_log, max(gap_start - 60, self.started), set(self.tracker.calls))
        records = reconcile(self.tracker, alive, entries, self.recent, time.time())
        self.reconciled += len(records)
        log.warning("AMI link was down since %.0f: %d call record(s) completed from queue_log", gap_start, len(records))
        for record in records:
            self._done(record)
        await self.flush()

    def _read_queue_log(self, since: float, open_calls: set[str]) -> dict[str, QueueCall]:
        """queue_log entries of the calls in progress, and of calls that entered a queue since ``since``."""
        if self.queue_log is None:
            return {}
        try:
            lines = self.queue_log.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as exc:
            log.warning("cannot read %s to complete the records: %s", self.queue_log, exc)
            return {}
        started = self.started
        calls = parse(line for line in lines if line[:10].isdigit() and int(line.split("|", 1)[0]) >= started).calls
        return {uid: call for uid, call in calls.items() if uid in open_calls or (call.entered is not None and call.entered >= since)}

    def _done(self, record: CallRecord) -> None:
        if self.exporter is not None:
            self.exporter.observe(record)
        self.recent.append(record.uniqueid)
        self.pending.append(record)

    async def _on_event(self, manager: Manager, message: Any) -> None:
        event = _flat(message)
        now = time.time()
        self.last_event = now
        if self.live is not None and event.get("Event", "").startswith("Queue"):
            try:
                await asyncio.to_thread(self.live.apply, event, now)
            except Exception as exc:  # fail open: records and routing go on without the live state
                log.warning("live state not updated: %s", exc)
        record = self.tracker.feed(event, now)
        if record is not None:
            self._done(record)
            await self.flush()

    async def flush(self) -> None:
        async with self._writing:
            if not self.pending:
                return
            batch, self.pending = self.pending, []
            try:
                self.written += await asyncio.to_thread(self.store.write, batch)
            except Exception as exc:  # fail open: keep the records and try again
                self.pending = batch + self.pending
                log.warning("could not write %d record(s), retrying in %.0f s: %s", len(batch), RETRY_SECONDS, exc)

    async def _retry_forever(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(1.0)
            if self.exporter is not None:
                self.exporter.update_live(self.tracker)
                if self.live is not None and ticks % 5 == 0:
                    await self._export_agents()
            ticks += 1
            if ticks % int(RETRY_SECONDS) == 0:
                await self.flush()
            if self.retention_days and ticks % PURGE_EVERY == 1:
                await self.purge()

    async def purge(self) -> None:
        """Delete records older than the retention period; a failure is retried at the next hour."""
        assert self.retention_days
        try:
            deleted = await asyncio.to_thread(self.store.purge, time.time() - self.retention_days * 86400)
        except Exception as exc:  # fail open: the records stay until the next try
            log.warning("could not delete records older than %d days: %s", self.retention_days, exc)
            return
        self.purged += deleted
        if deleted:
            log.info("deleted %d call record(s) older than %d days", deleted, self.retention_days)


def _flat(message: Any) -> dict[str, str]:
    return {str(k): v if isinstance(v, str) else ",".join(map(str, v)) for k, v in dict(message).items()}
