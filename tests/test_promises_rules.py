"""The pure rules of the promises: due times in service hours, callback numbers, fairness of queue callbacks."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.promises import (
    CallbackNumberError,
    Pending,
    QueueState,
    callback_number,
    due,
    national,
    next_attempt,
    service_seconds,
    to_start,
)
from routing.schedule import Schedule, parse_interval
from tests.conftest import BERLIN, at

WEEKDAYS_8_18 = Schedule.build(tuple((parse_interval("08:00-18:00"),) if d < 5 else () for d in range(7)), "NW")


def test_friday_1700_plus_24_service_hours_is_wednesday_1100() -> None:
    assert due(WEEKDAYS_8_18, BERLIN, at("2026-11-27 17:00"), 24) == at("2026-12-02 11:00")


def test_holidays_are_skipped() -> None:
    # Wed 23 Dec 2026 17:00 + 20 h: 1 h that day, 10 h on the 24th (a working day in NW), Christmas (Fri),
    # Boxing Day and Sunday skipped, 9 h on Monday
    assert due(WEEKDAYS_8_18, BERLIN, at("2026-12-23 17:00"), 20) == at("2026-12-28 17:00")


def test_a_request_outside_hours_starts_counting_at_the_opening() -> None:
    assert due(WEEKDAYS_8_18, BERLIN, at("2026-11-28 22:00"), 2) == at("2026-11-30 10:00")


def test_the_dst_change_counts_wall_clock_hours() -> None:
    # the clocks go forward in the night to Sun 29 Mar 2026: Friday 17:00 + 11 h is Monday 18:00 either way
    assert due(WEEKDAYS_8_18, BERLIN, at("2026-03-27 17:00"), 11) == at("2026-03-30 18:00")
    assert due(WEEKDAYS_8_18, BERLIN, at("2026-10-23 17:00"), 11) == at("2026-10-26 18:00")


def test_a_schedule_without_open_hours_has_no_due_time() -> None:
    assert due(Schedule.build(((),) * 7), BERLIN, at("2026-11-27 17:00"), 1) is None


@settings(max_examples=200)
@given(st.datetimes(datetime(2026, 1, 1), datetime(2028, 12, 31)), st.integers(1, 80))
def test_due_uses_exactly_the_promised_service_hours(created: datetime, hours: int) -> None:
    start = created.replace(tzinfo=BERLIN)
    end = due(WEEKDAYS_8_18, BERLIN, start, hours)
    assert end is not None
    assert service_seconds(WEEKDAYS_8_18, BERLIN, start, end) == hours * 3600
    assert WEEKDAYS_8_18.status(end - timedelta(seconds=1), BERLIN).open  # it ends inside opening hours


@pytest.mark.parametrize(
    ("keyed", "key"),
    [("05714711#", "+495714711"), ("0571 4711", None), ("01701234567#", "+491701234567"), ("0304567890", "+49304567890")],
)
def test_german_numbers_are_taken(keyed: str, key: str | None) -> None:
    if key is None:
        with pytest.raises(CallbackNumberError, match="is not a telephone number"):
            callback_number(keyed)
    else:
        assert callback_number(keyed) == key
        assert national(key) == keyed.rstrip("#")


@pytest.mark.parametrize(
    ("keyed", "why"),
    [
        ("110#", "short or emergency number"),
        ("112", "short or emergency number"),
        ("116117", "short or emergency number"),
        ("004930123456", "international number"),
        ("09001234567", "premium-rate number \\(0900\\)"),
        ("01371234567", "televoting"),
        ("018012345678", "shared-cost"),
        ("0301", "has 4 digits"),
        ("0123456789012345", "has 16 digits"),
        ("", "is not a telephone number"),
        ("05714711*", "is not a telephone number"),
    ],
)
def test_numbers_lotse_does_not_call_back_are_refused_with_the_reason(keyed: str, why: str) -> None:
    with pytest.raises(CallbackNumberError, match=why):
        callback_number(keyed)


def test_a_callback_waits_for_the_callers_who_joined_before_it() -> None:
    request = Pending("r1", "q", "+495714711", joined=100.0)
    earlier_waiting = {"q": QueueState(waiting=(90.0, 120.0), free_agents=2, in_progress=0)}
    assert to_start([request], earlier_waiting, (), now=200.0) == []
    only_later = {"q": QueueState(waiting=(120.0,), free_agents=1, in_progress=0)}
    assert to_start([request], only_later, (), now=200.0) == [request]


def test_never_more_callbacks_in_progress_than_free_agents() -> None:
    requests = [Pending(f"r{n}", "q", f"+49571{n:04d}", joined=float(n)) for n in range(5)]
    state = {"q": QueueState(waiting=(), free_agents=3, in_progress=1)}
    assert [r.id for r in to_start(requests, state, (), now=10.0)] == ["r0", "r1"]


def test_never_two_attempts_to_one_number_at_once() -> None:
    a, b = Pending("a", "q1", "+495714711", 1.0), Pending("b", "q2", "+495714711", 2.0)
    free = QueueState((), 5, 0)
    assert to_start([a, b], {"q1": free, "q2": free}, (), now=10.0) == [a]
    assert to_start([a, b], {"q1": free, "q2": free}, ("+495714711",), now=10.0) == []


def test_an_unknown_queue_state_starts_nothing_and_a_retry_waits_for_its_time() -> None:
    retry = Pending("r", "q", "+495714711", 1.0, not_before=500.0)
    assert to_start([retry], {}, (), now=600.0) == []
    assert to_start([retry], {"q": QueueState((), 1, 0)}, (), now=400.0) == []
    assert to_start([retry], {"q": QueueState((), 1, 0)}, (), now=600.0) == [retry]


@settings(max_examples=300)
@given(
    st.lists(st.tuples(st.integers(0, 50), st.integers(0, 4), st.integers(0, 3)), max_size=12),
    st.lists(st.integers(0, 50), max_size=8),
    st.integers(0, 4),
    st.integers(0, 3),
)
def test_fairness_rules_hold_for_any_queue(requests: list[tuple[int, int, int]], waiting: list[int], free: int, in_progress: int) -> None:
    pending = [Pending(f"r{n}", "q", f"+49571{number}", float(joined)) for n, (joined, number, _) in enumerate(requests)]
    state = QueueState(tuple(float(w) for w in waiting), free, in_progress)
    started = to_start(pending, {"q": state}, (), now=100.0)
    assert len(started) <= max(0, free - in_progress)  # never more than the free agents
    assert all(min(state.waiting, default=1e9) >= r.joined for r in started)  # nobody who joined earlier still waits
    assert len({r.number for r in started}) == len(started)  # one attempt per number
    not_started = [r for r in pending if r not in started]
    for r in started:  # no request jumps an earlier one that could have started (same number aside)
        assert all(o.joined >= r.joined or o.number in {s.number for s in started} for o in not_started)


def test_next_attempts_are_minutes_apart_and_only_in_opening_hours() -> None:
    assert next_attempt(WEEKDAYS_8_18, BERLIN, at("2026-11-23 10:00"), 1, 3, 15) == at("2026-11-23 10:15")
    assert next_attempt(WEEKDAYS_8_18, BERLIN, at("2026-11-27 17:50"), 2, 3, 15) == at("2026-11-30 08:00")
    assert next_attempt(WEEKDAYS_8_18, BERLIN, at("2026-11-23 10:00"), 3, 3, 15) is None  # the last: a ticket follows
