"""The promises in SQL: callback requests, tickets (Rückmeldung) and each ticket's history.

The same database as the call records (stores.db checks its schema; promises.tables
declares the tables). Every change that must happen once is a conditional UPDATE
(``... WHERE status = 'pending'``): two workers, or one restarted mid-way, cannot
start a callback twice or close a ticket twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Engine, Table, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from pbx import spool
from promises.tables import callbacks, deliveries, history, tickets
from routing.promises import Pending
from stores.db import connect

OPEN_STATES = ("open", "in_progress")
TICKET_STATES = ("open", "in_progress", "done", "cancelled")


class TicketError(ValueError):
    """A ticket action that cannot be done; the message says which ticket and why."""


class UnknownTicketError(TicketError):
    """There is no ticket of that id."""


class TicketTakenError(TicketError):
    """The ticket is no longer in a state for the action (another took or closed it first); the message says who."""


_VERB = {"claimed": "claimed", "assigned": "assigned", "done": "marked done", "cancelled": "cancelled"}


@dataclass(frozen=True, slots=True)
class Request:
    """A promise the dialplan took (from Asterisk's AstDB inbox): a callback in a queue, or a ticket."""

    id: str  # the caller's unique id
    kind: str  # 'callback' or 'ticket'
    created: float
    tenant: str
    entry: str
    topic: str
    queue: str
    department: str
    reason: str
    number: str
    joined: float  # when the caller joined the queue (the place a queue callback keeps); created when unknown

    @classmethod
    def parse(cls, key: str, value: str) -> Request:
        """An AstDB value 'kind|created|tenant|...'; raises ValueError naming the field that is wrong."""
        data = spool.request_fields(key, value)
        if data["kind"] not in ("callback", "ticket"):
            raise ValueError(f"request {key}: kind '{data['kind']}' is neither callback nor ticket")
        if not data["number"]:
            raise ValueError(f"request {key}: no number to call back")
        try:
            created = float(data["created"])
            joined = float(data["joined"]) if data["joined"] else created
        except ValueError:
            raise ValueError(f"request {key}: created '{data['created']}' or joined '{data['joined']}' is not a time") from None
        text = {k: data[k][:40] for k in ("tenant", "entry", "topic", "queue", "department", "reason")}
        return cls(key[:64], data["kind"], created, number=data["number"][:64], joined=joined, **text)


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    request: str
    created: float
    due: float | None
    tenant: str
    entry: str
    topic: str
    department: str
    reason: str
    number: str
    status: str
    assignee: str
    closed: float | None
    notified: bool
    reminded: bool


class Promises:
    """The promise tables of one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Promises:
        return cls(connect(url))

    def close(self) -> None:
        self.engine.dispose()

    # -- callbacks ------------------------------------------------------------------

    def add_callback(self, request: Request, now: float) -> bool:
        """Take a callback request; False when it was taken before (the inbox may deliver it twice)."""
        row = {
            "id": request.id,
            "created": request.created,
            "tenant": request.tenant,
            "entry": request.entry,
            "topic": request.topic,
            "queue": request.queue,
            "reason": request.reason,
            "number": request.number,
            "joined": request.joined,
            "status": "pending",
            "attempts": 0,
            "not_before": 0.0,
            "attempt_id": "",
            "attempt_started": None,
            "last_result": "",
            "reached": None,
            "updated": now,
        }
        return self._insert_once(callbacks, row)

    def pending(self) -> list[Pending]:
        query = select(callbacks).where(callbacks.c.status == "pending")
        with self.engine.connect() as conn:
            return [Pending(r.id, r.queue, r.number, r.joined, r.not_before) for r in conn.execute(query)]

    def dialling(self) -> list[dict[str, Any]]:
        """Callbacks with an attempt in progress."""
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(callbacks).where(callbacks.c.status == "dialling"))]

    def callback(self, request_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(callbacks).where(callbacks.c.id == request_id)).first()
        return dict(row._mapping) if row is not None else None

    def by_attempt(self, attempt_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(callbacks).where(callbacks.c.attempt_id == attempt_id)).first()
        return dict(row._mapping) if row is not None else None

    def start_attempt(self, request_id: str, attempt_id: str, now: float, node: str = "") -> bool:
        """Mark an attempt as started on ``node``'s Asterisk; False when another worker started one (exactly once)."""
        started = {"attempt_id": attempt_id, "attempt_started": now, "attempt_node": node[:80], "attempts": callbacks.c.attempts + 1}
        query = (
            update(callbacks)
            .where(callbacks.c.id == request_id, callbacks.c.status == "pending")
            .values(status="dialling", updated=now, **started)
        )
        with self.engine.begin() as conn:
            return conn.execute(query).rowcount == 1

    def finish_attempt(self, attempt_id: str, result: str, now: float, retry_at: float | None) -> dict[str, Any] | None:
        """Record an attempt's result: reached, another attempt at ``retry_at``, or (None) a ticket follows.

        Returns the callback as it was, or None when that attempt was finished before.
        """
        with self.engine.begin() as conn:
            row = conn.execute(select(callbacks).where(callbacks.c.attempt_id == attempt_id, callbacks.c.status == "dialling")).first()
            if row is None:
                return None
            if result == "ANSWER":
                values: dict[str, Any] = {"status": "reached", "reached": now}
            elif retry_at is not None:
                values = {"status": "pending", "not_before": retry_at}
            else:
                values = {"status": "ticket"}
            conn.execute(
                update(callbacks)
                .where(callbacks.c.id == row.id, callbacks.c.attempt_id == attempt_id)
                .values(last_result=result, updated=now, **values)
            )
            return dict(row._mapping)

    def requeue(self, attempt_id: str, now: float, retry_at: float) -> bool:
        """An attempt that never dialled (no agent in time, lotse stopped): pending again, the attempt not counted."""
        query = (
            update(callbacks)
            .where(callbacks.c.attempt_id == attempt_id, callbacks.c.status == "dialling")
            .values(status="pending", attempts=callbacks.c.attempts - 1, not_before=retry_at, last_result="no_agent", updated=now)
        )
        with self.engine.begin() as conn:
            return conn.execute(query).rowcount == 1

    # -- tickets -------------------------------------------------------------------

    def add_ticket(self, request: Request, due: float | None, now: float) -> int | None:
        """Open a ticket for a request; None when that request already has one."""
        row = {
            "request": request.id,
            "created": request.created,
            "due": due,
            "tenant": request.tenant,
            "entry": request.entry,
            "topic": request.topic,
            "department": request.department,
            "reason": request.reason,
            "number": request.number,
            "status": "open",
            "assignee": "",
            "closed": None,
            "notified": False,
            "reminded": False,
        }
        try:
            with self.engine.begin() as conn:
                key = conn.execute(insert(tickets).values(**row)).inserted_primary_key
                assert key is not None
                ticket_id = int(key[0])
                conn.execute(insert(history).values(ticket=ticket_id, at=now, action="opened", actor="lotse", note=request.reason))
        except IntegrityError:
            return None
        return ticket_id

    def tickets(self, status: str | None = None, tenant: str | None = None, department: str | None = None) -> list[Ticket]:
        query = select(tickets).order_by(tickets.c.due.is_(None), tickets.c.due, tickets.c.id)
        if status == "open":
            query = query.where(tickets.c.status.in_(OPEN_STATES))
        elif status is not None:
            query = query.where(tickets.c.status == status)
        if tenant is not None:
            query = query.where(tickets.c.tenant == tenant)
        if department is not None:
            query = query.where(tickets.c.department == department)
        with self.engine.connect() as conn:
            return [Ticket(**r._mapping) for r in conn.execute(query)]

    def ticket(self, ticket_id: int) -> Ticket:
        with self.engine.connect() as conn:
            row = conn.execute(select(tickets).where(tickets.c.id == ticket_id)).first()
        if row is None:
            raise UnknownTicketError(f"there is no ticket {ticket_id}")
        return Ticket(**row._mapping)

    def history(self, ticket_id: int) -> list[tuple[float, str, str, str]]:
        query = select(history.c.at, history.c.action, history.c.actor, history.c.note).where(history.c.ticket == ticket_id)
        with self.engine.connect() as conn:
            return [(r.at, r.action, r.actor, r.note) for r in conn.execute(query.order_by(history.c.id))]

    def claim(self, ticket_id: int, actor: str, now: float) -> Ticket:
        """Take an open ticket; one of any number of parallel claims wins, the others raise TicketTakenError naming who has it."""
        return self._move(ticket_id, ("open",), "in_progress", "claimed", actor, "", now, assignee=actor[:80])

    def assign(self, ticket_id: int, actor: str, assignee: str, now: float) -> Ticket:
        """A supervisor hands an open ticket to someone (it is then in progress with them)."""
        return self._move(ticket_id, OPEN_STATES, "in_progress", "assigned", actor, f"to {assignee}", now, assignee=assignee[:80])

    def done(self, ticket_id: int, actor: str, note: str, now: float, holder_only: bool = False) -> Ticket:
        """Close an open ticket; ``holder_only``: one in progress only by whom it is with (the API's department clients)."""
        return self._move(ticket_id, OPEN_STATES, "done", "done", actor, note, now, holder_only, closed=now)

    def cancel(self, ticket_id: int, actor: str, note: str, now: float, holder_only: bool = False) -> Ticket:
        return self._move(ticket_id, OPEN_STATES, "cancelled", "cancelled", actor, note, now, holder_only, closed=now)

    def mark(self, ticket_id: int, flag: str, now: float, note: str) -> bool:
        """Set 'notified' or 'reminded' once; False when it was set before."""
        column = tickets.c[flag]
        with self.engine.begin() as conn:
            changed = conn.execute(update(tickets).where(tickets.c.id == ticket_id, column.is_(False)).values({flag: True})).rowcount == 1
            if changed:
                conn.execute(insert(history).values(ticket=ticket_id, at=now, action=flag, actor="lotse", note=note[:400]))
        return changed

    def purge_numbers(self, closed_before: float) -> int:
        """Blank the numbers of tickets and callbacks closed before ``closed_before`` (retention)."""
        with self.engine.begin() as conn:
            done = conn.execute(update(tickets).where(tickets.c.closed < closed_before, tickets.c.number != "").values(number="")).rowcount
            done += conn.execute(
                update(callbacks)
                .where(callbacks.c.status.in_(("reached", "ticket", "cancelled")), callbacks.c.updated < closed_before)
                .where(callbacks.c.number != "")
                .values(number="")
            ).rowcount
        return done

    def counts(self) -> dict[str, int]:
        """Callbacks and tickets by status (for /metrics)."""
        found: dict[str, int] = {}
        with self.engine.connect() as conn:
            for table, name in ((callbacks, "callbacks"), (tickets, "tickets")):
                for status, n in conn.execute(select(table.c.status, func.count()).group_by(table.c.status)):
                    found[f"{name}_{status}"] = n
        return found

    def all_callbacks(self, since: float, until: float = float("inf")) -> Iterator[dict[str, Any]]:
        """Callback requests made in [since, until)."""
        query = select(callbacks).where(callbacks.c.created >= since)
        if until != float("inf"):
            query = query.where(callbacks.c.created < until)
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                yield dict(row._mapping)

    def tickets_between(self, since: float, until: float) -> list[Ticket]:
        """Tickets opened in [since, until)."""
        query = select(tickets).where(tickets.c.created >= since, tickets.c.created < until)
        with self.engine.connect() as conn:
            return [Ticket(**r._mapping) for r in conn.execute(query)]

    # -- message deliveries ------------------------------------------------------------

    def delivered(self, intake: str, recipient: str) -> set[str]:
        """The msg_ids of ``intake`` already delivered to ``recipient``."""
        query = select(deliveries.c.msg_id).where(deliveries.c.intake == intake, deliveries.c.recipient == recipient)
        with self.engine.connect() as conn:
            return {row[0] for row in conn.execute(query)}

    def log_delivery(self, intake: str, recipient: str, messages: Iterable[Any], batch: float, now: float) -> None:
        rows = [
            {
                "msg_id": m.msg_id[:80],
                "recipient": recipient[:120],
                "intake": intake,
                "recorded": m.recorded,
                "caller": m.caller[:64],
                "fields": m.fields[:400],
                "duration": m.duration,
                "batch": batch,
                "delivered": now,
            }
            for m in messages
        ]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(insert(deliveries), rows)

    def deliveries_between(self, since: float, until: float) -> list[dict[str, Any]]:
        query = select(deliveries).where(deliveries.c.recorded >= since, deliveries.c.recorded < until)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    # -- helpers ---------------------------------------------------------------------

    def _insert_once(self, table: Table, row: dict[str, Any]) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(table).values(**row))
        except IntegrityError:
            return False
        return True

    def _move(
        self,
        ticket_id: int,
        allowed: tuple[str, ...],
        status: str,
        action: str,
        actor: str,
        note: str,
        now: float,
        holder_only: bool = False,
        **values: Any,
    ) -> Ticket:
        """One conditional UPDATE (the state, and the holder, as expected) and its history row, in one transaction.

        Of parallel moves exactly one changes the row: SQLite takes one writer at a time, PostgreSQL re-checks the
        WHERE of a waiting UPDATE against the row the first one committed; the others find no row to change.
        """
        state: ColumnElement[bool] = tickets.c.status.in_(allowed)
        if holder_only:
            state = (tickets.c.status == "open") | ((tickets.c.status == "in_progress") & (tickets.c.assignee == actor[:80]))
        with self.engine.begin() as conn:
            changed = conn.execute(update(tickets).where(tickets.c.id == ticket_id, state).values(status=status, **values)).rowcount
            if changed:
                conn.execute(insert(history).values(ticket=ticket_id, at=now, action=action, actor=actor[:80], note=note[:400]))
        ticket = self.ticket(ticket_id)  # raises for an unknown ticket
        if not changed:
            raise TicketTakenError(f"ticket {ticket_id} is {self._state(ticket)}: it cannot be {_VERB[action]}")
        return ticket

    def _state(self, ticket: Ticket) -> str:
        """The ticket's state for a refusal, with whom it is: 'in progress with anna', 'done by standesamt'."""
        if ticket.status == "in_progress":
            return f"in progress with {ticket.assignee}"
        if ticket.status in ("done", "cancelled"):
            query = select(history.c.actor).where(history.c.ticket == ticket.id, history.c.action == ticket.status)
            with self.engine.connect() as conn:
                closer = conn.execute(query.order_by(history.c.id.desc()).limit(1)).scalar()
            return f"{ticket.status} by {closer}" if closer else ticket.status
        return ticket.status
