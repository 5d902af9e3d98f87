"""Report benchmark: `lotse report` over a year of a large center (415,000 calls).

    python -m bench.bench_report [--calls 415000] [--postgres URL]

Generates the calls into SQLite (a temporary file) and PostgreSQL (a
temporary schema), then times the report by tenant and entry per month (as
`lotse report` runs it: aggregated by the database), the median of 3 runs.
Baseline in the same run: fetching the same rows with a bare SQL query.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from metrics.records import CallRecord
from metrics.report import group_sql, render
from metrics.store import Store
from outcomes.results import Result
from routing.loader import load_or_raise

ROOT = Path(__file__).resolve().parent.parent
YEAR = 1767222000.0  # 2026-01-01 00:00 Europe/Berlin
TOPICS = ("ausweis", "abfall", "allgemein", "zulassung", "fuehrerschein")


def year_of_calls(count: int, seed: int = 415) -> list[CallRecord]:
    rng = random.Random(seed)
    tenants = ("kreis", "minden", "petershagen", "bueckeburg", "jobcenter")
    records = []
    for n in range(count):
        arrived = YEAR + rng.uniform(0, 365 * 86400)
        roll = rng.random()
        queued = arrived + rng.uniform(5, 40) if roll < 0.85 else None
        wait = rng.expovariate(1 / 20) if queued else None
        answered = queued + wait if queued and wait is not None and roll < 0.78 else None
        outcome = (
            (Result.ANSWERED if answered else Result.ABANDONED_QUEUE)
            if queued
            else rng.choice([Result.CLOSED, Result.ABANDONED_IVR, Result.FORWARDED_ANSWERED, Result.CALLBACK])
        )
        talk = rng.uniform(30, 400) if answered else None
        records.append(
            CallRecord(
                uniqueid=f"{arrived:.6f}.{n}",
                tenant=rng.choice(tenants),
                entry="115" if rng.random() < 0.55 else "own",
                dialled="115",
                caller="",
                topic=rng.choice(TOPICS),
                queues=("buergerservice",) if queued else (),
                department="",
                reason="closed" if outcome is Result.CLOSED else "in_hours",
                outcome=outcome,
                arrived=arrived,
                queued=queued,
                answered=answered,
                ended=(answered or queued or arrived) + (talk or 10),
                wait=wait,
                talk=talk,
                agent="anna" if answered else "",
            )
        )
    return records


def median_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(name: str, store: Store, records: list[CallRecord]) -> None:
    center = load_or_raise(ROOT / "config")
    for start in range(0, len(records), 20000):
        store.write(records[start : start + 20000])

    def report() -> str:
        return render(group_sql(store, center, YEAR, YEAR + 366 * 86400, ["tenant", "entry"], "month"), ["tenant", "entry"], "table")

    def bare() -> int:
        with store.engine.connect() as conn:
            return len(
                conn.execute(text("SELECT * FROM calls WHERE arrived >= :a AND arrived < :b"), {"a": YEAR, "b": YEAR + 366 * 86400}).all()
            )

    lines = len(report().splitlines())
    report_s, bare_s = median_of(3, report), median_of(3, bare)
    ratio = report_s / bare_s
    print(f"{name:10s}: report {report_s:.3f} s ({lines - 1} rows); baseline bare SELECT {bare_s:.3f} s; ratio {ratio:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=415000)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    records = year_of_calls(args.calls)
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = Store.open(f"sqlite:///{Path(tmp) / 'calls.db'}")
        measure("SQLite", sqlite, records)
        sqlite.close()
    schema = f"lotse_bench_{uuid.uuid4().hex[:8]}"
    admin = Store.open(args.postgres)
    with admin.engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        pg = Store.open(f"{args.postgres}?options=-csearch_path%3D{schema}")
        measure("PostgreSQL", pg, records)
        pg.close()
    finally:
        with admin.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.close()


if __name__ == "__main__":
    main()
