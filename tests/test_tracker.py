"""The tracker on AMI event sequences captured from the lab Asterisk (tests/data/ami)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metrics.records import CallRecord
from metrics.tracker import Privacy, Tracker, protect
from outcomes.results import Result

DATA = Path(__file__).parent / "data" / "ami"


def records(name: str, privacy: Privacy = Privacy.TRUNCATED) -> tuple[list[CallRecord], Tracker]:
    tracker = Tracker(privacy, salt="pepper")
    found = []
    for line in (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
        record = tracker.feed(json.loads(line), received=0.0)
        if record is not None:
            found.append(record)
    return found, tracker


@pytest.mark.parametrize(
    ("name", "outcome", "tenant", "entry", "topic", "queues", "department", "reason"),
    [
        ("answered", Result.ANSWERED, "minden", "own", "ausweis", ("buergerservice",), "", "in_hours"),
        ("answered_115", Result.ANSWERED, "bueckeburg", "115", "abfall", ("buergerservice",), "", "in_hours"),
        ("abandoned_queue", Result.ABANDONED_QUEUE, "minden", "own", "ausweis", ("buergerservice",), "", "in_hours"),
        ("abandoned_ivr", Result.ABANDONED_IVR, "", "", "", (), "", ""),
        ("closed", Result.CLOSED, "minden", "own", "", (), "", "closed"),
        ("department", Result.FORWARDED_ANSWERED, "minden", "own", "", (), "standesamt-minden", "in_hours"),
        ("callback", Result.CALLBACK, "minden", "own", "", (), "", "department_closed"),
    ],
)
def test_one_record_per_call_with_its_outcome(
    name: str, outcome: Result, tenant: str, entry: str, topic: str, queues: tuple[str, ...], department: str, reason: str
) -> None:
    (record,), tracker = records(name)
    assert (record.outcome, record.tenant, record.entry, record.topic, record.queues, record.department, record.reason) == (
        outcome,
        tenant,
        entry,
        topic,
        queues,
        department,
        reason,
    )
    assert record.dialled in ("0571890", "115")
    assert tracker.calls == {} and tracker.skipped == 0  # every call finished, every event read


def test_times_of_an_answered_call() -> None:
    (record,), _ = records("answered")
    assert record.queued is not None and record.answered is not None and record.wait is not None
    assert record.arrived < record.queued < record.answered < record.ended
    assert record.wait == pytest.approx(record.answered - record.queued)
    assert record.talk == 5.0 and record.agent == "Anna"  # AgentComplete's TalkTime
    assert 4.0 < record.wait < 7.0  # the lab's agents answer after 2 s of ringing


def test_abandoned_in_queue_has_a_wait_and_no_answer() -> None:
    (record,), _ = records("abandoned_queue")
    assert record.answered is None and record.talk is None
    assert record.wait is not None and 0.5 < record.wait < 2.0  # the impatient caller hangs up 1 s after the key


def test_caller_numbers_are_stored_as_configured() -> None:
    assert records("answered", Privacy.FULL)[0][0].caller.startswith("+49571")
    assert records("answered", Privacy.TRUNCATED)[0][0].caller.endswith("xxx")
    hashed = records("answered", Privacy.HASHED)[0][0].caller
    assert len(hashed) == 16 and "571" not in hashed
    assert records("answered", Privacy.NONE)[0][0].caller == ""
    assert records("abandoned_ivr", Privacy.FULL)[0][0].caller.startswith("+49571")  # normalised like lotse does
    assert protect("+495711234", Privacy.HASHED, "a") != protect("+495711234", Privacy.HASHED, "b")


def test_in_hours() -> None:
    assert records("answered")[0][0].in_hours
    assert not records("closed")[0][0].in_hours


def test_malformed_events_are_counted_not_raised() -> None:
    tracker = Tracker()
    assert tracker.feed({"Event": "VarSet"}, 1.0) is None  # no Variable
    assert (
        tracker.feed({"Event": "VarSet", "Variable": "LOTSE_DIALLED", "Context": "lotse-incoming", "Uniqueid": "1", "Timestamp": "x"}, 1.0)
        is None
    )
    assert tracker.skipped == 2
    assert tracker.feed({"Event": "Hangup", "Uniqueid": "unknown"}, 1.0) is None  # other calls are ignored


def test_a_call_whose_start_fell_just_before_a_login_is_opened_by_its_lotse_hops() -> None:
    # the AMI link came up between the call's LOTSE_DIALLED and its LOTSE_HOPS: the events from there on, with the
    # channel variables Asterisk adds to each (manager.conf channelvars), must still make its record
    events = [json.loads(line) for line in (DATA / "answered.jsonl").read_text(encoding="utf-8").splitlines()]
    first = next(n for n, e in enumerate(events) if e.get("Event") == "VarSet" and e.get("Variable") == "LOTSE_HOPS")
    caller_channel = events[first]["Uniqueid"]
    tracker, done = Tracker(), []
    for event in events[first:]:
        seen = {**event, "ChanVariable(LOTSE_DIALLED)": "0571890"} if event.get("Uniqueid") == caller_channel else event
        if (record := tracker.feed(seen, 0.0)) is not None:
            done.append(record)
    (record,) = done
    assert (record.uniqueid, record.dialled, record.outcome, record.tenant) == (caller_channel, "0571890", Result.ANSWERED, "minden")
