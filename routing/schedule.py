"""Opening hours: weekly intervals, public holidays per German state, closures.

Everything here is pure. Times are local wall-clock times in the center's time
zone; an instant is converted once (``local = now.astimezone(tz)``), so DST
changes need no special cases: 07:00 means 07:00 on the wall on either side of
the change, and the skipped hour in spring simply never occurs.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from holidays.countries.germany import Germany

DAY_SECONDS = 24 * 3600
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
GERMAN_STATES = tuple(s for s in Germany.subdivisions if len(s) == 2)


class ScheduleError(ValueError):
    """An hours or interval text that cannot be read."""


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    """Seconds since local midnight, ``start`` inclusive, ``end`` exclusive."""

    start: int
    end: int

    def __str__(self) -> str:
        return f"{clock(self.start)}-{clock(self.end)}"


def clock(seconds: int) -> str:
    """Seconds since local midnight as HH:MM."""
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def parse_clock(text: str) -> int:
    """``"07:30"`` -> seconds since midnight; ``"24:00"`` is allowed as an end."""
    parts = text.strip().split(":")
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ScheduleError(f"'{text}' is not a time of day; write it as HH:MM, e.g. 07:30")
    hour, minute = int(parts[0]), int(parts[1])
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        raise ScheduleError(f"'{text}' is not a time of day between 00:00 and 24:00")
    return hour * 3600 + minute * 60


def parse_interval(text: str) -> Interval:
    """``"07:00-18:00"`` -> Interval; rejects empty and overnight intervals."""
    start_text, sep, end_text = text.partition("-")
    if not sep:
        raise ScheduleError(f"'{text}' is not an interval; write it as HH:MM-HH:MM, e.g. 07:00-18:00")
    start, end = parse_clock(start_text), parse_clock(end_text)
    if start == DAY_SECONDS:
        raise ScheduleError(f"'{text}' starts at 24:00; use 00:00 of the next day")
    if end <= start:
        raise ScheduleError(
            f"'{text}' ends before it starts; an interval over midnight is two intervals, "
            f"e.g. '{start_text.strip()}-24:00' and '00:00-{end_text.strip()}' on the next day"
        )
    return Interval(start, end)


def check_disjoint(intervals: tuple[Interval, ...]) -> str | None:
    """A message naming the first two overlapping intervals, or None."""
    ordered = sorted(intervals)
    for before, after in itertools.pairwise(ordered):
        if after.start < before.end:
            return f"{before} and {after} overlap; merge them into one interval"
    return None


def parse_weekdays(key: str) -> tuple[int, ...]:
    """``"mon-fri"`` -> (0, 1, 2, 3, 4); ``"sat"`` -> (5,); ``"mon,wed"`` -> (0, 2)."""
    days: list[int] = []
    for part in key.lower().split(","):
        first, sep, last = part.strip().partition("-")
        try:
            a = WEEKDAYS.index(first.strip())
            b = WEEKDAYS.index(last.strip()) if sep else a
        except ValueError:
            raise ScheduleError(
                f"'{key}' is not a weekday or range of weekdays; use {', '.join(WEEKDAYS)}, a range like mon-fri or a list like mon,wed"
            ) from None
        if b < a:
            raise ScheduleError(f"'{part.strip()}' runs backwards; write it as {WEEKDAYS[b]}-{WEEKDAYS[a]}")
        days.extend(range(a, b + 1))
    return tuple(days)


@lru_cache(maxsize=512)
def public_holidays(state: str, year: int, categories: tuple[str, ...] = ("public",)) -> Mapping[date, str]:
    """German public holidays of one state and year, with German names."""
    table = Germany(subdiv=state, years=year, language="de", categories=categories)
    return dict(table.items())


@dataclass(frozen=True, slots=True)
class Closure:
    """Days (``first``..``last``) on which the given hours, or the whole day, are closed."""

    first: date
    last: date
    reason: str
    intervals: tuple[Interval, ...] = ()  # empty: the whole day


@dataclass(frozen=True, slots=True)
class OpenDay:
    """A date with its own hours, replacing the weekday's (and any public holiday)."""

    day: date
    intervals: tuple[Interval, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class Status:
    """Open or closed at one instant, and why."""

    open: bool
    reason: str  # e.g. "open 07:00-18:00", "public holiday: Ostermontag"
    holiday: bool = False
    next_open: datetime | None = None


@dataclass(frozen=True, slots=True)
class Schedule:
    """When one thing (a tenant, 115, a department) is open."""

    weekly: tuple[tuple[Interval, ...], ...]  # index 0 = Monday
    state: str | None = None  # None: no public holidays
    holiday_categories: tuple[str, ...] = ("public",)
    closures: Mapping[date, tuple[Closure, ...]] = field(default_factory=dict)
    open_days: Mapping[date, OpenDay] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        weekly: tuple[tuple[Interval, ...], ...],
        state: str | None = None,
        holiday_categories: tuple[str, ...] = ("public",),
        closures: tuple[Closure, ...] = (),
        open_days: tuple[OpenDay, ...] = (),
    ) -> Schedule:
        by_day: dict[date, list[Closure]] = {}
        for closure in closures:
            day = closure.first
            while day <= closure.last:
                by_day.setdefault(day, []).append(closure)
                day += timedelta(days=1)
        return cls(
            weekly=weekly,
            state=state,
            holiday_categories=holiday_categories,
            closures={d: tuple(c) for d, c in by_day.items()},
            open_days={o.day: o for o in open_days},
        )

    def day_hours(self, day: date) -> tuple[tuple[Interval, ...], str]:
        """The open intervals of a local date and a reason when there are none."""
        special = self.open_days.get(day)
        if special is not None:
            intervals, reason = special.intervals, f"special opening: {special.reason}"
        else:
            holiday = self.holiday(day)
            if holiday is not None:
                return (), f"public holiday: {holiday}"
            intervals, reason = self.weekly[day.weekday()], f"closed on {WEEKDAYS[day.weekday()]}"
        for closure in self.closures.get(day, ()):
            if not closure.intervals:
                return (), f"closure: {closure.reason}"
            intervals = _subtract(intervals, closure.intervals)
            reason = f"closure: {closure.reason}"
        return intervals, reason

    def holiday(self, day: date) -> str | None:
        if self.state is None:
            return None
        return public_holidays(self.state, day.year, self.holiday_categories).get(day)

    def status(self, now: datetime, tz: ZoneInfo) -> Status:
        """Whether it is open at ``now`` (timezone-aware), with the reason."""
        local = now.astimezone(tz)
        second = local.hour * 3600 + local.minute * 60 + local.second
        intervals, reason = self.day_hours(local.date())
        for interval in intervals:
            if interval.start <= second < interval.end:
                return Status(True, f"open {interval}")
        if intervals:
            reason = f"outside today's hours {', '.join(map(str, intervals))}"
        return Status(
            False,
            reason,
            holiday=reason.startswith("public holiday"),
            next_open=self.next_open(local, tz),
        )

    def next_open(self, local: datetime, tz: ZoneInfo, horizon_days: int = 31) -> datetime | None:
        """The next instant at which it opens, within ``horizon_days``."""
        second = local.hour * 3600 + local.minute * 60 + local.second
        day = local.date()
        for offset in range(horizon_days + 1):
            intervals, _ = self.day_hours(day)
            for interval in sorted(intervals):
                if offset or interval.start > second:
                    return wall(day, interval.start, tz)
            day += timedelta(days=1)
        return None

    def open_seconds_per_week(self) -> int:
        return sum(i.end - i.start for day in self.weekly for i in day)


def wall(day: date, second: int, tz: ZoneInfo) -> datetime:
    """The instant ``second`` seconds after midnight of ``day`` on the wall clock of ``tz``."""
    return (datetime.combine(day, time()) + timedelta(seconds=second)).replace(tzinfo=tz)


def _subtract(intervals: tuple[Interval, ...], closed: tuple[Interval, ...]) -> tuple[Interval, ...]:
    result: list[Interval] = []
    for interval in intervals:
        pieces = [interval]
        for cut in closed:
            next_pieces: list[Interval] = []
            for piece in pieces:
                if cut.end <= piece.start or cut.start >= piece.end:
                    next_pieces.append(piece)
                    continue
                if piece.start < cut.start:
                    next_pieces.append(Interval(piece.start, cut.start))
                if cut.end < piece.end:
                    next_pieces.append(Interval(cut.end, piece.end))
            pieces = next_pieces
        result.extend(pieces)
    return tuple(result)
