"""Call records in SQLite and PostgreSQL (the real server: 127.0.0.1:5432, database test)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from metrics.records import CallRecord
from metrics.store import Store
from metrics.tracker import Tracker

DATA = Path(__file__).parent / "data" / "ami"


def captured() -> list[CallRecord]:
    tracker = Tracker()
    found = []
    for file in sorted(DATA.glob("*.jsonl")):
        for line in file.read_text(encoding="utf-8").splitlines():
            if (record := tracker.feed(json.loads(line), 0.0)) is not None:
                found.append(record)
    return found


@pytest.fixture
def store(empty_db: str) -> Iterator[Store]:
    opened = Store.open(empty_db)
    yield opened
    opened.close()


def test_records_round_trip(store: Store) -> None:
    records = captured()
    assert len(records) == 7
    assert store.write(records) == 7
    assert list(store.between(0, 2e9)) == sorted(records, key=lambda r: r.arrived)


def test_two_nodes_calls_with_the_same_number_part_stay_two_records(store: Store) -> None:
    """Two Asterisks count their unique ids alike; with systemname (a, b: docs/operations.md, two nodes) each id
    carries its node, so both nodes' lotse metrics write one database without replacing each other's calls."""
    records = captured()
    nodes = [replace(r, uniqueid=f"{node}-{r.uniqueid}") for node in ("a", "b") for r in records]
    assert store.write(nodes) == 14
    assert sorted(r.uniqueid for r in store.between(0, 2e9)) == sorted(r.uniqueid for r in nodes)
    assert store.write(nodes[:7]) == 7 and len(list(store.between(0, 2e9))) == 14  # a node's retry replaces, never adds


def test_writing_a_call_again_replaces_it(store: Store) -> None:
    record = captured()[0]
    store.write([record])
    store.write([replace(record, agent="Ben")])
    (stored,) = store.between(0, 2e9)
    assert stored.agent == "Ben"


def test_between_and_purge_use_arrival_time(store: Store) -> None:
    base = captured()[0]
    store.write([replace(base, uniqueid=str(n), arrived=1000.0 + n, ended=1100.0 + n) for n in range(10)])
    assert [r.uniqueid for r in store.between(1003, 1006)] == ["3", "4", "5"]
    assert store.purge(1005) == 5
    assert [r.uniqueid for r in store.between(0, 2e9)] == ["5", "6", "7", "8", "9"]


def test_migrations_are_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'calls.db'}"
    Store.open(url).close()
    again = Store.open(url)
    assert list(again.between(0, 2e9)) == []
    again.close()


def test_an_entry_id_of_forty_characters_is_stored_whole(store: Store) -> None:
    record = replace(captured()[0], entry="krankmeldung-schulen-und-kitas-2027-2028")  # an id's longest: 40
    assert store.write([record]) == 1
    (stored,) = store.between(0, 2e9)
    assert stored.entry == record.entry
