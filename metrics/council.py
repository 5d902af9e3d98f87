"""The report a manager hands to a council: German, names instead of ids, totals, targets, values written out.

One HTML fragment (inline styles, no scripts) from the records of a period
whose end day is included: per tenant and entry with a total, service level
and reachability per day against their targets (each value written next to
its bar), the answer-time distribution, first-contact resolution, and a note
of the opening days without any record (a gap in the data, not a quiet day).
lotse web shows it; ``lotse report --format html`` wraps it in a page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from html import escape

from metrics.agent_figures import Figures as AgentFigures
from metrics.dispositions import Resolution, resolution
from metrics.kpi import Kpis, compute, held_seconds
from metrics.records import CallRecord
from metrics.report import target_within
from routing.model import Center

ENTRY_NAMES = {"own": "Hauptnummer", "115": "Behördennummer 115", "emergency": "Notfall-Leitung", "": "ohne Entscheidung"}
EDGES = (10, 20, 30, 60, 120, 300)
WEEKDAYS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} %".replace(".", ",")


def _sec(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} s"


def _date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _against(value: float | None, target: float | None) -> str:
    if value is None:
        return "–"
    if target is None:
        return _pct(value)
    verdict = "erreicht" if value >= target else "unter Ziel"
    css = "met" if value >= target else "below"
    return f'{_pct(value)} <span class="{css}">({verdict}, Ziel {target:.0f} %)</span>'


def _bar(value: float | None) -> str:
    width = 0 if value is None else max(0.0, min(value, 100.0)) * 1.5
    return f'<span class="bar" style="width:{width:.0f}px" aria-hidden="true"></span>{_pct(value)}'


def entry_name(center: Center, tenant: str, entry: str) -> str:
    found = center.tenants.get(tenant)
    if found is not None and entry in found.entries:
        return found.entries[entry].name
    return ENTRY_NAMES.get(entry, entry)


def _row(label: str, k: Kpis, sl_target: float | None, reach_target: float | None, css: str = "") -> str:
    cells = [str(k.calls), str(k.offered), str(k.answered), str(k.answered_within), str(k.abandoned)]
    return (
        f'<tr class="{css}"><th scope="row">{escape(label)}</th>'
        + "".join(f'<td class="num">{c}</td>' for c in cells)
        + f'<td class="num">{_against(k.service_level, sl_target)} in {k.within} s</td>'
        f'<td class="num">{_against(k.reachability, reach_target)}</td><td class="num">{_sec(k.asa)}</td></tr>'
    )


def _head(first: str, *numbers: str) -> str:
    cells = "".join(f'<th scope="col" class="num">{escape(n)}</th>' for n in numbers)
    return f'<thead><tr><th scope="col">{escape(first)}</th>{cells}</tr></thead>'


HEAD = _head(
    "Verwaltung / Zugang",
    "Anrufe",
    "angeboten",
    "angenommen",
    "davon in Zielzeit",
    "aufgelegt",
    "Servicelevel",
    "Erreichbarkeit",
    "Ø Wartezeit",
)


def open_days(center: Center, first: date, last: date) -> list[date]:
    """Days in [first, last] on which any tenant had opening hours."""
    days, day = [], first
    while day <= last:
        if any(t.schedule.day_hours(day)[0] for t in center.on(day).tenants.values()):
            days.append(day)
        day += timedelta(days=1)
    return days


def render(center: Center, records: Iterable[CallRecord], first: date, last: date, codes: Mapping[str, str]) -> str:
    rows = list(records)
    sl_target, reach_target = center.targets.service_level_percent, center.targets.reachability
    within = center.targets.service_level_within or 30
    parts = [f"<h2>Bericht {escape(center.name)}: {_date(first)} bis {_date(last)} (einschließlich)</h2>"]
    seen_days = {datetime.fromtimestamp(r.arrived, center.tz).date() for r in rows}
    missing = [d for d in open_days(center, first, last) if d not in seen_days]
    if missing:
        listed = ", ".join(_date(d) for d in missing[:15]) + (" …" if len(missing) > 15 else "")
        parts.append(
            f'<p class="error" role="note">Keine Anrufdaten an {len(missing)} Öffnungstag(en): {listed}. '
            "Die Zahlen dieser Tage fehlen (Ausfall der Erfassung?), sie sind nicht null.</p>"
        )
    parts.append(f"<h3>Je Verwaltung und Zugang</h3><table>{HEAD}<tbody>")
    for tenant_id, tenant in center.tenants.items():
        mine = [r for r in rows if r.tenant == tenant_id]
        if not mine:
            continue
        t_within = target_within(center, ("tenant",), (tenant_id,))
        t_sl = tenant.targets.service_level_percent or sl_target
        t_reach = tenant.targets.reachability or reach_target
        entries = sorted({r.entry for r in mine})
        for entry in entries:
            of_entry = [r for r in mine if r.entry == entry]
            e_within = target_within(center, ("tenant", "entry"), (tenant_id, entry))
            parts.append(_row(f"{tenant.name} – {entry_name(center, tenant_id, entry)}", compute(of_entry, e_within), t_sl, t_reach))
        parts.append(_row(f"{tenant.name} gesamt", compute(mine, t_within), t_sl, t_reach, "total"))
    parts.append(_row("Alle Verwaltungen", compute(rows, within), sl_target, reach_target, "total"))
    parts.append("</tbody></table>")
    parts.append(_days(center, rows, first, last, within, sl_target, reach_target))
    parts.append(_distribution(rows))
    parts.append(_resolutions(center, rows, codes))
    parts.append(
        '<p class="hint">Definitionen: docs/metrics.md. Servicelevel = angenommen in der Zielzeit / angeboten; '
        "Erreichbarkeit = angenommen / angeboten in den Öffnungszeiten; Kurz-Aufleger (unter 5 s) zählen nicht als angeboten.</p>"
    )
    return "".join(parts)


def _days(center: Center, rows: Sequence[CallRecord], first: date, last: date, within: int, sl: float | None, reach: float | None) -> str:
    by_day: dict[date, list[CallRecord]] = {}
    for r in rows:
        by_day.setdefault(datetime.fromtimestamp(r.arrived, center.tz).date(), []).append(r)
    out = [
        f"<h3>Je Tag gegen das Ziel (Servicelevel {_pct(sl)} in {within} s, Erreichbarkeit {_pct(reach)})</h3>"
        f"<table>{_head('Tag', 'angeboten', 'Servicelevel', 'Erreichbarkeit')}<tbody>"
    ]
    day = first
    while day <= last:
        k = compute(by_day.get(day, []), within)
        out.append(
            f'<tr><th scope="row">{WEEKDAYS[day.weekday()]} {day:%d.%m.}</th><td class="num">{k.offered}</td>'
            f'<td class="num">{_bar(k.service_level)} {_mark(k.service_level, sl)}</td>'
            f'<td class="num">{_bar(k.reachability)} {_mark(k.reachability, reach)}</td></tr>'
        )
        day += timedelta(days=1)
    return "".join(out) + "</tbody></table>"


def _mark(value: float | None, target: float | None) -> str:
    if value is None or target is None:
        return ""
    return '<span class="met">erreicht</span>' if value >= target else '<span class="below">unter Ziel</span>'


def _distribution(rows: Sequence[CallRecord]) -> str:
    # whole seconds, as Asterisk and the service level count them (kpi.held_seconds)
    waits = [held_seconds(r.queued, r.answered) for r in rows if r.answered is not None and r.queued is not None]
    out = [f"<h3>Wartezeit der angenommenen Anrufe</h3><table>{_head('gewartet', 'Anrufe', 'Anteil', 'kumuliert')}<tbody>"]
    lower, running = 0, 0
    for edge in (*EDGES, None):
        count = sum(1 for w in waits if w >= lower and (edge is None or w < edge))
        running += count
        label = f"{lower}–{edge} s" if edge is not None else f"ab {lower} s"
        share = 100.0 * count / len(waits) if waits else None
        cumulative = 100.0 * running / len(waits) if waits else None
        out.append(
            f'<tr><th scope="row">{label}</th><td class="num">{count}</td><td class="num">{_pct(share)}</td>'
            f'<td class="num">{_pct(cumulative)}</td></tr>'
        )
        lower = edge or lower
    return "".join(out) + "</tbody></table>"


def fcr_target(center: Center, tenant: str, entry: str = "") -> float | None:
    """The first-contact-resolution target: 115's for 115 calls, else the tenant's, else the center's."""
    if entry == "115" and center.service_115 and center.service_115.targets.first_contact_resolution is not None:
        return center.service_115.targets.first_contact_resolution
    found = center.tenants.get(tenant)
    if found is not None and found.targets.first_contact_resolution is not None:
        return found.targets.first_contact_resolution
    return center.targets.first_contact_resolution


