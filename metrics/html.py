"""The HTML report as one self-contained page (inline styles, no scripts) a manager can mail to the council."""

from __future__ import annotations

from html import escape

STYLE = (
    "body{font-family:'DejaVu Sans',Arial,sans-serif;margin:1.5em;color:#1a1a1a}table{border-collapse:collapse;margin:.5em 0 1.2em}"
    "th,td{border:1px solid #767676;padding:3px 8px;text-align:left}.num{text-align:right;font-variant-numeric:tabular-nums}"
    "thead th{background:#e8eef5}tr.total td,tr.total th{font-weight:bold;border-top:3px double #1a1a1a}"
    ".met{color:#1d6b2f;font-weight:bold}.below{color:#a4161a;font-weight:bold}.error{color:#a4161a;font-weight:bold}"
    ".bar{display:inline-block;height:.8em;background:#0b4f8a;margin-right:.4em;vertical-align:middle}.hint{color:#4a4a4a}"
    "@media print{body{margin:0}}"
)


def page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>{body}</body></html>\n"
    )
