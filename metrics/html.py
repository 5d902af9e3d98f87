"""The HTML report: one self-contained page (inline SVG, no scripts) a manager can mail to the council."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from html import escape

from metrics.kpi import Kpis
from metrics.report import COLUMN_NAMES, COLUMNS

WIDTH, HEIGHT, PAD = 720, 220, 40


def _bars(values: Sequence[tuple[str, float | None]], unit: str, target: float | None = None) -> str:
    """A bar chart; an optional dashed target line."""
    top = max([v for _, v in values if v is not None] + [target or 0, 1.0])
    step = (WIDTH - 2 * PAD) / max(len(values), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img">']
    parts.append(f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#444"/>')
    for index, (label, value) in enumerate(values):
        x = PAD + index * step
        if value is not None:
            h = (HEIGHT - 2 * PAD) * value / top
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{HEIGHT - PAD - h:.1f}" width="{max(step - 2, 1):.1f}" height="{h:.1f}" fill="#2b6cb0">'
                f"<title>{escape(label)}: {value:.1f} {unit}</title></rect>"
            )
        if len(values) <= 16 or index % max(len(values) // 12, 1) == 0:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{HEIGHT - PAD + 14}" font-size="10" text-anchor="middle">{escape(label)}</text>')
    if target is not None:
        y = HEIGHT - PAD - (HEIGHT - 2 * PAD) * target / top
        parts.append(f'<line x1="{PAD}" y1="{y:.1f}" x2="{WIDTH - PAD}" y2="{y:.1f}" stroke="#c53030" stroke-dasharray="6 4"/>')
        parts.append(
            f'<text x="{WIDTH - PAD}" y="{y - 4:.1f}" font-size="11" text-anchor="end" fill="#c53030">target {target:.0f} {unit}</text>'
        )
    parts.append(f'<text x="{PAD}" y="{PAD - 10}" font-size="11">{top:.0f} {unit}</text></svg>')
    return "".join(parts)


def render_html(
    title: str,
    rows: list[tuple[str, tuple[str, ...], Kpis]],
    by: Sequence[str],
    daily: list[tuple[str, Kpis]],
    target_percent: float | None,
    distribution: list[tuple[str, int]],
) -> str:
    header = "".join(f"<th>{escape(h)}</th>" for h in ["interval", *by, *COLUMN_NAMES])
    body = []
    for when, key, kpis in rows:
        values = asdict(kpis)
        cells = [when, *key, *(values[f] for _, f in COLUMNS)]
        body.append("<tr>" + "".join(f"<td>{escape(_cell(v))}</td>" for v in cells) + "</tr>")
    levels = _bars([(day[5:], k.service_level) for day, k in daily], "%", target_percent)
    waits = _bars([(label, float(count)) for label, count in distribution], "calls")
    return (
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#eee}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        "<h2>Service level per day</h2><p>Answered within the target time / offered, with the target.</p>"
        f"{levels}<h2>Answer times</h2><p>Answered calls by how long they waited (seconds, upper edge).</p>{waits}"
        f"<h2>Figures</h2><table><tr>{header}</tr>{''.join(body)}</table>"
        "<p>Definitions: docs/metrics.md of lotse.</p></body></html>\n"
    )


def _cell(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if isinstance(value, float) else str(value)
