"""Figures of the promises (docs/metrics.md, "Promises"): pure, from the rows of the promise tables.

- callbacks requested: requests taken in the period (queue callbacks);
- callbacks reached: of those, the ones whose attempt was answered by the caller;
- time to callback: request -> caller answered, median and 90th percentile (seconds);
- tickets opened: tickets created in the period; closed: of those, done or cancelled;
- overdue: of those, open past the due time, or closed after it;
- Rückmeldung within the promise: done by the due time / (done + overdue); tickets
  still open and not yet due are in neither part (their outcome is not known yet).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from promises.store import Ticket


@dataclass(frozen=True, slots=True)
class PromiseFigures:
    callbacks_requested: int = 0
    callbacks_reached: int = 0
    callbacks_to_ticket: int = 0
    callback_median_s: float | None = None
    callback_p90_s: float | None = None
    tickets_opened: int = 0
    tickets_closed: int = 0
    tickets_overdue: int = 0
    tickets_in_time: int = 0

    @property
    def within_promise(self) -> float | None:
        """Percent of tickets answered by their due time, of those whose outcome is known."""
        known = self.tickets_in_time + self.tickets_overdue
        return 100.0 * self.tickets_in_time / known if known else None


PROMISE_DIMENSIONS = ("tenant", "entry", "topic", "department")


def promise_figures(
    callbacks: Iterable[Mapping[str, Any]], tickets: Iterable[Ticket], now: float, by: Sequence[str] = ("tenant",)
) -> dict[str, PromiseFigures]:
    """Figures per value of ``by`` (of PROMISE_DIMENSIONS, joined by ' / '; '' for none) and for all ('*')."""
    dims = [d for d in by if d in PROMISE_DIMENSIONS]

    def scope_of(values: Mapping[str, Any]) -> str:
        return " / ".join(str(values.get(d) or "-") for d in dims)

    waits: dict[str, list[float]] = {}
    counts: dict[str, dict[str, int]] = {}

    def add(tenant: str, key: str) -> None:
        for scope in (tenant, "*"):
            counts.setdefault(scope, {}).setdefault(key, 0)
            counts[scope][key] += 1

    for row in callbacks:
        tenant = scope_of(row)
        add(tenant, "callbacks_requested")
        if row["status"] == "reached" and row["reached"] is not None:
            add(tenant, "callbacks_reached")
            for scope in (tenant, "*"):
                waits.setdefault(scope, []).append(row["reached"] - row["created"])
        elif row["status"] == "ticket":
            add(tenant, "callbacks_to_ticket")
    for ticket in tickets:
        scope = scope_of({d: getattr(ticket, d) for d in dims})
        add(scope, "tickets_opened")
        if ticket.status in ("done", "cancelled"):
            add(scope, "tickets_closed")
        if ticket.due is None or ticket.status == "cancelled":
            continue
        if ticket.status == "done" and ticket.closed is not None and ticket.closed <= ticket.due:
            add(scope, "tickets_in_time")
        elif ticket.status == "done" or ticket.due < now:
            add(scope, "tickets_overdue")
    found = {}
    for scope, values in counts.items():
        times = sorted(waits.get(scope, []))
        p90 = times[min(len(times) - 1, int(0.9 * len(times)))] if times else None
        found[scope] = PromiseFigures(**values, callback_median_s=statistics.median(times) if times else None, callback_p90_s=p90)
    return found


def render_table(figures: Mapping[str, PromiseFigures], by: Sequence[str] = ("tenant",)) -> str:
    label = " / ".join(d for d in by if d in PROMISE_DIMENSIONS) or "center"
    header = (
        f"{label:<30} {'cb requested':>12} {'cb reached':>10} {'cb->ticket':>10} {'median s':>8} "
        f"{'tickets':>7} {'closed':>6} {'overdue':>7} {'in time %':>9}"
    )
    lines = ["Promises (callbacks and tickets opened in the period)", header]
    for scope in sorted(figures, key=lambda s: (s == "*", s)):
        f = figures[scope]
        median = f"{f.callback_median_s:.0f}" if f.callback_median_s is not None else "-"
        rate = f"{f.within_promise:.1f}" if f.within_promise is not None else "-"
        name = "all" if scope == "*" else scope or "-"
        lines.append(
            f"{name:<30} {f.callbacks_requested:>12} {f.callbacks_reached:>10} {f.callbacks_to_ticket:>10} {median:>8} "
            f"{f.tickets_opened:>7} {f.tickets_closed:>6} {f.tickets_overdue:>7} {rate:>9}"
        )
    return "\n".join(lines)
