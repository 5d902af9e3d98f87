"""``lotse report``: KPIs per tenant, entry, topic, queue and interval, as table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from zoneinfo import ZoneInfo

from metrics.aggregate import BUCKET_LENGTH, aggregate, kpis
from metrics.kpi import Kpis, compute
from metrics.records import CallRecord
from metrics.store import Store, slot_of
from routing.model import Center

DIMENSIONS = ("tenant", "entry", "topic", "queue", "department")
INTERVALS = ("15min", "hour", "day", "month", "all")
COLUMNS = (  # column name -> the Kpis field it shows
    ("calls", "calls"),
    ("offered", "offered"),
    ("answered", "answered"),
    ("answered_within", "answered_within"),  # a count of calls
    ("abandoned", "abandoned"),
    ("short_abandoned", "short_abandoned"),
    ("service_level", "service_level"),
    ("target_seconds", "within"),  # the service-level target's seconds
    ("asa", "asa"),
    ("reachability", "reachability"),
    ("abandon_rate", "abandon_rate"),
    ("aht", "aht"),
    ("forwarded", "forwarded"),
    ("callbacks", "callbacks"),
    ("closed", "closed"),
    ("abandoned_ivr", "abandoned_ivr"),
)
COLUMN_NAMES = tuple(name for name, _ in COLUMNS)


def interval_start(stamp: float, interval: str, tz: ZoneInfo) -> str:
    """The interval a call belongs to: a prefix of its stored 15-minute slot, exactly as the SQL path cuts it."""
    if interval == "all":
        return "all"
    cut = slot_of(stamp, tz)[: BUCKET_LENGTH[interval]]
    return cut + ":00" if interval == "hour" else cut


def key_of(record: CallRecord, by: Sequence[str]) -> tuple[str, ...]:
    values = {
        "tenant": record.tenant,
        "entry": record.entry,
        "topic": record.topic,
        "queue": record.queues[0] if record.queues else "",
        "department": record.department,
    }
    return tuple(values[d] or "-" for d in by)


def target_within(center: Center, by: Sequence[str], key: tuple[str, ...]) -> int:
    """The service-level seconds that apply to a group: 115's, the tenant's, or the center's."""
    values = dict(zip(by, key, strict=True))
    if values.get("entry") == "115" and center.service_115 and center.service_115.targets.service_level_within:
        return center.service_115.targets.service_level_within
    tenant = center.tenants.get(values.get("tenant", ""))
    if tenant is not None and tenant.targets.service_level_within:
        return tenant.targets.service_level_within
    return center.targets.service_level_within or 30


def thresholds(center: Center) -> list[int]:
    """Every service-level target's seconds in the config (the SQL sums count each)."""
    found = {center.targets.service_level_within or 30}
    found.update(t.targets.service_level_within for t in center.tenants.values() if t.targets.service_level_within)
    if center.service_115 and center.service_115.targets.service_level_within:
        found.add(center.service_115.targets.service_level_within)
    return sorted(found)


def group_sql(
    store: Store, center: Center, start: float, end: float, by: Sequence[str], interval: str
) -> list[tuple[str, tuple[str, ...], Kpis]]:
    """The report aggregated by the database: what ``group`` computes, without fetching the calls."""
    rows = aggregate(store, start, end, by, interval, thresholds(center))
    return [(when, key, kpis(sums, target_within(center, by, key))) for when, key, sums in rows]


def answer_time_distribution(store: Store, center: Center, start: float, end: float, edges: Sequence[int]) -> list[tuple[str, int]]:
    """Answered calls per wait bucket: '<=5', '<=10', ..., and '>' the last edge."""
    rows = aggregate(store, start, end, [], "all", edges)
    if not rows:
        return [*((f"<={e}", 0) for e in sorted(edges)), (f">{max(edges)}", 0)]
    sums = rows[0][2]
    cumulative = [int(sums[f"within_{e}"]) for e in sorted(edges)]
    counts = [b - a for a, b in zip([0, *cumulative], cumulative, strict=False)]
    labels = [f"<={e}" for e in sorted(edges)]
    return [*zip(labels, counts, strict=True), (f">{max(edges)}", int(sums["answered"]) - cumulative[-1])]


def group(records: Iterable[CallRecord], center: Center, by: Sequence[str], interval: str) -> list[tuple[str, tuple[str, ...], Kpis]]:
    """The report computed call by call (the reference the SQL aggregation is tested against)."""
    groups: dict[tuple[str, tuple[str, ...]], list[CallRecord]] = defaultdict(list)
    for record in records:
        groups[(interval_start(record.arrived, interval, center.tz), key_of(record, by))].append(record)
    return [(when, key, compute(rows, target_within(center, by, key))) for (when, key), rows in sorted(groups.items())]


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def render(rows: list[tuple[str, tuple[str, ...], Kpis]], by: Sequence[str], fmt: str) -> str:
    header = ["interval", *by, *COLUMN_NAMES]
    table = [[when, *key, *(_cell(asdict(k)[f]) for _, f in COLUMNS)] for when, key, k in rows]
    if fmt == "json":
        data = [{"interval": when, **dict(zip(by, key, strict=True)), **{c: asdict(k)[f] for c, f in COLUMNS}} for when, key, k in rows]
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(table)
        return out.getvalue()
    widths = [max(len(str(x)) for x in column) for column in zip(header, *table, strict=True)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)).rstrip() for row in [header, *table]]
    return "\n".join(lines) + "\n"
