"""E-mail to departments: a new ticket, and a reminder before its due time (SMTP, plain text, German)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from promises.store import Ticket
from routing.model import Center
from routing.promises import national


class MailError(Exception):
    """The mail server refused or could not be reached; the message says which and why."""


@dataclass(frozen=True)
class Mailer:
    host: str
    port: int = 25
    sender: str = "lotse@localhost"
    starttls: bool = False
    timeout: float = 10.0

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(body)
        self.deliver(message)

    def deliver(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"SMTP {self.host}:{self.port}: {exc}") from None


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
