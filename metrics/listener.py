"""``lotse metrics``: follow Asterisk's AMI events and write one record per call.

One lifecycle object (``start``, ``close``, ``health``) with three workers:
- the AMI link (pbx.ami) feeds every event to the tracker first, in the order
  Asterisk sent them; Queue* events then go, in the same order, to the live state in
  Redis (metrics.live_feed), so that Redis never changes what is recorded;
- the writer takes finished records from the disk spool (metrics.spool) to the
  database; when the database is down it retries with increasing backoff, and a
  record the database refuses is set aside, never retried;
- the ticker updates the gauges, remembers the time of the last event on disk, and
  purges old records.
After every login, start-up included, the calls that ended unseen are completed from
queue_log, and calls in progress that the tracker did not see begin are adopted from
Asterisk's channels (metrics.reconcile). Nothing here ever affects the telephony.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from panoramisk import Manager
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError

from metrics.dispositions import Desk, Disposition, by_tenant, save
from metrics.exporter import Exporter
from metrics.live_feed import LiveFeed
from metrics.queue_log import QueueCall, parse
from metrics.reconcile import adopt, reconcile
from metrics.records import CallRecord
from metrics.spool import Spool
from metrics.store import Store
from metrics.tracker import Privacy, Tracker, load_open_calls, save_open_calls
from pbx import actions, journal
from pbx.ami import AmiLink, AmiSettings, list_events
from pbx.throttle import Throttle
from stores.db import StoreError
from stores.live import LiveState

__all__ = ["AmiSettings", "ListenerSettings", "MetricsListener"]
log = logging.getLogger("lotse.metrics")
PURGE_EVERY = 3600  # seconds between retention purges (the first right after start)
BATCH = 500  # records per database transaction
RECENT = 20_000  # unique ids of the latest records kept, not to record a call twice
DOWN = (OperationalError, InterfaceError, DisconnectionError)  # the database is unreachable, not the record wrong


@dataclass(frozen=True)
class ListenerSettings:
    db_url: str
    spool: Path  # the spool file; the time of the last event is kept beside it
    privacy: Privacy = Privacy.TRUNCATED
    salt: str = ""
    queues: tuple[str, ...] = ()
    queue_log: Path | None = None  # Asterisk's queue_log, to complete the records after a gap
    journal: Path | None = None  # lotse serve's journal (pbx.journal): the calls of a gap that never queued
    retention_days: int | None = None  # records older than this are deleted every hour (DSGVO)
    first_retry: float = 1.0  # seconds before the database is tried again; doubled up to max_retry
    max_retry: float = 60.0


class MetricsListener:
    def __init__(self, ami: AmiSettings, settings: ListenerSettings, exporter: Exporter, live: LiveState | None = None) -> None:
        self.settings = settings
        self.exporter = exporter
        self.live = LiveFeed(live, settings.queues, exporter) if live is not None else None
        self.link = AmiLink(ami, self._on_event, self._on_login, self._connecting)
        self.tracker = Tracker(settings.privacy, settings.salt)
        self.spool = Spool(settings.spool)
        self.store: Store | None = None
        self.desk, self.dispositions = Desk(), list[Disposition]()  # agents' phone codes, until written
        self._opening: asyncio.Task[Store] | None = None
        self.db_up = False
        self.refusal: StoreError | None = None  # the database's schema is not this lotse's: the process must end
        self.refused = asyncio.Event()  # set with the refusal (runtime.metrics stops on it)
        self.started = time.time()
        self.last_event = 0.0
        self._gap_start = 0.0  # the last event before the current AMI session: recovery looks from here
        self._open_at_connect: set[str] = set()
        self._held: list[tuple[dict[str, str], float]] | None = None  # events of those calls while recovery runs
        self._recent: deque[str] = deque()  # unique ids recorded lately (oldest first), not to record twice
        self._recent_ids: set[str] = set()  # the same ids, for a look-up per finished call
        self.written = self.reconciled = self.adopted = self.purged = 0
        self._mark = settings.spool.with_suffix(".last-event")
        self._open_calls = settings.spool.with_suffix(".open")  # calls in progress at a stop, taken up at the next start
        self._wake = asyncio.Event()
        self._db_warnings = Throttle(log)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self.started = time.time()
        self.tracker.calls.update(load_open_calls(self._open_calls))
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._write_forever()), loop.create_task(self._tick_forever())]
        if self.live is not None:
            self._tasks.append(loop.create_task(self.live.run(lambda: self.link.manager)))
        self.link.start()
        log.info("following AMI on %s:%d as %s", self.link.settings.host, self.link.settings.port, self.link.settings.user)

    async def close(self) -> None:
        await self.link.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.flush()
        self._remember_last_event()
        save_open_calls(self._open_calls, self.tracker.calls.values())
        if self.spool:
            log.warning("%d call record(s) kept in %s for the next start", len(self.spool), self.spool.path)
        self.spool.close()
        if self.store is not None:
            self.store.close()

    def health(self) -> dict[str, object]:
        return {
            "ami": self.link.state,
            "database": "refused" if self.refusal else "up" if self.db_up else "down",
            "calls_in_progress": len(self.tracker.calls),
            "records_spooled": len(self.spool),
            "records_written": self.written,
            "records_rejected": self.spool.rejected,
            "records_reconciled": self.reconciled,
            "calls_adopted": self.adopted,
            "events_skipped": self.tracker.skipped,
            "last_event": self.last_event,
        }

    # -- AMI ------------------------------------------------------------------------

    def _on_event(self, event: dict[str, str]) -> None:
        """Synchronous on purpose: a coroutine per event would cost a task per event."""
        now = time.time()
        self.last_event = now
        if self._held is not None and event.get("Uniqueid") in self._open_at_connect:
            # a call of the gap whose hang-up comes while recovery still reads queue_log: finish it after that
            self._held.append((event, now))
            record = None
        else:
            record = self.tracker.feed(event, now)  # first, and in Asterisk's order: Redis never changes a record
        if self.live is not None and event.get("Event", "").startswith("Queue"):
            self.live.offer(event)
        if record is not None:
            self._done([record])
        disposition = self.desk.feed(event, now)
        if disposition is not None:
            self.dispositions.append(disposition)
            self._wake.set()

    async def _on_login(self, manager: Manager) -> None:
        """After every login, the first included: complete what the gap hid, then rebuild the live state."""
        try:
            await self._recover(manager)
        finally:
            held, self._held = self._held or [], None
            self._done([r for event, at in held if (r := self.tracker.feed(event, at)) is not None])
        if self.live is not None:
            await self.live.rebuild(manager)

    def _connecting(self) -> None:
        self._gap_start = self.last_event or self._remembered_last_event()
        self._open_at_connect = set(self.tracker.calls)  # what recovery may complete; later calls are seen live
        self._held = []

    async def _recover(self, manager: Manager) -> None:
        # From the last event seen (queue_log has whole seconds: 2 s earlier); calls that entered a queue before it
        # were seen then, and are open in the tracker or recorded. With none remembered (a first start): since start.
        gap_start = self._gap_start - 2 if self._gap_start else self.started
        channels = await list_events(manager, actions.core_show_channels())
        alive = {c.get("Uniqueid", "") for c in channels}
        open_calls = set(self.tracker.calls)
        entries = await asyncio.to_thread(self._read_queue_log, gap_start, open_calls | alive)
        decided = await asyncio.to_thread(journal.read, self.settings.journal, gap_start) if self.settings.journal else {}
        known = self._recent_ids | set(self.spool.records) | await self._stored_since(gap_start - 3600)
        records = reconcile(self.tracker, alive, entries, known, time.time(), self._open_at_connect, decided)
        adopted = adopt(self.tracker, channels, entries, time.time())
        self.reconciled += len(records)
        self.adopted += adopted
        if records or adopted:
            log.warning(
                "AMI events missed since %s: %d call record(s) completed from queue_log and the journal, %d call(s) in progress adopted",
                datetime.fromtimestamp(gap_start, self.exporter.center.tz).strftime("%Y-%m-%d %H:%M:%S"),  # the center's time
                len(records),
                adopted,
            )
        self._done(records)

    async def _stored_since(self, since: float) -> set[str]:
        if self.store is None:
            return set()
        try:
            return await asyncio.to_thread(self.store.uniqueids_since, since)
        except SQLAlchemyError:  # the spool and recent ids still guard against doubles; a double is replaced, not added
            return set()

    def _read_queue_log(self, since: float, calls: set[str]) -> dict[str, QueueCall]:
        """queue_log entries of the given calls, and of queued calls with a queue_log line since ``since``."""
        path = self.settings.queue_log
        if path is None:
            return {}
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as exc:
            log.warning("cannot read %s to complete the records: %s", path, exc)
            return {}
        found = parse(line for line in lines if line[:10].isdigit() and int(line.split("|", 1)[0]) >= since - 86400).calls
        # in progress, or active in the gap: a call that was in a queue before and ended in the gap counts too
        return {uid: call for uid, call in found.items() if uid in calls or (call.entered is not None and (call.last or 0) >= since)}

    # -- records ----------------------------------------------------------------------

    def _done(self, records: list[CallRecord]) -> None:
        fresh = [r for r in records if r.uniqueid not in self._recent_ids]
        if not fresh:
            return
        self.spool.add(fresh)  # on disk before anything else: a crash from here on loses nothing
        for record in fresh:
            self._remember(record.uniqueid)
            self.exporter.observe(record)
        self._wake.set()

    def _remember(self, uniqueid: str) -> None:
        self._recent.append(uniqueid)
        self._recent_ids.add(uniqueid)
        if len(self._recent) > RECENT:
            self._recent_ids.discard(self._recent.popleft())

    async def flush(self) -> bool:
        """Write what the spool holds; False when the database is unreachable."""
        if self.store is None and (self.refusal is not None or not await self._open_store()):
            return False
        assert self.store is not None
        while self.spool:
            batch = self.spool.batch(BATCH)
            try:
                self.written += await asyncio.to_thread(self.store.write, batch)
            except DOWN as exc:
                self._database(False, exc)
                return False
            except SQLAlchemyError:
                await self._write_one_by_one(batch)
                continue
            self.spool.done(r.uniqueid for r in batch)
            self._database(True)
        return await self._write_dispositions()

    async def _write_dispositions(self) -> bool:
        assert self.store is not None
        pending, self.dispositions = self.dispositions, []
        try:
            await asyncio.to_thread(save, self.store.engine, pending)
        except SQLAlchemyError as exc:
            self.dispositions = pending + self.dispositions  # kept in memory until the database is back
            self._database(False, exc)
            return False
        return True

    async def _write_one_by_one(self, batch: list[CallRecord]) -> None:
        """A batch was refused: write each record alone and set aside those the database refuses."""
        assert self.store is not None
        for record in batch:
            try:
                self.written += await asyncio.to_thread(self.store.write, [record])
            except DOWN as exc:
                self._database(False, exc)
                return
            except SQLAlchemyError as exc:
                self.spool.reject(record, str(exc).splitlines()[0])
                continue
            self.spool.done([record.uniqueid])

    async def _open_store(self) -> bool:
        # One opening at a time, shared by the writer and close(): cancelling a waiter must not leave a migration
        # running in its thread while another starts (alembic's context is global to the process).
        if self._opening is None or self._opening.done():
            self._opening = asyncio.get_running_loop().create_task(
                asyncio.to_thread(Store.open, self.settings.db_url, self.exporter.center.tz)
            )
        try:
            self.store = await asyncio.shield(self._opening)
        except SQLAlchemyError as exc:
            self._database(False, exc)
            return False
        except StoreError as exc:  # an older or newer schema: no retry helps; the records stay in the spool
            self.refusal = exc
            self.refused.set()
            return False
        self._database(True)
        await self._load_today()
        return True

    async def _load_today(self) -> None:
        """Today's gauges from the stored records, so that a restart does not start them from zero."""
        assert self.store is not None
        start, end = self.exporter.today_span(time.time())
        try:
            records = await asyncio.to_thread(lambda: list(self.store.between(start, end)) if self.store else [])
        except SQLAlchemyError as exc:
            log.warning("today's figures not read from the database: %s", exc)
            return
        self.exporter.load_today(records)

    def _database(self, up: bool, exc: Exception | None = None) -> None:
        if up and not self.db_up:
            log.info("database reachable; %d record(s) in the spool", len(self.spool))
        elif not up:
            why = str(exc).splitlines()[0] if exc is not None else "unreachable"
            self._db_warnings.warning(time.monotonic(), "database unreachable, records stay in %s: %s", self.spool.path, why)
        self.db_up = up

    async def _write_forever(self) -> None:
        delay = self.settings.first_retry
        while self.refusal is None:
            self._wake.clear()  # before the flush: a record or disposition that comes during it wakes the next one
            if await self.flush():
                delay = self.settings.first_retry
                await self._wake.wait()
            else:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.max_retry)

    # -- ticker -------------------------------------------------------------------------

    async def _tick_forever(self) -> None:
        ticks = 0
        while True:
            self.exporter.update_live(self.tracker)
            self.exporter.update_health(self.link.up, self.db_up, self.last_event, len(self.spool), self.spool.rejected)
            if self.live is not None and ticks % 5 == 0:
                await self.live.beat(self.link.up)
                await self.live.export_agents()
            self.spool.sync()  # to disk at least once a second (each record reaches the OS at once)
            if ticks % 10 == 0:
                self._remember_last_event()
            if ticks % 30 == 2 and self.store is not None:
                await self._export_resolution()
            if self.settings.retention_days and ticks % PURGE_EVERY == 1:
                await self.purge()
            ticks += 1
            await asyncio.sleep(1.0)

    async def _export_resolution(self) -> None:
        assert self.store is not None
        start, end = self.exporter.today_span(time.time())
        try:
            self.exporter.update_resolution(await asyncio.to_thread(by_tenant, self.store.engine, start, end))
        except SQLAlchemyError as exc:  # the records' writer reports the database's state; the gauge keeps its value
            log.debug("first-contact resolution not read: %s", exc)

    def _remember_last_event(self) -> None:
        if self.last_event:
            self._mark.write_text(f"{self.last_event:.3f}\n", encoding="utf-8")

    def _remembered_last_event(self) -> float:
        try:
            return float(self._mark.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return 0.0

    async def purge(self) -> None:
        """Delete records older than the retention period; a failure is retried at the next hour."""
        days = self.settings.retention_days
        assert days
        if self.store is None:
            return
        try:
            deleted = await asyncio.to_thread(self.store.purge, time.time() - days * 86400)
        except SQLAlchemyError as exc:  # fail open: the records stay until the next try
            log.warning("could not delete records older than %d days: %s", days, exc)
            return
        self.purged += deleted
        if deleted:
            log.info("deleted %d call record(s) older than %d days", deleted, days)
