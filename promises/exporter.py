"""/metrics of lotse promises: callbacks and tickets by status, overdue tickets, attempts by result.

Read when Prometheus scrapes (from the worker's counters and the store), never kept twice; docs/metrics.md
says what each one means.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from promises.figures import promise_figures
from promises.inbox import REASONS
from promises.store import TICKET_STATES, Promises
from promises.worker import Keeper

log = logging.getLogger("lotse.promises")


class PromiseCollector(Collector):
    """/metrics of lotse promises: callbacks and tickets by status, overdue tickets, attempts by result."""

    def __init__(self, keeper: Keeper) -> None:
        self.keeper = keeper

    def collect(self) -> Iterable[GaugeMetricFamily | CounterMetricFamily]:
        store = self.keeper.store
        up = GaugeMetricFamily("lotse_promises_ami_up", "1 while lotse promises is logged in to the AMI")
        up.add_metric([], 1.0 if self.keeper.link.up else 0.0)
        yield up
        yield GaugeMetricFamily(
            "lotse_promises_last_round_timestamp_seconds", "When the worker last finished a round", self.keeper.last_round
        )
        attempts = GaugeMetricFamily("lotse_callback_attempts", "Callback attempts finished since start, by Dial result", labels=["result"])
        for result, n in sorted(self.keeper.attempts.items()):
            attempts.add_metric([result], n)
        yield attempts
        waiting = GaugeMetricFamily("lotse_messages_undelivered", "Messages of a due batch that could not be sent yet", labels=["intake"])
        for intake in sorted(self.keeper.center.messages):
            waiting.add_metric([intake], self.keeper.undelivered.get(intake, 0))
        yield waiting
        aside = CounterMetricFamily(
            "lotse_promises_spool_set_aside", "Spool files moved to rejected/ since start, by reason (docs/security.md)", labels=["reason"]
        )
        for reason in REASONS:
            aside.add_metric([reason], sum(inbox.set_aside.get(reason, 0) for inbox in (self.keeper.requests, self.keeper.results)))
        yield aside
        outbox = self.keeper.post.outbox
        yield GaugeMetricFamily(
            "lotse_mails_unconfirmed",
            "Mails handed to the mail server whose acceptance was never heard, since start (not sent again: promises.outbox)",
            outbox.unconfirmed if outbox is not None else 0,
        )
        db_up = GaugeMetricFamily("lotse_promises_db_up", "1 while the worker's database answered its last round")
        db_up.add_metric([], 1.0 if store is not None and self.keeper.database.up else 0.0)
        yield db_up
        if store is None or not self.keeper.database.up:
            return  # the figures from the database wait for it; the ones above still answer
        try:
            yield from self._stored(store)
        except SQLAlchemyError as exc:  # gone since the last round: the next round notices, this scrape goes without them
            log.warning("promises figures from the database left out of /metrics: %s", str(exc).splitlines()[0])

    def _stored(self, store: Promises) -> list[GaugeMetricFamily]:
        counts = store.counts()
        callbacks = GaugeMetricFamily("lotse_callbacks", "Callback requests by status", labels=["status"])
        tickets = GaugeMetricFamily("lotse_tickets", "Tickets (Rückmeldungen) by status", labels=["status"])
        for status in ("pending", "dialling", "reached", "ticket", "cancelled"):
            callbacks.add_metric([status], counts.get(f"callbacks_{status}", 0))
        for status in TICKET_STATES:
            tickets.add_metric([status], counts.get(f"tickets_{status}", 0))
        overdue = GaugeMetricFamily("lotse_tickets_overdue", "Open tickets past their due time", labels=["tenant"])
        now = time.time()
        late: dict[str, int] = {}
        for ticket in store.tickets("open"):
            if ticket.due is not None and ticket.due < now:
                late[ticket.tenant] = late.get(ticket.tenant, 0) + 1
        for tenant, n in sorted(late.items()):
            overdue.add_metric([tenant or "-"], n)
        within = GaugeMetricFamily(
            "lotse_tickets_within_promise_percent",
            "Tickets of the last 30 days done by their due time / those done or overdue (docs/metrics.md)",
            labels=["tenant"],
        )
        month = promise_figures(store.all_callbacks(now - 30 * 86400), store.tickets_between(now - 30 * 86400, now + 1), now)
        for scope, figures in sorted(month.items()):
            if scope != "*" and figures.within_promise is not None:
                within.add_metric([scope or "-"], figures.within_promise)
        return [callbacks, tickets, overdue, within]
