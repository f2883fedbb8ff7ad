"""report.html: one self-contained page with inline SVG plots (no plotting library).

Plots: per-op latency, per-op energy by component (stacked), the crossbar and bank
utilisation map (one cell per chip tile / bank), and a Gantt chart of the schedule.
"""

from __future__ import annotations

import html
from collections import defaultdict

__all__ = ["render_report"]

_PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
            "#ff9da7", "#9c755f", "#bab0ac")


def _esc(x: object) -> str:
    return html.escape(str(x))


def _bars(title: str, rows: list[tuple[str, dict[str, float]]], unit: str) -> str:
    """Horizontal stacked bars: one row per label, one segment per component."""
    if not rows:
        return f"<h2>{_esc(title)}</h2><p>nothing to show</p>"
    comps = sorted({c for _, parts in rows for c in parts})
    color = {c: _PALETTE[i % len(_PALETTE)] for i, c in enumerate(comps)}
    top = max(sum(parts.values()) for _, parts in rows) or 1.0
    h, width, left = 16, 560, 180
    out = [f'<svg width="{left + width + 90}" height="{h * len(rows) + 30}">']
    for i, (label, parts) in enumerate(rows):
        y, x = i * h, left
        out.append(f'<text x="{left - 4}" y="{y + 12}" text-anchor="end">{_esc(label)}</text>')
        for c in comps:
            w = width * parts.get(c, 0.0) / top
            if w > 0:
                out.append(f'<rect x="{x:.1f}" y="{y + 2}" width="{w:.1f}" height="{h - 4}" '
                           f'fill="{color[c]}"><title>{_esc(c)}: {parts[c]:.4g} {unit}'
                           '</title></rect>')
                x += w
        out.append(f'<text x="{x + 4:.1f}" y="{y + 12}">{sum(parts.values()):.3g}</text>')
    legend = " ".join(f'<span style="color:{color[c]}">&#9632; {_esc(c)}</span>' for c in comps)
    out.append("</svg>")
    return f"<h2>{_esc(title)} ({unit})</h2>" + "".join(out) + f"<p>{legend}</p>"


def _grid(title: str, used: dict[int, float], cells: int) -> str:
    """A square-ish grid of cells shaded by utilisation in [0, 1]."""
    if cells <= 0:
        return ""
    cols = max(1, int(cells ** 0.5 + 0.999))
    size = max(6, min(24, 600 // cols))
    out = [f'<svg width="{cols * size + 2}" height="{((cells - 1) // cols + 1) * size + 2}">']
    for k in range(cells):
        u = min(1.0, used.get(k, 0.0))
        shade = int(235 - 200 * u)
        out.append(f'<rect x="{(k % cols) * size}" y="{(k // cols) * size}" width="{size - 1}" '
                   f'height="{size - 1}" fill="rgb({shade},{shade},255)">'
                   f'<title>{k}: {100 * u:.0f}%</title></rect>')
    out.append("</svg>")
    busy = sum(1 for k in range(cells) if used.get(k, 0) > 0)
    return f"<h3>{_esc(title)}: {busy} of {cells} in use</h3>" + "".join(out)


def _utilisation(schedule: dict) -> str:
    t = schedule["target"]
    per_tile: dict[int, float] = defaultdict(float)
    xbars_per_tile = max(1, t["crossbars"] // max(1, t["chip_tiles"]))
    for x in schedule["tiles"]:
        per_tile[x["crossbar"] // xbars_per_tile] += 1 / xbars_per_tile
    per_bank: dict[int, float] = defaultdict(float)
    for s in schedule["shards"]:
        per_bank[s["bank"]] += s["bytes"] / max(1, t["bank_bytes"])
    return (_grid("Crossbars per chip tile", per_tile, t["chip_tiles"])
            + _grid("Bank capacity", per_bank, t["banks"]))


def _gantt(schedule: dict, limit: int = 60) -> str:
    lanes = list(schedule["units"].items())[:limit]
    if not lanes:
        return "<h2>Schedule</h2><p>no scheduled resource</p>"
    end = max([u["end"] for _, us in lanes for u in us] + [1])
    h, width, left = 12, 700, 110
    out = [f'<svg width="{left + width + 10}" height="{h * len(lanes) + 20}">']
    for i, (unit, uses) in enumerate(lanes):
        y = i * h
        out.append(f'<text x="{left - 4}" y="{y + 10}" text-anchor="end" '
                   f'font-size="10">{_esc(unit)}</text>')
        for u in uses:
            x, w = left + width * u["start"] / end, max(1.0, width * (u["end"] - u["start"]) / end)
            out.append(f'<rect x="{x:.1f}" y="{y + 1}" width="{w:.1f}" height="{h - 2}" '
                       f'fill="{_PALETTE[u["op"] % len(_PALETTE)]}"><title>op {u["op"]}: '
                       f'{u["start"]}-{u["end"]}</title></rect>')
    out.append(f'<text x="{left}" y="{h * len(lanes) + 14}" font-size="10">0</text>'
               f'<text x="{left + width}" y="{h * len(lanes) + 14}" font-size="10" '
               f'text-anchor="end">{end} cycles</text></svg>')
    more = len(schedule["units"]) - len(lanes)
    note = f"<p>(first {limit} of {len(schedule['units'])} resources)</p>" if more > 0 else ""
    return "<h2>Schedule (one batch)</h2>" + "".join(out) + note


def render_report(summary: dict[str, object], per_op: list[dict], schedule: dict) -> str:
    """The HTML page: a summary table, then the plots."""
    rows = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in summary.items())
    lat = [(p["name"], {"latency": float(p["cycles"])}) for p in per_op]
    energy = [(p["name"], {k: v * 1e9 for k, v in p["energy"].items()}) for p in per_op]
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>pimc report</title>"
            "<style>body{font-family:sans-serif;margin:2em}svg{font-size:11px}"
            "th{text-align:left;padding-right:1em}</style></head><body>"
            f"<h1>pimc report: {_esc(summary.get('model', ''))} on "
            f"{_esc(summary.get('target', ''))}</h1><table>{rows}</table>"
            + _bars("Latency per op", lat, "cycles")
            + _bars("Energy per op", energy, "nJ")
            + "<h2>Utilisation</h2>" + _utilisation(schedule)
            + _gantt(schedule) + "</body></html>")
