"""Call records in SQL: SQLite by default, PostgreSQL by URL; schema by alembic.

``Store.open(url)`` checks the schema (stores.db.connect: an empty database is created, any other must be at
this lotse's revision) and returns a store; writes are idempotent per call (the unique id is the key).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import astuple, fields
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Column, Float, Index, MetaData, String, Table, delete, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from metrics.records import WIDTHS, CallRecord
from outcomes.results import Result
from stores.db import StoreError, connect, shown, sqlite_file

BERLIN = ZoneInfo("Europe/Berlin")

metadata = MetaData()
calls = Table(
    "calls",
    metadata,
    Column("uniqueid", String(WIDTHS["uniqueid"]), primary_key=True),
    Column("tenant", String(WIDTHS["tenant"]), nullable=False),
    Column("entry", String(WIDTHS["entry"]), nullable=False),
    Column("dialled", String(WIDTHS["dialled"]), nullable=False),
    Column("caller", String(WIDTHS["caller"]), nullable=False),
    Column("topic", String(WIDTHS["topic"]), nullable=False),
    Column("queues", String(WIDTHS["queues"]), nullable=False),  # comma-separated, in order
    Column("department", String(WIDTHS["department"]), nullable=False),
    Column("reason", String(WIDTHS["reason"]), nullable=False),
    Column("outcome", String(24), nullable=False),
    Column("arrived", Float, nullable=False),
    Column("queued", Float),
    Column("answered", Float),
    Column("ended", Float, nullable=False),
    Column("wait", Float),
    Column("talk", Float),
    Column("agent", String(WIDTHS["agent"]), nullable=False),
    Column("slot", String(16), nullable=False),  # local 'YYYY-MM-DD HH:MM' rounded down to 15 minutes (reports)
    Column("queue", String(40), nullable=False),  # the first queue the call was offered to (reports)
    Index("calls_arrived", "arrived"),
    Index("calls_slot", "slot"),
    Index("calls_tenant_arrived", "tenant", "arrived"),
)
_FIELDS = [f.name for f in fields(CallRecord)]


class Store:
    def __init__(self, engine: Engine, tz: ZoneInfo = BERLIN) -> None:
        self.engine = engine
        self.tz = tz  # the center's: slots are cut at its wall-clock quarter hours

    @classmethod
    def open(cls, url: str, tz: ZoneInfo = BERLIN) -> Store:
        return cls(connect(url), tz)

    @classmethod
    def open_existing(cls, url: str, tz: ZoneInfo = BERLIN) -> Store:
        """For reading and purging: never creates a database; raises StoreError naming the database and why."""
        file = sqlite_file(url)
        if file is not None and not file.is_file():
            raise StoreError(f"no call records at {file}: the file does not exist (lotse metrics --db writes them; give that --db)")
        try:
            return cls.open(url, tz)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the call records at {shown(url)}: {str(exc).splitlines()[0]}") from None

    def close(self) -> None:
        self.engine.dispose()

    def write(self, records: Iterable[CallRecord]) -> int:
        """Insert records; a call already stored is replaced (reconciliation may deliver it twice)."""
        rows = [_row(r, self.tz) for r in records]
        if not rows:
            return 0
        with self.engine.begin() as conn:
            conn.execute(delete(calls).where(calls.c.uniqueid.in_([row["uniqueid"] for row in rows])))
            conn.execute(insert(calls), rows)
        return len(rows)

    def between(self, start: float, end: float) -> Iterator[CallRecord]:
        """Records of calls that arrived in [start, end), oldest first."""
        query = select(calls).where(calls.c.arrived >= start, calls.c.arrived < end).order_by(calls.c.arrived)
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                yield _record(row._mapping)

    def uniqueids_since(self, since: float) -> set[str]:
        """Unique ids of the calls stored that ended at or after ``since`` (not to record them twice)."""
        with self.engine.connect() as conn:
            return {row[0] for row in conn.execute(select(calls.c.uniqueid).where(calls.c.ended >= since))}

    def purge(self, before: float) -> int:
        """Delete records of calls that arrived before ``before`` (retention)."""
        with self.engine.begin() as conn:
            return conn.execute(delete(calls).where(calls.c.arrived < before)).rowcount


def slot_of(stamp: float, tz: ZoneInfo) -> str:
    local = datetime.fromtimestamp(stamp, tz)
    return local.replace(minute=local.minute - local.minute % 15).strftime("%Y-%m-%d %H:%M")


def _row(record: CallRecord, tz: ZoneInfo) -> dict[str, object]:
    row = dict(zip(_FIELDS, astuple(record), strict=True))
    row["queues"] = ",".join(record.queues)
    row["outcome"] = record.outcome.value
    row["slot"] = slot_of(record.arrived, tz)
    row["queue"] = record.queues[0] if record.queues else ""
    return row


def _record(row: object) -> CallRecord:
    values = dict(row)  # type: ignore[call-overload]
    values.pop("slot", None)
    values.pop("queue", None)
    values["queues"] = tuple(q for q in values["queues"].split(",") if q)
    values["outcome"] = Result(values["outcome"])
    return CallRecord(**values)
