from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.schedule import (
    Closure,
    Interval,
    OpenDay,
    Schedule,
    ScheduleError,
    parse_clock,
    parse_interval,
    parse_weekdays,
    public_holidays,
)
from tests.conftest import BERLIN, at

H = 3600
WEEKDAYS_7_TO_18 = tuple((Interval(7 * H, 18 * H),) if d < 5 else () for d in range(7))


def nw(**kwargs: object) -> Schedule:
    return Schedule.build(WEEKDAYS_7_TO_18, "NW", **kwargs)  # type: ignore[arg-type]


def test_parse_interval_and_clock() -> None:
    assert parse_interval("07:30-18:00") == Interval(27000, 64800)
    assert parse_clock("24:00") == 86400
    assert parse_weekdays("mon-fri") == (0, 1, 2, 3, 4)
    assert parse_weekdays("mon,wed") == (0, 2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("7:30-18:00", "not a time of day"),
        ("18:00-07:00", "ends before it starts"),
        ("24:00-24:00", "starts at 24:00"),
        ("0800", "not an interval"),
        ("08:61-09:00", "between 00:00 and 24:00"),
    ],
)
def test_bad_intervals(text: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_interval(text)


def test_bad_weekdays() -> None:
    with pytest.raises(ScheduleError, match="runs backwards"):
        parse_weekdays("fri-mon")


def test_open_and_closed_on_a_weekday() -> None:
    s = nw()
    assert s.status(at("2026-11-23 07:00"), BERLIN).open
    assert s.status(at("2026-11-23 17:59"), BERLIN).open
    closed = s.status(at("2026-11-23 18:00"), BERLIN)
    assert not closed.open
    assert closed.next_open == at("2026-11-24 07:00")


def test_dst_spring_forward_uses_wall_clock() -> None:
    s = nw()  # 2026-03-30 is the Monday after the change to CEST (UTC+2) on Sunday 29 March
    assert not s.status(datetime(2026, 3, 30, 4, 59, tzinfo=UTC), BERLIN).open  # 06:59 CEST
    assert s.status(datetime(2026, 3, 30, 5, 0, tzinfo=UTC), BERLIN).open  # 07:00 CEST


def test_dst_fall_back_uses_wall_clock() -> None:
    s = nw()  # 2026-10-26 is the Monday after the change to CET (UTC+1)
    assert not s.status(datetime(2026, 10, 26, 5, 59, tzinfo=UTC), BERLIN).open  # 06:59 CET
    assert s.status(datetime(2026, 10, 26, 6, 0, tzinfo=UTC), BERLIN).open  # 07:00 CET


def test_next_open_across_a_dst_weekend() -> None:
    s = nw()
    friday_evening = at("2026-03-27 19:00")  # CET, UTC+1
    assert s.status(friday_evening, BERLIN).next_open == datetime(2026, 3, 30, 5, 0, tzinfo=UTC)  # 07:00 CEST


def test_easter_on_the_dst_weekend() -> None:
    s = nw()  # 2027: Karfreitag 26 March, DST change on Easter Sunday, Ostermontag 29 March
    status = s.status(at("2027-03-26 10:00"), BERLIN)
    assert status.reason == "public holiday: Karfreitag"
    assert status.next_open == datetime(2027, 3, 30, 5, 0, tzinfo=UTC)


def test_midnight_boundaries() -> None:
    all_day = tuple((Interval(0, 86400),) if d == 0 else () for d in range(7))
    s = Schedule.build(all_day, None)
    assert s.status(at("2026-11-23 00:00"), BERLIN).open
    assert s.status(at("2026-11-23 23:59"), BERLIN).open
    assert not s.status(at("2026-11-24 00:00"), BERLIN).open


def test_holidays_differ_per_state() -> None:
    corpus_christi = date(2027, 5, 27)
    assert public_holidays("NW", 2027)[corpus_christi] == "Fronleichnam"
    assert corpus_christi not in public_holidays("NI", 2027)
    assert date(2026, 11, 18) in public_holidays("SN", 2026)  # Buß- und Bettag
    assert date(2026, 11, 18) not in public_holidays("NW", 2026)
    assert date(2026, 8, 15) not in public_holidays("BY", 2026)
    assert date(2026, 8, 15) in public_holidays("BY", 2026, ("public", "catholic"))  # Mariä Himmelfahrt


def test_a_holiday_closes_with_its_name() -> None:
    status = nw().status(at("2027-05-27 10:00"), BERLIN)
    assert not status.open and status.holiday
    assert status.reason == "public holiday: Fronleichnam"
    ni = Schedule.build(WEEKDAYS_7_TO_18, "NI")
    assert ni.status(at("2027-05-27 10:00"), BERLIN).open


def test_closures_whole_day_range_and_hours() -> None:
    s = nw(
        closures=(
            Closure(date(2026, 12, 28), date(2026, 12, 30), "Betriebsferien"),
            Closure(date(2026, 12, 9), date(2026, 12, 9), "Personalversammlung", (Interval(10 * H, 12 * H),)),
        )
    )
    assert s.status(at("2026-12-29 10:00"), BERLIN).reason == "closure: Betriebsferien"
    assert s.status(at("2026-12-09 09:59"), BERLIN).open
    assert not s.status(at("2026-12-09 11:00"), BERLIN).open
    assert s.status(at("2026-12-09 12:00"), BERLIN).open
    assert s.status(at("2026-12-09 11:00"), BERLIN).next_open == at("2026-12-09 12:00")


def test_open_days_replace_hours_even_on_holidays() -> None:
    s = nw(
        open_days=(
            OpenDay(date(2026, 12, 24), (Interval(9 * H, 12 * H),), "Heiligabend"),
            OpenDay(date(2026, 12, 26), (Interval(10 * H, 12 * H),), "Wahl"),
        )
    )
    assert s.status(at("2026-12-24 11:00"), BERLIN).open
    assert not s.status(at("2026-12-24 13:00"), BERLIN).open
    assert s.status(at("2026-12-26 11:00"), BERLIN).open  # a holiday, but a special opening


def test_never_open_has_no_next_opening() -> None:
    s = Schedule.build(tuple(() for _ in range(7)), "NW")
    assert s.status(at("2026-11-23 10:00"), BERLIN).next_open is None


instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC))


@given(now=instants)
def test_status_depends_on_the_instant_not_its_representation(now: datetime) -> None:
    s = nw()
    assert s.status(now, BERLIN).open == s.status(now.astimezone(BERLIN), BERLIN).open


@given(now=instants)
def test_status_matches_wall_clock_rule(now: datetime) -> None:
    local = now.astimezone(BERLIN)
    expected = local.weekday() < 5 and 7 <= local.hour < 18 and local.date() not in public_holidays("NW", local.year)
    assert nw().status(now, BERLIN).open == expected


@given(now=instants)
def test_next_open_is_the_first_open_minute(now: datetime) -> None:
    s = nw()
    status = s.status(now, BERLIN)
    if status.open:
        return
    assert status.next_open is not None
    assert status.next_open > now
    assert s.status(status.next_open, BERLIN).open
    just_before = status.next_open - timedelta(minutes=1)
    if just_before > now:
        assert not s.status(just_before, BERLIN).open
