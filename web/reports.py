"""The reports page's data: the records of whole local days from the database, rendered by metrics.council."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Engine

from metrics import council, dispositions
from metrics.store import Store
from routing.model import Center
from web.board import TenantView, tenant_figures
from web.feed import Figures


def day_span(center: Center, first: date, last: date) -> tuple[float, float]:
    """[midnight of first, midnight after last) in the center's time zone, as UNIX seconds."""
    start = datetime.combine(first, datetime.min.time(), center.tz)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), center.tz)
    return start.timestamp(), end.timestamp()


def report_page(center: Center, engine: Engine, first: date, last: date) -> str:
    start, end = day_span(center, first, last)
    records = list(Store(engine, center.tz).between(start, end))
    return council.render(center, records, first, last, dispositions.of_calls(engine, start, end))


def today_figures(engine: Engine) -> Figures:
    """The wallboard's figures: today's records per tenant (web.feed.Figures)."""

    def figures(center: Center, now: float) -> tuple[TenantView, ...]:
        today = datetime.fromtimestamp(now, center.tz).date()
        start, end = day_span(center, today, today)
        return tenant_figures(center, Store(engine, center.tz).between(start, min(end, now + 1)))

    return figures
