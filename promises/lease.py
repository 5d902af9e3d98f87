"""Which promises worker dials: a lease in the shared database, so that with two nodes only one does.

Every node's worker takes the requests and results its own Asterisk leaves in its own spool (the other node
cannot read them); only the worker that holds the lease dials callbacks, sends the departments' mails and
message batches and requeues stale attempts. The holder renews the lease every round; it holds it only
while its AMI link is up (a callback is originated on a node whose Asterisk answers) and lets it go at a stop
or when the link drops. Another node takes a lease that was let go at once, and one whose holder died when it
expires (``ttl``, 15 s: within 30 s with a round a second). One row, one conditional UPDATE: atomic on
PostgreSQL and SQLite alike, nothing home-made for consensus.

Each worker also holds its node's presence (``presence``: a lease of its own name) while its AMI link is up: the
attempts a node originated are its own to end (only its Asterisk knows whether they still run, promises.dialling),
and the holder of the dialling lease ends another node's attempts only when that node's presence has expired.
"""

from __future__ import annotations

import logging

from sqlalchemy import Column, Float, MetaData, String, Table, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

log = logging.getLogger("lotse.promises")
TTL = 15.0  # seconds a lease lasts unless renewed

metadata = MetaData()
leases = Table(
    "leases",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("holder", String(80), nullable=False),  # the node: its name and process id
    Column("until", Float, nullable=False),
)


class Lease:
    def __init__(self, engine: Engine, holder: str, name: str = "promises", ttl: float = TTL) -> None:
        self.engine = engine
        self.holder = holder
        self.name = name
        self.ttl = ttl
        self.held = False

    def hold(self, now: float) -> bool:
        """Renew the lease, or take it when it is free or expired; whether this holder has it now."""
        held = self._renew_or_take(now)
        if held != self.held:
            log.info("%s the lease on %s (%s)", "took" if held else "lost", self.name, self.holder if held else self.current())
        self.held = held
        return held

    def release(self) -> None:
        """Let the lease go at once (a stop, or the AMI link down), so another node need not wait for it to expire."""
        with self.engine.begin() as db:
            db.execute(update(leases).where(leases.c.name == self.name, leases.c.holder == self.holder).values(until=0.0))
        if self.held:
            log.info("let the lease on %s go", self.name)
        self.held = False

    def alive(self, now: float) -> bool:
        """Whether anybody holds the lease now (a node's presence: its worker renews it while its Asterisk answers)."""
        with self.engine.connect() as db:
            until = db.execute(select(leases.c.until).where(leases.c.name == self.name)).scalar()
        return until is not None and until >= now

    def current(self) -> str:
        """Who holds the lease (expired or not); empty when nobody ever did."""
        with self.engine.connect() as db:
            return db.execute(select(leases.c.holder).where(leases.c.name == self.name)).scalar() or ""

    def _renew_or_take(self, now: float) -> bool:
        mine_or_free = (leases.c.holder == self.holder) | (leases.c.until < now)
        with self.engine.begin() as db:
            taken = db.execute(
                update(leases).where(leases.c.name == self.name, mine_or_free).values(holder=self.holder, until=now + self.ttl)
            )
            if taken.rowcount == 1:
                return True
        try:
            with self.engine.begin() as db:
                db.execute(insert(leases).values(name=self.name, holder=self.holder, until=now + self.ttl))
        except IntegrityError:  # the row exists: another node holds the lease
            return False
        return True


def presence(node: str) -> str:
    """The name of ``node``'s presence lease."""
    return f"node {node}"[:40]