def _resolutions(center: Center, rows: Sequence[CallRecord], codes: Mapping[str, str]) -> str:
    answered = [r for r in rows if r.answered is not None]
    groups: list[tuple[str, list[CallRecord], float | None]] = [
        (t.name, [r for r in answered if r.tenant == t.id and r.entry != "115"], fcr_target(center, t.id)) for t in center.tenants.values()
    ]
    groups.append(("Behördennummer 115", [r for r in answered if r.entry == "115"], fcr_target(center, "", "115")))
    out = [
        "<h3>Erstlösungsquote (First Contact Resolution)</h3><p>Gelöst / angenommene Gespräche mit Ergebnis der Agenten; "
        "Gespräche ohne Ergebnis zählen nicht mit und sind ausgewiesen.</p>"
        f"<table>{_head('Verwaltung', 'angenommen', 'mit Ergebnis', 'gelöst', 'weitergegeben', 'Rückruf nötig', 'Erstlösungsquote')}<tbody>"
    ]
    for label, calls, target in groups:
        if calls:
            out.append(_fcr_row(label, resolution((r.uniqueid for r in calls), codes), target))
    out.append(_fcr_row("Alle", resolution((r.uniqueid for r in answered), codes), center.targets.first_contact_resolution, "total"))
    return "".join(out) + "</tbody></table>"


