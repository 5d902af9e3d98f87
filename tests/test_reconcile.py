"""Completing records after an AMI gap from queue_log, on a real captured call."""

from __future__ import annotations

import json
from pathlib import Path

from metrics.queue_log import QueueCall
from metrics.reconcile import reconcile
from metrics.tracker import Tracker
from outcomes.results import Result
from pbx.journal import Entry

DATA = Path(__file__).parent / "data" / "ami"


def until_gap(name: str, gap_at: str) -> Tracker:
    """The tracker as it was when the link dropped just before the first ``gap_at`` event."""
    tracker = Tracker()
    for line in (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event.get("Event") == gap_at:
            break
        tracker.feed(event, 0.0)
    return tracker


def test_a_call_answered_and_ended_in_the_gap_is_completed_from_queue_log() -> None:
    tracker = until_gap("answered", "AgentConnect")
    (uniqueid,) = tracker.calls
    queued = tracker.calls[uniqueid].queued
    assert queued is not None
    log = {
        uniqueid: QueueCall(
            uniqueid,
            "buergerservice",
            "minden",
            "own",
            "ausweis",
            entered=int(queued),
            connected=int(queued) + 5,
            holdtime=5,
            talk=8,
            agent="Anna",
            last=int(queued) + 13,
        )
    }
    (record,) = reconcile(tracker, alive=set(), queue_log=log, known=[], now=9e9)
    assert (record.outcome, record.tenant, record.topic, record.agent, record.talk) == (Result.ANSWERED, "minden", "ausweis", "Anna", 8.0)
    assert record.ended == int(queued) + 13 and tracker.calls == {}


def test_calls_still_alive_stay_open_and_calls_inside_the_gap_are_added() -> None:
    tracker = until_gap("answered", "AgentConnect")
    (uniqueid,) = tracker.calls
    inside = QueueCall("77.1", "kfz", "kreis", "115", "zulassung", entered=1000, abandoned=True, waittime=40, last=1040)
    stored = QueueCall("77.2", "kfz", "kreis", "own", "zulassung", entered=1000, connected=1010, holdtime=10, last=1100)
    records = reconcile(tracker, alive={uniqueid}, queue_log={"77.1": inside, "77.2": stored}, known=["77.2"], now=9e9)
    assert list(tracker.calls) == [uniqueid]  # still in progress: the events will finish it
    (record,) = records  # 77.2 is already stored
    assert (record.uniqueid, record.outcome, record.entry, record.reason, record.wait) == (
        "77.1",
        Result.ABANDONED_QUEUE,
        "115",
        "reconciled",
        40.0,
    )


def test_a_call_ended_in_the_gap_without_queue_log_is_closed_as_it_was() -> None:
    tracker = until_gap("closed", "Hangup")
    (record,) = reconcile(tracker, alive=set(), queue_log={}, known=[], now=1234.0)
    assert (record.outcome, record.ended) == (Result.CLOSED, 1234.0)


def test_a_call_still_talking_after_the_gap_gets_its_join_and_answer_from_queue_log() -> None:
    tracker = until_gap("answered", "QueueCallerJoin")  # the link dropped before the call joined the queue
    (uniqueid,) = tracker.calls
    entry = QueueCall(uniqueid, queue="buergerservice", entered=1000, connected=1012, holdtime=12, agent="Anna")
    assert reconcile(tracker, {uniqueid}, {uniqueid: entry}, [], 1100.0) == []  # alive: not finished
    call = tracker.calls[uniqueid]
    assert (call.queues, call.queued, call.answered, call.agent) == (["buergerservice"], 1000.0, 1012.0, "Anna")
    record = tracker.feed({"Event": "Hangup", "Uniqueid": uniqueid}, 1200.0)
    assert record is not None and record.outcome is Result.ANSWERED and record.wait == 12.0


def test_a_fallback_queue_call_that_hangs_up_unanswered_is_abandoned_in_the_queue() -> None:
    tracker = Tracker()
    dialled = {"Variable": "__LOTSE_DIALLED", "Value": "0571890", "Context": "lotse-incoming"}
    tracker.feed({"Event": "VarSet", "Uniqueid": "9.1", **dialled}, 1.0)
    tracker.feed({"Event": "VarSet", "Uniqueid": "9.1", "Variable": "__LOTSE_REASON", "Value": "fallback"}, 1.5)
    tracker.feed({"Event": "QueueCallerJoin", "Uniqueid": "9.1", "Queue": "zentrale"}, 2.0)
    record = tracker.feed({"Event": "Hangup", "Uniqueid": "9.1"}, 30.0)
    assert record is not None and (record.outcome, record.reason, record.wait) == (Result.ABANDONED_QUEUE, "fallback", 28.0)


def decided(uniqueid: str, started: float, ended: float, **variables: str) -> Entry:
    return Entry(uniqueid, started, ended, "0571890", "05711234", {f"LOTSE_{k.upper()}": v for k, v in variables.items()})


def test_calls_of_the_gap_that_never_queued_come_from_the_journal() -> None:
    journal = {
        "5.1": decided("5.1", 1000.0, 1020.0, outcome="callback", reason="overflow", tenant="minden", entry="own", topic="ausweis"),
        "5.2": decided("5.2", 1001.0, 1009.0, outcome="hangup", reason="closed", tenant="jobcenter", entry="own"),
        "5.3": decided("5.3", 1002.0, 1004.0),  # hung up in the menu
        "5.4": decided("5.4", 1003.0, 1010.0, outcome="department", reason="in_hours", tenant="minden", department="standesamt-minden"),
        "5.5": decided("5.5", 1004.0, 1010.0, outcome="queue", queue="buergerservice"),  # still talking: its events follow
        "5.6": decided("5.6", 1005.0, 1010.0, outcome="callback"),  # recorded before the gap
    }
    records = {r.uniqueid: r for r in reconcile(Tracker(), {"5.5"}, {}, ["5.6"], 9e9, journal=journal)}
    assert {uid: r.outcome for uid, r in records.items()} == {
        "5.1": Result.CALLBACK,
        "5.2": Result.CLOSED,
        "5.3": Result.ABANDONED_IVR,
        "5.4": Result.FORWARDED_ANSWERED,  # an unanswered forward asks lotse again: the journal would show it
    }
    callback = records["5.1"]
    assert (callback.tenant, callback.entry, callback.topic, callback.reason, callback.dialled) == (
        "minden",
        "own",
        "ausweis",
        "overflow",
        "0571890",
    )
    assert (callback.arrived, callback.ended, callback.caller) == (1000.0, 1020.0, "+495711xxx")


def test_the_journal_names_tenant_and_number_of_a_call_found_only_in_queue_log() -> None:
    entry = QueueCall("6.1", "buergerservice", "", "", "", entered=1010, abandoned=True, waittime=20, last=1030, caller="05711234")
    journal = {"6.1": decided("6.1", 1000.0, 1009.0, outcome="queue", reason="in_hours", tenant="minden", entry="115", topic="abfall")}
    (record,) = reconcile(Tracker(), set(), {"6.1": entry}, [], 9e9, journal=journal)
    assert (record.outcome, record.tenant, record.entry, record.topic, record.reason) == (
        Result.ABANDONED_QUEUE,
        "minden",
        "115",
        "abfall",
        "in_hours",
    )
    assert (record.arrived, record.dialled, record.wait) == (1000.0, "0571890", 20.0)


def test_a_call_seen_begin_and_decided_in_the_gap_takes_its_decision_from_the_journal() -> None:
    tracker = Tracker()
    for line in (DATA / "callback.jsonl").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event.get("Variable") == "LOTSE_OUTCOME":  # dropped before lotse's decision arrived
            break
        tracker.feed(event, 0.0)
    (uniqueid,) = tracker.calls
    tracker.calls[uniqueid].variables.clear()
    journal = {uniqueid: decided(uniqueid, 0.0, 50.0, outcome="callback", reason="overflow", tenant="minden")}
    (record,) = reconcile(tracker, set(), {}, [], 9e9, journal=journal)
    assert (record.outcome, record.tenant) == (Result.CALLBACK, "minden")
