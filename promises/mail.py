"""E-mail to departments: a new ticket, and a reminder before its due time (SMTP, plain text, German).

The SMTP dialogue is smtplib's, but for DATA: the message goes out without its final dot first, then ``before_dot``
is called (promises.outbox records there that the mail is handed over), then the dot; the server's acceptance (its
250 reply, e.g. "2.0.0 Ok: queued as 4BC1F") is returned. A connection that ends before the dot leaves the server
without a message (RFC 5321 4.1.1.4: the transaction is discarded), so everything up to ``before_dot`` can be repeated.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from promises.store import Ticket
from routing.model import Center
from routing.promises import national


class MailError(Exception):
    """The mail server refused or could not be reached; the message says which and why."""


class UnansweredMailError(MailError):
    """The message was handed over (the final dot sent) but the server's answer never came: it may have it."""


@dataclass(frozen=True)
class Mailer:
    host: str
    port: int = 25
    sender: str = "lotse@localhost"
    starttls: bool = False
    timeout: float = 10.0  # seconds for each step of the SMTP dialogue (connect, each reply)

    def deliver(self, message: EmailMessage, before_dot: Callable[[], None] = lambda: None) -> str:
        """Send ``message``; returns the server's acceptance. Raises MailError (nothing handed over) or UnansweredMailError."""
        handed = False

        def hand() -> None:
            nonlocal handed
            before_dot()
            handed = True

        try:
            with _Smtp(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.before_dot = hand
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                smtp.send_message(message)
                return smtp.accepted
        except (OSError, smtplib.SMTPException) as exc:
            if handed and not isinstance(exc, smtplib.SMTPResponseException):
                raise UnansweredMailError(f"SMTP {self.host}:{self.port}: no answer to the message's end: {exc}") from None
            raise MailError(f"SMTP {self.host}:{self.port}: {exc}") from None


class _Smtp(smtplib.SMTP):
    """smtplib's client, its DATA in two steps: the message, ``before_dot``, then the final dot and the reply."""

    before_dot: Callable[[], None] = staticmethod(lambda: None)
    accepted = ""

    def data(self, msg: Any) -> tuple[int, bytes]:  # typeshed's Buffer | str (Buffer is 3.12's); bytes from sendmail
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        body = msg.encode("ascii") if isinstance(msg, str) else bytes(msg)  # sendmail's, CRLF already
        body = re.sub(rb"(?m)^\.", b"..", body)
        self.send(body if body.endswith(b"\r\n") else body + b"\r\n")
        try:
            self.before_dot()  # raises to give up: the server discards a message without its dot
        except Exception:
            self.close()  # at once: a QUIT now would only be more of the message
            raise
        self.send(b".\r\n")
        code, reply = self.getreply()
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
        self.accepted = f"{code} {reply.decode(errors='replace')}"
        return code, reply


def message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, subject
    mail.set_content(body)
    return mail


def _when(center: Center, stamp: float | None) -> str:
    return datetime.fromtimestamp(stamp, center.tz).strftime("%d.%m.%Y %H:%M") if stamp is not None else "ohne Frist"


def _facts(center: Center, ticket: Ticket) -> str:
    tenant = center.tenants.get(ticket.tenant)
    topic = tenant.topics.get(ticket.topic) if tenant else None
    reasons = {
        "department_closed": "Abteilung war geschlossen",
        "department_unanswered": "Abteilung hat nicht angenommen",
        "closed": "Anruf außerhalb der Servicezeiten",
        "holiday": "Anruf an einem Feiertag",
        "callback_failed": "Rückruf nicht erreicht",
    }
    return "\n".join(
        [
            f"Ticket:      {ticket.id}",
            f"Verwaltung:  {tenant.name if tenant else ticket.tenant or '115'}",
            f"Anliegen:    {topic.name if topic else ticket.topic or '-'}",
            f"Grund:       {reasons.get(ticket.reason, ticket.reason)}",
            f"Rückruf an:  {national(ticket.number, center.country_code) if ticket.number else '(gelöscht)'}",
            f"Eingegangen: {_when(center, ticket.created)}",
            f"Fällig:      {_when(center, ticket.due)}",
        ]
    )


def ticket_notice(center: Center, ticket: Ticket) -> tuple[str, str]:
    subject = f"Rückmeldung {ticket.id} fällig bis {_when(center, ticket.due)}"
    body = f"Guten Tag,\n\nfür Sie ist eine Rückmeldung an einen Anrufer aufgenommen worden.\n\n{_facts(center, ticket)}\n\n"
    body += f"Bitte rufen Sie bis zur Fälligkeit zurück und schließen Sie das Ticket: lotse tickets done {ticket.id}\n"
    return subject, body


def reminder(center: Center, ticket: Ticket) -> tuple[str, str]:
    subject = f"Erinnerung: Rückmeldung {ticket.id} fällig bis {_when(center, ticket.due)}"
    body = f"Guten Tag,\n\ndiese Rückmeldung ist bald fällig und noch offen.\n\n{_facts(center, ticket)}\n"
    return subject, body
