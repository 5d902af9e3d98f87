"""The rules of lotse's promises: when a ticket is due, which callback may start, when to try again.

Pure: no I/O, no clock. ``lotse promises`` (ivr/promises.py) carries them out.

- A ticket's Rückmeldung is due after N *service hours*: only the open hours of
  the schedule count (wall-clock time inside them), public holidays and closures
  are skipped. Friday 17:00 + 24 service hours, with 08:00-18:00 on weekdays, is
  Wednesday 11:00: one hour on Friday, ten each on Monday and Tuesday, three on
  Wednesday.
- A queue callback keeps the caller's place: it is started only when no caller
  who joined that queue earlier is still waiting, never with more callbacks in
  progress than the queue has free agents, and never while another attempt to the
  same number is in progress.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from routing.model import Center, Entry, Tenant
from routing.numbers import NumberError, normalise
from routing.schedule import Schedule, wall

HORIZON_DAYS = 400  # a due time further away than this is not computed (a schedule without open hours)


def due(schedule: Schedule, tz: ZoneInfo, created: datetime, hours: float) -> datetime | None:
    """``created`` plus ``hours`` service hours of ``schedule``; None when it never has that many open hours."""
    remaining = round(hours * 3600)
    local = created.astimezone(tz)
    day, second = local.date(), local.hour * 3600 + local.minute * 60 + local.second
    for offset in range(HORIZON_DAYS):
        intervals, _ = schedule.day_hours(day)
        for interval in sorted(intervals):
            start = interval.start if offset else max(interval.start, second)
            if start >= interval.end:
                continue
            if remaining <= interval.end - start:
                return wall(day, start + remaining, tz)
            remaining -= interval.end - start
        day += timedelta(days=1)
    return None


def service_seconds(schedule: Schedule, tz: ZoneInfo, start: datetime, end: datetime) -> int:
    """The open seconds of ``schedule`` between two instants (how much of a promise was used)."""
    if end <= start:
        return 0
    first, last = start.astimezone(tz), end.astimezone(tz)
    total, day = 0, first.date()
    while day <= last.date():
        low = first.hour * 3600 + first.minute * 60 + first.second if day == first.date() else 0
        high = last.hour * 3600 + last.minute * 60 + last.second if day == last.date() else 86400
        for interval in schedule.day_hours(day)[0]:
            total += max(0, min(interval.end, high) - max(interval.start, low))
        day += timedelta(days=1)
    return total


# -- callback numbers --------------------------------------------------------------

# Numbers that cost the center money or reach a service, not a person: never called back.
REFUSED_PREFIXES = {
    "+49900": "a premium-rate number (0900)",
    "+49137": "a televoting number (0137)",
    "+49180": "a shared-cost service number (0180)",
    "+49190": "a premium-rate number (0190)",
    "+49118": "a directory enquiry number (0118)",
    "+4912": "an innovative-services number (012)",
}
MIN_DIGITS, MAX_DIGITS = 7, 15  # with the leading 0: 030 123 4 is the shortest German number


class CallbackNumberError(ValueError):
    """A number that lotse will not call back; the message says why, in words a caller's agent can read."""


def callback_number(keyed: str, country_code: str = "49") -> str:
    """The key form of a number a caller keyed in (or their caller ID) if lotse may call it back."""
    digits = keyed.rstrip("#")
    if not digits or not digits.isdigit():
        raise CallbackNumberError(f"'{keyed}' is not a telephone number (digits only, ended by #)")
    if digits.startswith("00"):
        raise CallbackNumberError(f"'{keyed}' is an international number; lotse calls back German numbers only")
    if not digits.startswith("0"):
        raise CallbackNumberError(f"'{keyed}' is a short or emergency number, or has no area code")
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        raise CallbackNumberError(f"'{keyed}' has {len(digits)} digits; a German number with area code has {MIN_DIGITS}-{MAX_DIGITS}")
    try:
        key = normalise(digits, country_code)
    except NumberError as exc:
        raise CallbackNumberError(str(exc)) from None
    for prefix, what in REFUSED_PREFIXES.items():
        if key.startswith(prefix):
            raise CallbackNumberError(f"'{keyed}' is {what}")
    return key


