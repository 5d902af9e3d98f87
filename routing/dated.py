"""Dated changes: ``valid_from`` / ``valid_until`` on tenants, entries, menus, topics and 115 prefixes.

The days on which anything starts or ends cut time into periods. The loader
compiles the config once per period, from the parts in force in it, so each
period is checked on its own (a menu that names a topic which ends, a number
that two tenants hold one after the other) and the engine picks the period of
the call's own date: the running server switches at midnight without a reload.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import TypeVar

from routing import schema
from routing.problems import Problem
from routing.validate import Parts

DAY = timedelta(days=1)
Period = tuple[date | None, date | None]  # first day, first day after; None: open-ended
D = TypeVar("D", bound=schema.Dated)


def holds(item: schema.Dated, day: date) -> bool:
    """Whether ``item`` is in force on ``day``."""
    return (item.valid_from is None or item.valid_from <= day) and (item.valid_until is None or day <= item.valid_until)


def _dated(parts: Parts) -> Iterator[schema.Dated]:
    for tenant in parts.tenants.values():
        yield tenant
        yield from tenant.entries.values()
        yield from tenant.menus.values()
        yield from tenant.topics.values()
    yield from parts.topics.values()
    if parts.service_115 is not None:
        yield from parts.service_115.prefixes.values()


def periods(parts: Parts) -> tuple[Period, ...]:
    """The periods in which the same parts are in force, in order; one open period when nothing is dated."""
    days: set[date] = set()
    for item in _dated(parts):
        if item.valid_from is not None:
            days.add(item.valid_from)
        if item.valid_until is not None:
            days.add(item.valid_until + DAY)
    cuts = sorted(days)
    return tuple(zip([None, *cuts], [*cuts, None], strict=True))


def on(parts: Parts, day: date) -> Parts:
    """The parts in force on ``day``."""

    def kept(items: dict[str, D]) -> dict[str, D]:
        return {key: item for key, item in items.items() if holds(item, day)}

    tenants = {
        tid: tenant.model_copy(update={"entries": kept(tenant.entries), "menus": kept(tenant.menus), "topics": kept(tenant.topics)})
        for tid, tenant in kept(parts.tenants).items()
    }
    service = parts.service_115
    if service is not None:
        service = service.model_copy(update={"prefixes": kept(service.prefixes)})
    return replace(parts, tenants=tenants, topics=kept(parts.topics), service_115=service)


def a_day_in(period: Period) -> date:
    """A day inside ``period``, to pick its parts."""
    start, end = period
    if start is not None:
        return start
    return end - DAY if end is not None else date.min  # nothing dated: every day has the same parts


def label(period: Period) -> str:
    start, end = period
    if start is None:
        return f"until {end - DAY}" if end else "always"
    return f"from {start} on" if end is None else f"{start} to {end - DAY}"


def contains(period: Period, day: date) -> bool:
    start, end = period
    return (start is None or start <= day) and (end is None or day < end)


def merged(found: Sequence[tuple[Period, Iterable[Problem]]]) -> list[Problem]:
    """The problems of every period once; one that holds only in some periods says in which."""
    where: dict[Problem, list[Period]] = {}
    for period, problems in found:
        for problem in problems:
            where.setdefault(problem, []).append(period)
    result = []
    for problem, seen in where.items():
        if len(seen) == len(found):
            result.append(problem)
        else:
            result.append(replace(problem, message=f"{', '.join(label(p) for p in _joined(seen))}: {problem.message}"))
    return result


def _joined(seen: list[Period]) -> list[Period]:
    """Periods that follow each other as one: 'until 2027-03-31', not 'until 2026-12-31, 2027-01-01 to 2027-03-31'."""
    joined = [seen[0]]
    for start, end in seen[1:]:
        if joined[-1][1] == start:
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    return joined
