"""Mail sent once: each mail's state in the database, around its SMTP dialogue.

SMTP has no way to ask a server whether it has a message, so lotse keeps the one point that decides it: a mail is
``sending`` from before the connection, ``handed`` from just before the final dot of DATA (promises.mail), and
``sent`` with the server's acceptance (its 250 reply) once that came. Each mail has a key (what it is about) and a
Message-ID derived from it. Whoever sends a mail again (the same worker next round, a restarted one, the other node)
looks at its row first:

- no row, or ``sending``: the server has no complete message (a connection that ended before the dot is discarded),
  so it is sent (again), with the same Message-ID; the new sender takes the row over, and a sender it superseded
  gives up before its dot;
- ``handed``: the dot was on its way when the sender died or lost the connection; the server has the message unless
  it refused it in its last reply, which nobody heard. It is not sent again but ``unconfirmed``: logged once with its
  Message-ID (to look up in the mail server's log), and counted; the ticket or batch counts as mailed;
- ``sent`` or ``unconfirmed``: mailed; the caller's bookkeeping (a ticket marked, deliveries logged) is done again,
  which is harmless.

So a mail is sent at most once and, short of that one unanswered dot, exactly once.
"""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from promises.mail import Mailer, MailError, UnansweredMailError
from promises.tables import mails

log = logging.getLogger("lotse.promises")
MAILED = ("sent", "unconfirmed")


class SupersededMailError(MailError):
    """Another sender took the mail over while this one was sending it: this one gives up before its final dot."""


@dataclass(frozen=True, slots=True)
class Outcome:
    state: str  # sent, unconfirmed (handed, its acceptance unknown) or before (mailed in an earlier try)
    reply: str  # the server's acceptance, or why unconfirmed


def message_id(key: str, sender: str) -> str:
    """The Message-ID of the mail ``key``: the same key, the same id (a receiver may drop a second one by it)."""
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<lotse.{re.sub(r'[^A-Za-z0-9.-]', '-', key)}@{domain}>"


class Outbox:
    """The mails of one database and the sends of this worker (``holder``: its node and process)."""

    def __init__(self, engine: Engine, holder: str) -> None:
        self.engine = engine
        self.holder = holder
        self._tokens = itertools.count(1)
        self.unconfirmed = 0  # mails found handed and never answered, since start (for /metrics)

    def send_once(self, mailer: Mailer, key: str, mail: EmailMessage, now: float, carries: str = "") -> Outcome:
        """Send ``mail`` unless it was (``before``, or found ``handed``: unconfirmed); raises MailError to try later."""
        token = f"{self.holder}:{next(self._tokens)}"
        found = self._take(key, mail, token, now, carries, message_id(key, mailer.sender))
        if found is not None:
            return found
        del mail["Message-ID"]
        mail["Message-ID"] = message_id(key, mailer.sender)
        try:
            reply = mailer.deliver(mail, lambda: self._hand(key, token, now))
        except UnansweredMailError as exc:
            return self._unconfirmed(key, str(exc), now)
        except MailError:
            with self.engine.begin() as db:  # the server has no message: the next try sends it afresh
                db.execute(delete(mails).where(mails.c.key == key, mails.c.token == token))
            raise
        with self.engine.begin() as db:
            db.execute(update(mails).where(mails.c.key == key).values(state="sent", updated=now, reply=reply[:250]))
        return Outcome("sent", reply)

    def carried(self, prefix: str, since: float, now: float) -> list[tuple[str, str]]:
        """The mails whose key starts with ``prefix``, started since ``since`` and mailed: (key, what they carry).

        One found handed, its sender gone (a batch's key has its time: the next try would be another mail), is
        unconfirmed here, as ``send_once`` does with a ticket's.
        """
        query = select(mails.c.key, mails.c.state, mails.c.carries).where(mails.c.key.startswith(prefix), mails.c.started >= since)
        with self.engine.connect() as db:
            rows = [row for row in db.execute(query) if row.state != "sending"]
        for row in rows:
            if row.state == "handed":
                self._unconfirmed(row.key, "the sender stopped after handing it over, before the server's answer", now)
        return [(row.key, row.carries) for row in rows]

    def _take(self, key: str, mail: EmailMessage, token: str, now: float, carries: str, msg_id: str) -> Outcome | None:
        """This sender's row for ``key``; an Outcome instead when the mail needs no sending."""
        row = {"message_id": msg_id, "recipient": str(mail["To"])[:120], "state": "sending", "token": token, "carries": carries}
        with self.engine.begin() as db:
            found = db.execute(select(mails.c.state, mails.c.reply).where(mails.c.key == key)).first()
            if found is not None and found.state in MAILED:
                return Outcome("before", found.reply)
            if found is not None and found.state == "sending":  # its sender died or gave up before the dot
                db.execute(update(mails).where(mails.c.key == key, mails.c.state == "sending").values(**row, updated=now))
                return None
        if found is not None:
            return self._unconfirmed(key, "the sender stopped after handing it over, before the server's answer", now)
        try:
            with self.engine.begin() as db:
                db.execute(insert(mails).values(key=key, **row, started=now, updated=now, reply=""))
        except IntegrityError:  # another sender at the same moment: it sends, this one looks again next time
            raise SupersededMailError(f"mail {key} is being sent by another worker") from None
        return None

    def _hand(self, key: str, token: str, now: float) -> None:
        with self.engine.begin() as db:
            query = update(mails).where(mails.c.key == key, mails.c.token == token, mails.c.state == "sending")
            if db.execute(query.values(state="handed", updated=now)).rowcount != 1:
                raise SupersededMailError(f"mail {key} was taken over by another worker")

    def _unconfirmed(self, key: str, why: str, now: float) -> Outcome:
        with self.engine.begin() as db:
            db.execute(update(mails).where(mails.c.key == key).values(state="unconfirmed", updated=now, reply=why[:250]))
            msg_id = db.execute(select(mails.c.message_id).where(mails.c.key == key)).scalar()
        self.unconfirmed += 1
        log.warning(
            "mail %s (Message-ID %s) was handed to the mail server but its acceptance was never heard: %s; not sent again, "
            "look it up in the mail server's log",
            key,
            msg_id,
            why,
        )
        return Outcome("unconfirmed", why)