def national(key: str, country_code: str = "49") -> str:
    """How a number is read back to the caller: +495714711 -> 05714711."""
    own = "+" + country_code
    return "0" + key[len(own) :] if key.startswith(own) else key


# -- queue callbacks -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pending:
    """A queue callback waiting to be started."""

    id: str
    queue: str
    number: str
    joined: float  # when the caller first joined the queue (UNIX seconds): the place they keep
    not_before: float = 0.0  # the next attempt's earliest time


@dataclass(frozen=True, slots=True)
class QueueState:
    waiting: tuple[float, ...]  # join times of the callers waiting now (callbacks' own placeholders left out)
    free_agents: int  # logged in, not paused, not in a call
    in_progress: int  # callbacks of this queue being dialled or waiting for an agent


def to_start(pending: Iterable[Pending], queues: Mapping[str, QueueState], busy_numbers: Iterable[str], now: float) -> list[Pending]:
    """The callbacks that may start now, by the three rules; in each queue, in the order callers joined it."""
    busy = set(busy_numbers)
    started: list[Pending] = []
    by_queue: dict[str, list[Pending]] = {}
    for request in pending:
        by_queue.setdefault(request.queue, []).append(request)
    for queue, requests in sorted(by_queue.items()):
        state = queues.get(queue)
        if state is None:  # the queue's state is unknown: start nothing rather than jump the line
            continue
        slots = state.free_agents - state.in_progress
        earliest_waiting = min(state.waiting, default=float("inf"))
        for request in sorted(requests, key=lambda r: (r.joined, r.id)):
            if slots <= 0 or earliest_waiting < request.joined:
                break  # every later request joined later still
            if request.not_before > now or request.number in busy:
                continue
            started.append(request)
            busy.add(request.number)
            slots -= 1
    return started


def next_attempt(schedule: Schedule, tz: ZoneInfo, failed: datetime, attempt: int, attempts: int, minutes_apart: int) -> datetime | None:
    """When to try again after attempt number ``attempt`` failed; None after the last one (a ticket follows).

    The next attempt is ``minutes_apart`` later, moved to the next opening if that falls outside the hours.
    """
    if attempt >= attempts:
        return None
    then = failed + timedelta(minutes=minutes_apart)
    if schedule.status(then, tz).open:
        return then
    return schedule.next_open(then.astimezone(tz), tz)


# -- which promise -----------------------------------------------------------------------

# Reasons of a callback decision that the center cannot keep by an agent's call in the queue: a Rückmeldung.
TICKET_REASONS = frozenset({"department_closed", "department_unanswered", "closed", "holiday", "callback_failed"})


def promise_kind(reason: str) -> str:
    """'ticket' when the center could not finish the call (department, hours), else 'callback' (an agent calls back)."""
    return "ticket" if reason in TICKET_REASONS else "callback"


def callback_queue(center: Center, tenant: Tenant | None, topic: str | None) -> str | None:
    """The queue whose agents call back: the topic's, else the center's fallback queue."""
    if tenant is not None and topic and topic in tenant.topics:
        return tenant.topics[topic].queue
    return center.fallback_queue


def due_hours(center: Center, tenant: str | None, entry: str, topic: str | None, department: str | None) -> int:
    """A ticket's promise in service hours: the department's, else the topic's, the tenant's, 115's, the center's."""
    found = center.tenants.get(tenant or "")
    dept = center.departments.get(department or "")
    if dept is not None and dept.due_hours:
        return dept.due_hours
    if found is not None and topic and topic in found.topics and found.topics[topic].due_hours:
        return found.topics[topic].due_hours or 0
    if found is not None and found.due_hours:
        return found.due_hours
    if entry == Entry.SERVICE_115.value and center.service_115 is not None:
        return center.service_115.due_hours
    return center.promises.due_hours


def ticket_schedule(center: Center, tenant: str | None, entry: str, department: str | None) -> Schedule | None:
    """The hours a ticket's service hours are counted in: the department's, 115's for a 115 call, else the tenant's."""
    dept = center.departments.get(department or "")
    if dept is not None and dept.schedule is not None:
        return dept.schedule
    service = center.service_115
    if entry == Entry.SERVICE_115.value and service is not None:
        return service.schedules.get(tenant or "", service.schedule)
    found = center.tenants.get(tenant or "")
    return found.schedule if found is not None else None
