"""The web app's sessions, kept on the server: a row per log-in in the shared database, so that every node
knows at once when one ends.

The cookie (signed, SameSite=Strict) carries a random token; the table keeps only the token's SHA-256, the
user, a fingerprint of the password hash the user logged in with, and when the session was opened and last
used. A session counts only while its row says so: it ends at log-out (the row is deleted), when the user is no
longer in the users file or has another password (checked at every request), when it was not used for
``idle`` seconds, and ``age`` seconds after the log-in at the latest. A cookie replayed after that finds no
row. Using a session moves its ``seen`` at most once a minute (one write a minute per user, not per request).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Column, Float, MetaData, String, Table, delete, insert, select, update
from sqlalchemy.engine import Engine

from web.users import User

log = logging.getLogger("lotse.web")
IDLE = 3600.0  # seconds without a request before a session ends (web.idle_minutes)
AGE = 12 * 3600.0  # seconds a session lasts at most, used or not
TOUCH = 60.0  # seconds between two updates of a session's last use

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
class Sessions:
    engine: Engine
    idle: float = IDLE
    age: float = AGE

    def open(self, user: User, now: float) -> str:
        """A new session for the user; its token (for the cookie). Sessions that ended meanwhile are swept."""
        token = secrets.token_urlsafe(32)
        ended = (web_sessions.c.seen < now - self.idle) | (web_sessions.c.opened < now - self.age)
        with self.engine.begin() as db:
            db.execute(delete(web_sessions).where(ended))
            row = {"id": digest(token), "user": user.id, "password": fingerprint(user), "opened": now, "seen": now}
            db.execute(insert(web_sessions).values(row))
        return token

    def user(self, token: str, users: Mapping[str, User], now: float) -> User | None:
        """The user of a session that still counts (as the users file has them now); None, and the row gone, if not."""
        key = digest(token)
        with self.engine.connect() as db:
            row = db.execute(select(web_sessions).where(web_sessions.c.id == key)).one_or_none()
        if row is None:
            return None
        user = users.get(row.user)
        why = self._ended(row.user, user, row.password, row.opened, row.seen, now)
        if why:
            log.info("web: session of %s ended: %s", row.user, why)
            self.close(token)
            return None
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

    def close(self, token: str) -> None:
        with self.engine.begin() as db:
            db.execute(delete(web_sessions).where(web_sessions.c.id == digest(token)))
