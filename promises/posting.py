"""The worker's mail: departments told of their tickets and reminded before the due time, message intakes' batches.

Each mail is sent once (promises.outbox) and marked in the same thread that sent it: a stop of lotse promises
between the two cannot part them, and a kill is what the outbox is for. Only the holder of the mailing lease mails.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from promises.intakes import Message, batch_mail, last_batch, recorded, set_aside
from promises.mail import Mailer, MailError, message, reminder, ticket_notice
from promises.outbox import Outbox
from promises.store import Promises, Ticket
from routing.model import Center, MessageIntake
from routing.promises import service_seconds, ticket_schedule

log = logging.getLogger("lotse.promises")


class Post:
    """The mails of one worker, to one mail server (``mailer``; None: no mail is sent)."""

    def __init__(self, center: Center, config_at: Callable[[float], Center], spool: Path, mailer: Mailer | None) -> None:
        self.center = center
        self.config_at = config_at  # the config in force at a time (the keeper's)
        self.spool = spool
        self.mailer = mailer
        self.store: Promises | None = None  # set at the keeper's start, with the outbox
        self.outbox: Outbox | None = None
        self.undelivered: dict[str, int] = {}  # messages of a due batch that could not be sent, by intake (for /metrics)

    async def deliver(self, now: float, tick: Callable[[], None] = lambda: None) -> int:
        """The due batches of every message intake, one e-mail per recipient, each once; returns the messages sent."""
        mailer, store = self.mailer, self.store
        if mailer is None or store is None:
            return 0
        sent = 0
        for intake in self.center.messages.values():
            batch = last_batch(intake.times, now, self.center.tz)
            if batch is None:
                continue
            waiting = [m for m in await asyncio.to_thread(recorded, self.spool, intake) if m.recorded < batch]
            for recipient in intake.to:
                try:
                    sent += await asyncio.to_thread(self._mail_batch, mailer, intake, recipient, waiting, batch, now)
                except MailError as exc:
                    self.undelivered[intake.id] = len(waiting)
                    log.warning("messages of %s: batch to %s not sent, trying again next round: %s", intake.id, recipient, exc)
                    continue
                self.undelivered.pop(intake.id, None)
                tick()
            everyone = [await asyncio.to_thread(store.delivered, intake.id, r) for r in intake.to]
            await asyncio.to_thread(set_aside, self.spool, [m for m in waiting if all(m.msg_id in d for d in everyone)])
        return sent

    def _mail_batch(self, mailer: Mailer, intake: MessageIntake, recipient: str, waiting: list[Message], batch: float, now: float) -> int:
        """One recipient's batch: its messages not yet delivered, sent once and logged (in one thread)."""
        assert self.store is not None and self.outbox is not None
        if not waiting:
            return 0
        done = self.store.delivered(intake.id, recipient)
        prefix = f"batch {intake.id} {recipient} "
        for key, carries in self.outbox.carried(prefix, min(m.recorded for m in waiting), now):  # mailed or handed, not logged
            settled = [m for m in waiting if m.msg_id in carries.split() and m.msg_id not in done]
            self.store.log_delivery(intake.id, recipient, settled, float(key.rpartition(" ")[2]), now)
            done |= {m.msg_id for m in settled}
        due_now = [m for m in waiting if m.msg_id not in done]
        if not due_now:
            return 0
        mail = batch_mail(self.center, intake, due_now, batch, mailer.sender, recipient)
        self.outbox.send_once(mailer, f"{prefix}{int(batch)}", mail, now, " ".join(m.msg_id for m in due_now))
        self.store.log_delivery(intake.id, recipient, due_now, batch, now)
        log.info("messages of %s: %d delivered to %s", intake.id, len(due_now), recipient)
        return len(due_now)

    async def mail(self, now: float, tick: Callable[[], None] = lambda: None) -> None:
        """Tell departments of their new tickets, and remind them before the due time; each mail once (promises.outbox)."""
        mailer, store = self.mailer, self.store
        if mailer is None or store is None:
            return
        for ticket in await asyncio.to_thread(store.tickets, "open"):
            department = self.center.departments.get(ticket.department)
            if department is None or not department.email:
                continue
            if not ticket.notified:
                flag, text = "notified", ticket_notice(self.center, ticket)
            elif not ticket.reminded and ticket.due is not None and self._remind(ticket, now, ticket.due):
                flag, text = "reminded", reminder(self.center, ticket)
            else:
                continue
            try:
                await asyncio.to_thread(self._mail_ticket, mailer, ticket, flag, message(mailer.sender, department.email, *text), now)
                tick()  # the loop is slow, not stuck (a slow mail server: up to 7 replies of the SMTP timeout per mail)
            except MailError as exc:
                log.warning("ticket %d: mail to %s not sent, trying again next round: %s", ticket.id, department.email, exc)
                return

    def _mail_ticket(self, mailer: Mailer, ticket: Ticket, flag: str, mail: EmailMessage, now: float) -> None:
        """Send a ticket's notice or reminder once and mark it (in one thread: a stop between the two cannot part them)."""
        assert self.store is not None and self.outbox is not None
        self.outbox.send_once(mailer, f"ticket {ticket.id} {flag} {ticket.request}", mail, now)
        self.store.mark(ticket.id, flag, now, str(mail["To"]))

    def _remind(self, ticket: Ticket, now: float, due_at: float) -> bool:
        """Whether fewer service hours than remind_before_hours are left before the due time."""
        schedule = ticket_schedule(self.config_at(now), ticket.tenant, ticket.entry, ticket.department)
        if schedule is None:
            return False
        left = service_seconds(schedule, self.center.tz, datetime.fromtimestamp(now, UTC), datetime.fromtimestamp(due_at, UTC))
        return left <= self.center.promises.remind_before_hours * 3600
