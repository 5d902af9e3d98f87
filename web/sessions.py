"""The web app's sessions, kept on the server: a row per log-in in the shared database, so that every node
knows at once when one ends.

The cookie (signed, SameSite=Strict) carries a random token; the table keeps only the token's SHA-256, the
user, a fingerprint of the password hash the user logged in with, and when the session was opened and last
used. A session counts only while its row says so: it ends at log-out (the row is deleted), when the user is no
longer in the users file or has another password (checked at every request), when it was not used for
``idle`` seconds, and ``age`` seconds after the log-in at the latest. A cookie replayed after that finds no
row. Using a session moves its ``seen`` at most once a minute (one write a minute per user, not per request).

While the database is unreachable, a session this node confirmed within the last ``OUTAGE_GRACE`` seconds goes
on (an agent still pauses through AMI; the pages say what is missing), checked against the users file as
always; any other session, and every new log-in, waits for the database. A log-out in the outage ends the
session on this node at once and deletes its row as soon as the database answers again.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Column, Float, MetaData, String, Table, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from web.users import User

log = logging.getLogger("lotse.web")
IDLE = 3600.0  # seconds without a request before a session ends (web.idle_minutes)
AGE = 12 * 3600.0  # seconds a session lasts at most, used or not
TOUCH = 60.0  # seconds between two updates of a session's last use
OUTAGE_GRACE = 300.0  # seconds after this node last confirmed a session in the database that it goes on in an outage

metadata = MetaData()
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user", String(80), nullable=False),
    Column("password", String(64), nullable=False),
    Column("opened", Float, nullable=False),
    Column("seen", Float, nullable=False),
)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def fingerprint(user: User) -> str:
    """What the session remembers of the password: a changed password (a new scrypt hash) ends it."""
    return hashlib.sha256(user.password.encode()).hexdigest()


@dataclass(frozen=True)
class Confirmed:
    """What this node last read of a session from the database, and when."""

    user: str
    password: str
    opened: float
    at: float


@dataclass(frozen=True)
class Sessions:
    engine: Engine
    idle: float = IDLE
    age: float = AGE
    confirmed: dict[str, Confirmed] = field(default_factory=dict)  # session digest -> last confirmed (this node)
    closing: set[str] = field(default_factory=set)  # logged out in an outage: rows to delete when the database is back

    def open(self, user: User, now: float) -> str:
        """A new session for the user; its token (for the cookie). Sessions that ended meanwhile are swept."""
        token = secrets.token_urlsafe(32)
        self._close_pending()
        ended = (web_sessions.c.seen < now - self.idle) | (web_sessions.c.opened < now - self.age)
        with self.engine.begin() as db:
            db.execute(delete(web_sessions).where(ended))
            row = {"id": digest(token), "user": user.id, "password": fingerprint(user), "opened": now, "seen": now}
            db.execute(insert(web_sessions).values(row))
        self.confirmed[digest(token)] = Confirmed(user.id, fingerprint(user), now, now)
        return token

    def user(self, token: str, users: Mapping[str, User], now: float) -> User | None:
        """The user of a session that still counts (as the users file has them now); None, and the row gone, if not.
        The database unreachable: the user of a session this node confirmed lately, else the SQLAlchemyError."""
        key = digest(token)
        if key in self.closing:
            return None
        try:
            self._close_pending()
            with self.engine.connect() as db:
                row = db.execute(select(web_sessions).where(web_sessions.c.id == key)).one_or_none()
        except SQLAlchemyError:
            remembered = self._remembered(key, users, now)
            if remembered is None:
                raise
            return remembered
        if row is None:
            self.confirmed.pop(key, None)
            return None
        user = users.get(row.user)
        why = self._ended(row.user, user, row.password, row.opened, row.seen, now)
        if why:
            log.info("web: session of %s ended: %s", row.user, why)
            self.close(token)
            return None
        self.confirmed[key] = Confirmed(row.user, row.password, row.opened, now)
        if now - row.seen >= TOUCH:
            with self.engine.begin() as db:
                db.execute(update(web_sessions).where(web_sessions.c.id == key).values(seen=now))
        return user

    def _ended(self, user_id: str, user: User | None, password: str, opened: float, seen: float, now: float) -> str:
        if user is None:
            return f"'{user_id}' is no longer in the users file"
        if password != fingerprint(user):
            return "the password was changed"
        if now - seen >= self.idle:
            return f"not used for {(now - seen) / 60:.0f} min (idle limit {self.idle / 60:.0f} min)"
        if now - opened >= self.age:
            return f"opened {(now - opened) / 3600:.1f} h ago (limit {self.age / 3600:.0f} h)"
        return ""

    def _remembered(self, key: str, users: Mapping[str, User], now: float) -> User | None:
        """The user of a session confirmed on this node within OUTAGE_GRACE, checked as always; else None."""
        known = self.confirmed.get(key)
        if known is None or now - known.at > OUTAGE_GRACE:
            return None
        user = users.get(known.user)
        if user is None or self._ended(known.user, user, known.password, known.opened, known.at, now):
            self.confirmed.pop(key, None)
            return None
        return user

    def close(self, token: str) -> None:
        """End the session; the database unreachable, on this node at once and in the database once it answers."""
        key = digest(token)
        self.confirmed.pop(key, None)
        try:
            with self.engine.begin() as db:
                db.execute(delete(web_sessions).where(web_sessions.c.id == key))
        except SQLAlchemyError:
            self.closing.add(key)
            raise

    def _close_pending(self) -> None:
        if not self.closing:
            return
        keys = set(self.closing)
        with self.engine.begin() as db:
            db.execute(delete(web_sessions).where(web_sessions.c.id.in_(keys)))
        self.closing.difference_update(keys)
