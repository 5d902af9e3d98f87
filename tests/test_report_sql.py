"""The SQL aggregation gives exactly the KPIs computed call by call, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from dataclasses import asdict

import pytest

from metrics.records import CallRecord
from metrics.report import group, group_sql
from metrics.store import Store
from outcomes.results import Result
from routing.model import Center
from tests.test_store import store  # noqa: F401 - the SQLite/PostgreSQL fixture

START = 1798758000.0  # 2027-01-01 00:00 Europe/Berlin


def month_of_calls(count: int = 600) -> list[CallRecord]:
    rng = random.Random(7)
    records = []
    for n in range(count):
        arrived = START + rng.uniform(0, 31 * 86400)
        queued = arrived + 10 if rng.random() < 0.8 else None
        wait = rng.choice([0.0, 2.0, 4.99, 5.0, 29.0, 30.0, 30.5, 59.0, 61.0, 200.0]) if queued else None
        answered = queued + wait if queued is not None and wait is not None and rng.random() < 0.75 else None
        if queued:
            outcome = Result.ANSWERED if answered else Result.ABANDONED_QUEUE
        else:
            outcome = rng.choice(
                [Result.CLOSED, Result.ABANDONED_IVR, Result.CALLBACK, Result.FORWARDED_ANSWERED, Result.FORWARDED_UNANSWERED]
            )
        records.append(
            CallRecord(
                uniqueid=str(n),
                tenant=rng.choice(["minden", "jobcenter", "kreis", ""]),
                entry=rng.choice(["own", "115", ""]),
                dialled="115",
                caller="",
                topic=rng.choice(["ausweis", "buergergeld", ""]),
                queues=(rng.choice(["buergerservice", "jobcenter"]), "zentrale")[: rng.randint(1, 2)] if queued else (),
                department="",
                reason=rng.choice(["in_hours", "closed", "overflow"]),
                outcome=outcome,
                arrived=arrived,
                queued=queued,
                answered=answered,
                ended=arrived + 300,
                wait=wait,
                talk=rng.choice([None, 42.0, 300.0]) if answered else None,
                agent="anna" if answered else "",
            )
        )
    return records


@pytest.mark.parametrize(
    ("by", "interval"),
    [
        ((), "all"),
        (("tenant",), "day"),
        (("tenant", "entry"), "month"),
        (("topic", "queue"), "hour"),
        (("queue",), "15min"),
        (("department",), "day"),
    ],
)
def test_sql_aggregation_equals_the_call_by_call_computation(store: Store, example: Center, by: tuple[str, ...], interval: str) -> None:  # noqa: F811
    records = month_of_calls()
    store.write(records)
    by_sql = group_sql(store, example, START, START + 40 * 86400, by, interval)
    by_python = group(records, example, by, interval)
    assert [(w, k) for w, k, _ in by_sql] == [(w, k) for w, k, _ in by_python]
    for (_, _, sql), (_, _, python) in zip(by_sql, by_python, strict=True):
        expected = asdict(python)
        for name, value in asdict(sql).items():
            assert value == pytest.approx(expected[name]), name
