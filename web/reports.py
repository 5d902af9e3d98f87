"""The reports page's data: the records of whole local days from the database, rendered by metrics.council."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from metrics import council, dispositions
from metrics.agent_figures import per_agent, per_team
from metrics.store import Store
from render.agents import Agents
from routing.model import Center
from web.board import TenantView, tenant_figures
from web.feed import Figures


def day_span(center: Center, first: date, last: date) -> tuple[float, float]:
    """[midnight of first, midnight after last) in the center's time zone, as UNIX seconds."""
    start = datetime.combine(first, datetime.min.time(), center.tz)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), center.tz)
    return start.timestamp(), end.timestamp()


def report_page(
    center: Center, engine: Engine, first: date, last: date, agents: Agents | None = None, queue_log: Path | None = None
) -> str:
    start, end = day_span(center, first, last)
    records = list(Store(engine, center.tz).between(start, end))
    body = council.render(center, records, first, last, dispositions.of_calls(engine, start, end))
    if agents is not None and queue_log is not None:
        body += agents_report(center, agents, queue_log, start, end)
    return body


def agents_report(center: Center, agents: Agents, queue_log: Path, start: float, end: float) -> str:
    """The agents' figures from Asterisk's queue_log, per team or per person as agents.yaml says."""
    try:
        with queue_log.open(encoding="utf-8", errors="replace") as lines:
            by_agent, _ = per_agent(lines, start, end, {q.id: q.wrapup for q in center.queues.values()})
    except OSError as exc:
        return f'<p class="error">Agentenzahlen nicht lesbar: {queue_log}: {exc.strerror}</p>'
    if agents.figures_per == "person":
        return council.agent_section(dict(sorted(by_agent.items())), "person", 0, agents.min_team)
    teams = {a.name: a.groups for a in agents.agents}
    shown, hidden = per_team(by_agent, teams, agents.min_team)
    return council.agent_section(shown, "team", hidden, agents.min_team)


def today_figures(engine: Engine) -> Figures:
    """The wallboard's figures: today's records per tenant (web.feed.Figures)."""

    def figures(center: Center, now: float) -> tuple[TenantView, ...]:
        today = datetime.fromtimestamp(now, center.tz).date()
        start, end = day_span(center, today, today)
        return tenant_figures(center, Store(engine, center.tz).between(start, min(end, now + 1)))

    return figures
