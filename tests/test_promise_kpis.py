"""The promises' figures (docs/metrics.md): definitions pinned on hand-made rows."""

from __future__ import annotations

from typing import Any

from promises.figures import promise_figures, render_table
from promises.store import Ticket

NOW = 1_000_000.0


def callback(tenant: str, status: str, created: float, reached: float | None = None) -> dict[str, Any]:
    return {"tenant": tenant, "status": status, "created": created, "reached": reached}


def ticket(n: int, tenant: str, status: str, due: float | None, closed: float | None = None) -> Ticket:
    return Ticket(n, f"r{n}", NOW - 9000, due, tenant, "own", "", "", "department_closed", "+495714711", status, "", closed, True, False)


def test_callback_and_ticket_figures_follow_their_definitions() -> None:
    callbacks = [
        callback("minden", "reached", 100.0, 160.0),
        callback("minden", "reached", 100.0, 400.0),
        callback("minden", "ticket", 100.0),
        callback("kreis", "pending", 100.0),
    ]
    tickets = [
        ticket(1, "minden", "done", due=NOW - 100, closed=NOW - 200),  # in time
        ticket(2, "minden", "done", due=NOW - 100, closed=NOW - 50),  # late
        ticket(3, "minden", "open", due=NOW - 1),  # open past due: overdue
        ticket(4, "minden", "open", due=NOW + 1000),  # not yet due: unknown
        ticket(5, "minden", "cancelled", due=NOW - 100, closed=NOW - 500),  # neither
    ]
    figures = promise_figures(callbacks, tickets, NOW)
    minden = figures["minden"]
    assert (minden.callbacks_requested, minden.callbacks_reached, minden.callbacks_to_ticket) == (3, 2, 1)
    assert (minden.callback_median_s, minden.callback_p90_s) == (180.0, 300.0)
    assert (minden.tickets_opened, minden.tickets_closed, minden.tickets_overdue, minden.tickets_in_time) == (5, 3, 2, 1)
    assert minden.within_promise is not None and round(minden.within_promise, 1) == 33.3
    assert figures["*"].callbacks_requested == 4 and figures["kreis"].within_promise is None
    table = render_table(figures)
    assert "minden" in table and table.splitlines()[-1].startswith("all")
