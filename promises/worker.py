"""``lotse promises``: takes the requests the dialplan leaves, calls callers back, keeps tickets.

One service, one lifecycle (``start``, ``close``, ``health``): it owns an AMI link
for actions (QueueStatus, Originate), the promise tables and four loops, each on its
own (a slow mail server holds no callback back, a slow Asterisk no mail):

1. ``spool``: takes the request files of the spool (callbacks and tickets), each once
   (the file is deleted only after the database has the request), and the result files
   of callback attempts (Dial's DIALSTATUS): reached, an attempt later (minutes apart,
   in opening hours) or, after the last, a ticket;
2. ``dial``: starts the callbacks that the rules of routing.promises allow (promises.dialling):
   an Originate of a Local channel that waits in the queue ahead of later callers;
   when an agent answers (and hears "Rückruf", tenant, topic), the dialplan dials the caller;
3. ``mail``: tells departments of new tickets and reminds them before the due time (promises.posting);
4. ``batches``: delivers the message intakes' batches (promises.posting).

Each loop runs a round a second (``interval``) or when woken (a request's UserEvent);
``round()`` runs one of each, in this order (the tests drive it).

An attempt is marked in the database before it is originated, and ends only by
its result file, or when its own Asterisk no longer has its channel (promises.dialling):
a restart of lotse or Asterisk never starts one callback twice. Each mail is sent
once (promises.outbox).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from panoramisk import Manager
from sqlalchemy.exc import SQLAlchemyError

from pbx import contract as c
from pbx.ami import AmiLink, AmiSettings, Event
from pbx.throttle import Throttle
from promises import api as ticket_api
from promises.dialling import RETRY_NO_AGENT, Dialler
from promises.inbox import REJECTED, Inbox, RefusedError
from promises.lease import Lease, presence
from promises.mail import Mailer
from promises.outage import Database
from promises.outbox import Outbox
from promises.posting import Post
from promises.store import Promises, Request
from routing.loader import load_or_raise
from routing.model import Center
from routing.promises import due, due_hours, next_attempt, ticket_schedule

log = logging.getLogger("lotse.promises")
LOOPS = ("spool", "dial", "mail", "batches")


@dataclass(frozen=True)
class KeeperSettings:
    config: Path
    db_url: str
    spool: Path  # the dialplan's spool folder as this host sees it (RenderOptions.spool)
    ami: AmiSettings = field(default_factory=AmiSettings)
    mailer: Mailer | None = None
    prompts: str = ""  # as Asterisk sees them; default: the config's prompts_dir
    interval: float = 1.0
    callback_wait: int = 600  # seconds a callback waits in the queue for an agent before it is tried again
    retention_days: int | None = None  # numbers of closed tickets and callbacks are blanked this many days after closing
    api: tuple[str, int] | None = None  # where the tickets' HTTP API listens (promises/api.py)
    node: str = ""  # this node's name in the leases (promises.lease); default: the host name


class Keeper:
    def __init__(self, settings: KeeperSettings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.center: Center = load_or_raise(settings.config)
        self.store: Promises | None = None
        self.link = AmiLink(settings.ami, self._event, self._login)
        self.rounds = 0  # of the spool loop
        self.last_round = 0.0  # when the loop that is longest in its round last ended one: a stuck loop is seen by its age
        self.ended: dict[str, float] = {}  # when each loop last ended a round (the clock's time)
        self.attempts: dict[str, int] = {}  # attempt results seen, by DIALSTATUS (for /metrics)
        self._wakes = {name: asyncio.Event() for name in LOOPS}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self.post = Post(self.center, self.config_at, settings.spool, settings.mailer)
        self.undelivered = self.post.undelivered  # messages of a due batch that could not be sent, by intake (for /metrics)
        self.node = settings.node or socket.gethostname()
        self.dialler = Dialler(self.center, self.config_at, settings.prompts, settings.callback_wait, self.node)
        self._purged = 0.0
        self.dialling: Lease | None = None  # with two nodes, only the holder dials (promises.lease); set at start
        self.mailing: Lease | None = None  # ... and only the holder mails
        self.presence: Lease | None = None  # held while this node's Asterisk answers: its attempts are its own to end
        self._lease_warnings = Throttle(log)
        self.api: ticket_api.Server | None = None
        self._api_task: asyncio.Task[None] | None = None
        self.requests = Inbox(settings.spool, c.SPOOL_REQUESTS, "request", self.center.tz)  # only complete regular files
        self.results = Inbox(settings.spool, c.SPOOL_RESULTS, "result", self.center.tz)
        self.database = Database()  # whether the database answered the last round (promises.outage)

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self, rounds: bool = True) -> None:
        """Open the store, start the AMI link and (``rounds``; tests drive ``round()`` themselves) the loop."""
        for sub in (c.SPOOL_REQUESTS, c.SPOOL_RESULTS, c.SPOOL_MESSAGES, REJECTED):
            (self.settings.spool / sub).mkdir(parents=True, exist_ok=True)
        await self._open(self.clock())  # a database down at start is opened by a later round; a wrong schema raises
        self.link.start()
        if self.settings.api is not None:
            self.api = ticket_api.server(ticket_api.app(lambda: self.store, self.health), *self.settings.api)
            self._api_task = asyncio.get_running_loop().create_task(self.api.serve())
            while not self.api.started and not self._api_task.done():
                await asyncio.sleep(0.02)
            if self._api_task.done():
                self._api_task.result()  # raises why it could not start (e.g. the port is taken)
        if rounds:
            self.ended = dict.fromkeys(LOOPS, self.clock())
            self._tasks = [asyncio.get_running_loop().create_task(self._run(name, work)) for name, work in self._loops().items()]

    async def close(self) -> None:
        if self.api is not None and self._api_task is not None:
            self.api.should_exit = True
            await asyncio.gather(self._api_task, return_exceptions=True)
        self._stopping = True
        for task in self._tasks:
            task.cancel()  # a mail in hand is finished by its thread, sent and marked (promises.posting)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.link.close()
        for lease in (self.dialling, self.mailing, self.presence):
            if lease is not None and lease.held:
                with contextlib.suppress(SQLAlchemyError):  # it expires by itself
                    await asyncio.to_thread(lease.release)
        if self.store is not None:
            self.store.close()

    async def _open(self, now: float) -> bool:
        """Open the store and the leases on it; False while the database cannot be reached (noted in ``database``)."""
        if self.store is None:
            try:
                self.store = await asyncio.to_thread(Promises.open, self.settings.db_url)
            except SQLAlchemyError as exc:
                self.database.failed(now, exc)
                return False
            holder = f"{self.node}:{os.getpid()}"
            self.dialling = Lease(self.store.engine, holder, "promises-dial")
            self.mailing = Lease(self.store.engine, holder, "promises-mail")
            self.presence = Lease(self.store.engine, holder, presence(self.node))
            self.post.store, self.post.outbox = self.store, Outbox(self.store.engine, holder)
        return True

    async def _ready(self, now: float) -> bool:
        """Whether the database is open and answers: else a loop's round ends at once, the requests wait in the spool."""
        return await self._open(now) and self.store is not None and await self.database.answers(self.store.engine, now)

    def health(self) -> dict[str, Any]:
        details = {"ami": self.link.state, "rounds": self.rounds, "last_round": self.last_round, "attempts": dict(self.attempts)}
        database = "up" if self.store is not None and self.database.up else "down"
        return {**details, "database": database, "loops": dict(self.ended)}

    def _loops(self) -> dict[str, Callable[[float], Awaitable[Any]]]:
        return {"spool": self.take_in, "dial": self.dial, "mail": self.mail, "batches": self.deliver}

    async def _run(self, name: str, work: Callable[[float], Awaitable[Any]]) -> None:
        wake = self._wakes[name]
        while not self._stopping:  # also when a cancel is lost (3.11's wait_for can swallow one that comes as it ends)
            wake.clear()  # before the round: a request that comes during it wakes the next one
            try:
                if await self._ready(self.clock()):
                    await work(self.clock())
            except SQLAlchemyError as exc:  # the database went away within the round: the next one asks it again
                self.database.failed(self.clock(), exc)
            except Exception:  # one bad round must not end the service: log it, go on
                log.exception("promises %s round failed", name)
            self._ended(name)
            with contextlib.suppress(TimeoutError):  # woken early by a request's or a result's UserEvent
                await asyncio.wait_for(wake.wait(), self.settings.interval)

    def _ended(self, name: str) -> None:
        self.ended[name] = self.clock()
        self.last_round = min(self.ended.values())
        self.rounds += name == "spool"

    def _wake(self, *names: str) -> None:
        for name in names or LOOPS:
            self._wakes[name].set()

    def _event(self, event: Event) -> None:
        if event.get("Event") == "UserEvent" and event.get("UserEvent") in (c.EVENT_PROMISE, c.EVENT_CALLBACK_RESULT):
            self._wake("spool")
        elif event.get("Event") == "OriginateResponse" and event.get("Response") == "Failure":
            attempt = event.get("Exten", "")
            if attempt and self.store is not None:  # no agent within the wait, or the queue refused: try again later
                asyncio.get_running_loop().create_task(self._no_agent(attempt, event.get("Reason", "")))

    async def _login(self, manager: Manager) -> None:
        self._wake("spool", "dial")

    async def _no_agent(self, attempt: str, why: str) -> None:
        assert self.store is not None
        now = self.clock()
        if await asyncio.to_thread(self.store.requeue, attempt, now, now + RETRY_NO_AGENT):
            log.info(
                "callback attempt %s found no agent in time (Originate reason %s); trying again in %.0f s", attempt, why, RETRY_NO_AGENT
            )

    # -- one round ---------------------------------------------------------------------

    async def round(self) -> None:
        """One round of each loop, in order; none while the database is down."""
        now = self.clock()
        if not await self._ready(now):
            self.rounds += 1  # the database is down: the round ends here, the requests wait in the spool
            self.last_round = self.clock()
            return
        for name, work in self._loops().items():
            await work(now)
            self._ended(name)

    async def take_in(self, now: float) -> None:
        """On every node: the requests and results its own Asterisk left; new callbacks wake the dialling."""
        if await self.take_requests(now):
            self._wake("dial")
        await self.take_results(now)

    async def dial(self, now: float) -> None:
        """On every node: its own attempts against its Asterisk; by the dialling lease's holder: the callbacks due."""
        if await self._holds(self.presence, now, needs_ami=True):
            assert self.store is not None and self.link.manager is not None
            await self.dialler.reconcile(self.store, self.link.manager, self.settings.spool / c.SPOOL_RESULTS, now)
        if await self._holds(self.dialling, now, needs_ami=True):
            assert self.store is not None and self.link.manager is not None
            await self.requeue_stale(now)
            await self.dialler.dispatch(self.store, self.link.manager, now)

    async def mail(self, now: float) -> None:
        """Departments' ticket notices and reminders (promises.posting), and the retention's purge, by the mailing lease's holder."""
        if await self._holds(self.mailing, now):
            await self.post.mail(now, lambda: self._ended("mail"))
            await self.purge(now)

    async def deliver(self, now: float) -> int:
        """The message intakes' due batches (promises.posting); returns the messages sent."""
        return await self.post.deliver(now, lambda: self._ended("batches")) if await self._holds(self.mailing, now) else 0

    async def _holds(self, lease: Lease | None, now: float, needs_ami: bool = False) -> bool:
        """Whether this worker holds ``lease`` for this round; one that needs the AMI is let go while the link is down."""
        if lease is None:
            return False
        try:
            if needs_ami and not (self.link.up and self.link.manager is not None):
                if lease.held:
                    await asyncio.to_thread(lease.release)
                return False
            return await asyncio.to_thread(lease.hold, now)
        except SQLAlchemyError as exc:  # the database is down: nothing to dial or mail from either
            self._lease_warnings.warning(time.monotonic(), "lease %s not renewed: %s", lease.name, str(exc).splitlines()[0])
            lease.held = False
            return False

    async def purge(self, now: float) -> int:
        """Once an hour: blank the numbers of promises closed longer ago than the retention period."""
        days = self.settings.retention_days
        if days is None or self.store is None or now - self._purged < 3600:
            return 0
        self._purged = now
        blanked = await asyncio.to_thread(self.store.purge_numbers, now - days * 86400)
        if blanked:
            log.info("retention: %d number(s) of promises closed more than %d days ago blanked", blanked, days)
        return blanked

    async def take_requests(self, now: float) -> int:
        """Each complete request file into the database, then deleted; anything else is set aside (promises.inbox)."""
        assert self.store is not None
        taken = 0
        for path, text in await asyncio.to_thread(self.requests.files, now):
            try:
                request = Request.parse(path.name, text)
            except ValueError as exc:
                await asyncio.to_thread(self.requests.refuse, path, RefusedError("invalid", str(exc)), now)
                continue
            if request.kind == "callback":
                fresh = await asyncio.to_thread(self.store.add_callback, request, now)
            else:
                fresh = await asyncio.to_thread(self.store.add_ticket, request, self.due(request), now) is not None
            log.info(
                "%s %s for %s (%s) taken%s", request.kind, request.id, request.tenant or "-", request.reason, "" if fresh else " before"
            )
            path.unlink(missing_ok=True)
            taken += 1
        return taken

    def config_at(self, stamp: float) -> Center:
        """The config in force at ``stamp`` (dated changes: a tenant that joined later is in a later period)."""
        return self.center.at(datetime.fromtimestamp(stamp, UTC))

    def due(self, request: Request) -> float | None:
        center = self.config_at(request.created)
        schedule = ticket_schedule(center, request.tenant, request.entry, request.department)
        if schedule is None:
            return None
        hours = due_hours(center, request.tenant, request.entry, request.topic, request.department)
        found = due(schedule, self.center.tz, datetime.fromtimestamp(request.created, UTC), hours)
        return found.timestamp() if found else None

    async def take_results(self, now: float) -> None:
        assert self.store is not None
        promises = self.center.promises
        for path, text in await asyncio.to_thread(self.results.files, now):
            status = text.split("|")[0] or "CANCEL"
            row = await asyncio.to_thread(self.store.by_attempt, path.name)
            retry = None
            if row is not None and status != "ANSWER":
                schedule = ticket_schedule(self.config_at(now), row["tenant"], row["entry"], None)
                if schedule is not None:
                    failed = datetime.fromtimestamp(now, UTC)
                    found = next_attempt(
                        schedule, self.center.tz, failed, row["attempts"], promises.callback_attempts, promises.callback_minutes_apart
                    )
                    retry = found.timestamp() if found else None
            before = await asyncio.to_thread(self.store.finish_attempt, path.name, status, now, retry)
            self.attempts[status] = self.attempts.get(status, 0) + 1
            if before is not None:
                verdict = "reached" if status == "ANSWER" else f"again at {retry:.0f}" if retry else "a ticket follows"
                log.info("callback %s attempt %s: %s, %s", before["id"], path.name, status, verdict)
                if status != "ANSWER" and retry is None:
                    await self._ticket_for_failed(before, now)
            path.unlink(missing_ok=True)

    async def _ticket_for_failed(self, row: dict[str, Any], now: float) -> None:
        assert self.store is not None
        request = Request(
            f"{row['id']}:callback",
            "ticket",
            row["created"],
            row["tenant"],
            row["entry"],
            row["topic"],
            row["queue"],
            "",
            "callback_failed",
            row["number"],
            row["joined"],
        )
        await asyncio.to_thread(self.store.add_ticket, request, self.due(request), now)

    async def requeue_stale(self, now: float) -> None:
        """Another node's attempt without result for longer than it could take, that node gone: pending again.

        This node's own attempts are reconciled against its Asterisk (promises.dialling); another node's only that
        node can see while its presence lasts. Once it lapsed (its worker or its Asterisk down) the attempt ends by time.
        """
        assert self.store is not None
        longest = self.settings.callback_wait + self.center.promises.callback_ring_timeout + 120
        for row in await asyncio.to_thread(self.store.dialling):
            node = row["attempt_node"]
            if node == self.node or (node and await asyncio.to_thread(Lease(self.store.engine, "", presence(node)).alive, now)):
                continue
            started = row["attempt_started"] or 0.0
            stale = now - started > longest and not (self.settings.spool / c.SPOOL_RESULTS / row["attempt_id"]).exists()
            if stale and await asyncio.to_thread(self.store.requeue, row["attempt_id"], now, now):
                log.warning(
                    "callback %s: attempt %s has no result after %.0f s; pending again", row["id"], row["attempt_id"], now - started
                )
