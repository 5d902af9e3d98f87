"""The ticket API's clients: a token each, for one department's tickets or (an admin's) for every ticket.

A token is 32 random bytes (``lotse_`` and 43 URL-safe characters), shown once when it is made; the database
keeps its sha256 only (table api_tokens). A plain hash, not a slow one like a password's: a token is random,
not chosen, so there is nothing to guess from its hash, and the API finds a request's client by the hash in
one indexed look-up. Being in the shared database, a token made or revoked with ``lotse tokens`` holds at once
for every node's API, without a restart.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Engine, Row, insert, select, update

from promises.tables import api_tokens

PREFIX = "lotse_"  # so that a token is recognisable in a leaked file (secret scanners)
MIN_TOKEN = 24  # characters: a token of the old tokens file shorter than this is refused when it is imported


class TokenError(ValueError):
    """A token that cannot be made, revoked or imported; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Client:
    id: int
    name: str  # who did it in a ticket's history
    department: str | None  # the department whose tickets it may see and move; None: every ticket (admin)
    created: float
    revoked: float | None

    @property
    def admin(self) -> bool:
        return self.department is None

    def may_see(self, department: str) -> bool:
        """Whether a ticket of ``department`` ('' for one of no department) is this client's."""
        return self.department is None or self.department == department


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class Tokens:
    """The api_tokens table of one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, name: str, department: str | None, now: float, secret: str | None = None) -> tuple[Client, str]:
        """A new client and its secret (random unless given: an imported one); only the secret's hash is stored."""
        secret = secret or PREFIX + secrets.token_urlsafe(32)
        if not name or len(name) > 80 or any(ch.isspace() for ch in name):
            raise TokenError(f"name '{name[:80]}' must be 1 to 80 characters without spaces, e.g. standesamt")
        if self._row(api_tokens.c.digest == digest(secret)) is not None:
            raise TokenError(f"the token of '{name}' is in use already")
        row = {"name": name, "department": department, "digest": digest(secret), "created": now, "revoked": None}
        with self.engine.begin() as conn:
            key = conn.execute(insert(api_tokens).values(**row)).inserted_primary_key
        assert key is not None
        return Client(int(key[0]), name, department, now, None), secret

    def client(self, secret: str) -> Client | None:
        """The client whose secret this is; None for an unknown or revoked one."""
        if not secret:
            return None
        found = self._row(api_tokens.c.digest == digest(secret))
        return found if found is not None and found.revoked is None else None

    def all(self) -> list[Client]:
        query = select(api_tokens).order_by(api_tokens.c.id)
        with self.engine.connect() as conn:
            return [_client(r) for r in conn.execute(query)]

    def revoke(self, token_id: int, now: float) -> Client:
        """Revoke a token at once (its row stays, with when, for the list); raises TokenError naming why not."""
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(api_tokens).where(api_tokens.c.id == token_id, api_tokens.c.revoked.is_(None)).values(revoked=now)
            ).rowcount
        found = self._row(api_tokens.c.id == token_id)
        if found is None:
            raise TokenError(f"there is no token {token_id} (lotse tokens list shows them)")
        if not changed:
            raise TokenError(f"token {token_id} ('{found.name}') was revoked before")
        return found

    def _row(self, where: ColumnElement[bool]) -> Client | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(api_tokens).where(where)).first()
        return _client(row) if row is not None else None


def _client(row: Row[Any]) -> Client:
    return Client(row.id, row.name, row.department, row.created, row.revoked)


def read_tokens(path: Path) -> dict[str, str]:
    """client name -> token, from the old tokens file's 'name token' lines ('#' comments), to import them."""
    found: dict[str, str] = {}
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            raise TokenError(f"{path}:{n}: expected 'name token', got {len(parts)} words")
        name, token = parts
        if len(token) < MIN_TOKEN:
            raise TokenError(f"{path}:{n}: the token of '{name}' has {len(token)} characters; use at least {MIN_TOKEN}")
        found[name] = token
    if not found:
        raise TokenError(f"{path}: no tokens")
    return found