def _fcr_row(label: str, found: Resolution, target: float | None, css: str = "") -> str:
    cells = [
        found.answered,
        found.disposed,
        found.by_code.get("solved", 0),
        found.by_code.get("handed_on", 0),
        found.by_code.get("callback", 0),
    ]
    return (
        f'<tr class="{css}"><th scope="row">{escape(label)}</th>'
        + "".join(f'<td class="num">{c}</td>' for c in cells)
        + f'<td class="num">{_against(found.fcr, target)}</td></tr>'
    )


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h".replace(".", ",")


def agent_section(rows: Mapping[str, AgentFigures], per: str, hidden: int, min_team: int) -> str:
    """The agents' figures: per team (default) or per person (agents.yaml agent_figures: person)."""
    reasons = sorted({reason for figures in rows.values() for reason in figures.paused})
    head = _head("Team" if per == "team" else "Agent", "Agenten", "angemeldet", *[f"Pause: {r}" for r in reasons],
                 "Gespräche", "Ø Bearbeitungszeit", "Auslastung")  # fmt: skip
    out = [f"<h3>Agenten ({'je Team' if per == 'team' else 'je Person'})</h3><table>{head}<tbody>"]
    for name, f in rows.items():
        pauses = "".join(f'<td class="num">{_hours(f.paused.get(r, 0.0))}</td>' for r in reasons)
        out.append(
            f'<tr><th scope="row">{escape(name)}</th><td class="num">{f.agents}</td><td class="num">{_hours(f.logged_in)}</td>{pauses}'
            f'<td class="num">{f.calls}</td><td class="num">{_sec(f.aht)}</td><td class="num">{_pct(f.occupancy)}</td></tr>'
        )
    out.append("</tbody></table>")
    if not rows:
        out.append("<p>Keine Anmeldungen von Agenten im Zeitraum.</p>")
    if hidden:
        out.append(f'<p class="hint">{hidden} Agent(en) nur in Teams mit weniger als {min_team} Personen: nicht einzeln ausgewiesen.</p>')
    out.append('<p class="hint">Bearbeitungszeit = Gesprächszeit + Nachbearbeitungszeit der Warteschlange; '
               "Auslastung = Bearbeitungszeit / (angemeldet − Pause).</p>")  # fmt: skip
    return "".join(out)
