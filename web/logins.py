"""Limits on guessing passwords: failed log-ins counted per account and per client address in the shared
database, so that two web nodes count together.

Each attempt is counted before its password is checked (one conditional UPDATE, atomic on PostgreSQL and
SQLite alike), so parallel guesses cannot slip through between a check and its count; a right password takes
its count back. After ``limit`` failures in a row an account (5) or an address (20: many people may share a
town hall's address) is locked for a minute, and each further failure after a lock doubles it, up to an hour.
While locked, every attempt is refused without looking at the password, the right one too, and is not counted.
Failures are forgotten a day after the last one, and at once for an account when its right password is given.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, ColumnElement, Float, Integer, MetaData, String, Table, case, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

USER_LIMIT = 5  # failures in a row before an account is locked
ADDRESS_LIMIT = 20  # failures in a row from one address before it is locked
FIRST_LOCK = 60.0  # seconds of the first lock; each further failure doubles it
LONGEST_LOCK = 3600.0
FORGET = 86400.0  # seconds after the last failure when the failures are forgotten

metadata = MetaData()
login_failures = Table(
    "login_failures",
    metadata,
    Column("key", String(120), primary_key=True),  # 'user:<id>' or 'address:<ip>'
    Column("failures", Integer, nullable=False),
    Column("last", Float, nullable=False),  # when the last one was counted
    Column("locked_until", Float, nullable=False),  # 0: not locked
)


def lock_for(failures: int, limit: int) -> float:
    """Seconds a key is locked after its ``failures``-th failure in a row (0: not locked)."""
    if failures < limit:
        return 0.0
    return min(FIRST_LOCK * float(2 ** min(failures - limit, 32)), LONGEST_LOCK)


@dataclass(frozen=True, slots=True)
class Locked:
    """An attempt refused without checking its password: what is locked and until when (epoch seconds)."""

    what: str  # "user" or "address"
    until: float


@dataclass(frozen=True)
class Logins:
    engine: Engine
    user_limit: int = USER_LIMIT
    address_limit: int = ADDRESS_LIMIT

    def attempt(self, user_id: str, address: str, now: float) -> Locked | None:
        """Count an attempt for the account and the address; Locked (and nothing counted) when either is locked."""
        address_key, user_key = f"address:{address}", f"user:{user_id[:80]}"
        until = self._take(address_key, self.address_limit, now)
        if until:
            return Locked("address", until)
        until = self._take(user_key, self.user_limit, now)
        if until:
            self._give_back(address_key, self.address_limit)
            return Locked("user", until)
        return None

    def succeeded(self, user_id: str, address: str, now: float) -> None:
        """The password was right: the account's failures are forgotten and the address's attempt given back."""
        table = login_failures.c
        with self.engine.begin() as db:
            db.execute(delete(login_failures).where(table.key == f"user:{user_id[:80]}"))
            db.execute(delete(login_failures).where(table.last < now - FORGET, table.locked_until < now))
        self._give_back(f"address:{address}", self.address_limit)

    def _take(self, key: str, limit: int, now: float) -> float:
        """Count one attempt unless the key is locked: 0.0 when counted, else until when it is locked."""
        table = login_failures.c
        failures = case((table.last < now - FORGET, 1), else_=table.failures + 1)
        counted = update(login_failures).where(table.key == key, table.locked_until <= now)
        counted = counted.values(failures=failures, last=now, locked_until=_lock_until(failures, limit, now))
        for _ in range(3):  # a row made or unlocked by another node meanwhile: once more
            with self.engine.begin() as db:
                if db.execute(counted).rowcount == 1:
                    return 0.0
                until = db.execute(select(table.locked_until).where(table.key == key)).scalar()
            if until is not None and until > now:
                return float(until)
            if until is None:
                lock = lock_for(1, limit)  # 0: not locked, never "locked until now" (a parallel request's clock may be earlier)
                try:
                    with self.engine.begin() as db:
                        db.execute(insert(login_failures).values(key=key, failures=1, last=now, locked_until=now + lock if lock else 0.0))
                    return 0.0
                except IntegrityError:
                    continue
        raise RuntimeError(f"the log-in failures of {key} changed three times while counting one attempt")

    def _give_back(self, key: str, limit: int) -> None:
        table = login_failures.c
        back = case((table.failures > 0, table.failures - 1), else_=0)
        unlocked = case((table.failures - 1 < limit, 0.0), else_=table.locked_until)
        with self.engine.begin() as db:
            db.execute(update(login_failures).where(table.key == key).values(failures=back, locked_until=unlocked))


def _lock_until(failures: ColumnElement[int], limit: int, now: float) -> ColumnElement[float]:
    """``now`` plus lock_for(failures) as SQL, the count being the one the same UPDATE writes."""
    steps, n = [], limit
    while lock_for(n, limit) < LONGEST_LOCK:
        steps.append((failures == n, now + lock_for(n, limit)))
        n += 1
    return case((failures < limit, 0.0), *steps, else_=now + LONGEST_LOCK)
