"""Inline SVG charts for report.html: stacked bars, a heat grid with its legend, a Gantt lane
chart with ticks. Plain strings, no plotting library: the page must open offline as one
file, and a compile must not wait on a plotting import."""

from __future__ import annotations

import html
import math
import re

__all__ = ["PALETTE", "esc", "gantt", "heat_grid", "hbars", "natural_key", "nice_ticks"]

PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac", "#86bcb6", "#d37295", "#a0cbe8", "#ffbe7d")
HIGHLIGHT = "#d62728"


def esc(x: object) -> str:
    return html.escape(str(x), quote=True)


def natural_key(text: str) -> tuple:
    """Sort key that orders digits as numbers: crossbar:2 < crossbar:10 < crossbar:100."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def nice_ticks(end: float, count: int = 8) -> list[float]:
    """Round tick positions from 0 to `end` (1, 2 or 5 times a power of ten apart)."""
    if end <= 0:
        return [0.0]
    raw = end / count
    power = 10 ** math.floor(math.log10(raw))
    step = min((m * power for m in (1, 2, 5, 10)), key=lambda st: abs(end / st - count))
    return [i * step for i in range(int(end // step) + 1)]


def _legend(color: dict[str, str]) -> str:
    items = "".join(f'<span class="key"><i style="background:{c}"></i>{esc(k)}</span>'
                    for k, c in color.items())
    return f'<div class="legend">{items}</div>'


def hbars(rows: list[tuple[str, dict[str, float], str]], fmt, color: dict[str, str] | None = None,
          left: int = 230, width: int = 520) -> str:
    """Horizontal stacked bars: (label, {component: value}, mark) per row; a mark ("bind",
    "path") outlines the row in red and says why in its tooltip."""
    if not rows:
        return "<p>nothing to show</p>"
    comps = list(dict.fromkeys(c for _, parts, _ in rows for c in parts))
    color = color or {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(comps)}
    top = max(sum(parts.values()) for _, parts, _ in rows) or 1.0
    h = 18
    out = [f'<svg class="chart" width="{left + width + 190}" height="{h * len(rows) + 4}" '
           'role="img">']
    for i, (label, parts, mark) in enumerate(rows):
        y, x = i * h, float(left)
        weight = ' font-weight="bold" fill="#b00"' if mark else ""
        out.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end"{weight}>'
                   f'{esc(label)}</text>')
        for c in comps:
            w = width * parts.get(c, 0.0) / top
            if w > 0:
                out.append(f'<rect x="{x:.1f}" y="{y + 2}" width="{max(w, 0.5):.1f}" '
                           f'height="{h - 4}" fill="{color.get(c, "#999")}"><title>'
                           f'{esc(label)}: {esc(c)} {esc(fmt(parts[c]))}</title></rect>')
                x += w
        if mark:
            out.append(f'<rect x="{left - 1}" y="{y + 1}" width="{x - left + 2:.1f}" '
                       f'height="{h - 2}" fill="none" stroke="{HIGHLIGHT}" stroke-width="2">'
                       f'<title>{esc(mark)}</title></rect>')
        out.append(f'<text x="{x + 5:.1f}" y="{y + 13}">{esc(fmt(sum(parts.values())))}</text>')
    out.append("</svg>")
    return "".join(out) + (_legend({c: color.get(c, "#999") for c in comps})
                           if len(comps) > 1 else "")


def _shade(u: float) -> str:
    """Sequential scale for used cells: light yellow (a little) to dark blue (the most)."""
    lo, hi = (255, 237, 160), (8, 48, 107)
    r, g, b = (round(a + (z - a) * u) for a, z in zip(lo, hi))
    return f"rgb({r},{g},{b})"


def heat_grid(values: list[float], label, fmt, size_max: int = 22) -> str:
    """One cell per place; unused cells hatched grey, used ones shaded against the largest
    value (so a light load is still visible), with a legend that gives the scale."""
    cells = len(values)
    if cells == 0:
        return "<p>none on this target</p>"
    cols = max(1, math.ceil(math.sqrt(cells * 2)))
    size = max(5, min(size_max, 760 // cols))
    rows = math.ceil(cells / cols)
    top = max(values) or 1.0
    out = [f'<svg class="chart" width="{cols * size + 2}" height="{rows * size + 2}" role="img">'
           '<defs><pattern id="unused" width="4" height="4" patternUnits="userSpaceOnUse">'
           '<rect width="4" height="4" fill="#f4f4f4"/><path d="M0,4 L4,0" stroke="#ccc"/>'
           '</pattern></defs>']
    for k, v in enumerate(values):
        fill = _shade(v / top) if v > 0 else "url(#unused)"
        out.append(f'<rect x="{(k % cols) * size}" y="{(k // cols) * size}" width="{size - 1}" '
                   f'height="{size - 1}" fill="{fill}"><title>{esc(label(k))}: {esc(fmt(v))}'
                   '</title></rect>')
    out.append("</svg>")
    stops = "".join(f'<stop offset="{t}" stop-color="{_shade(t)}"/>' for t in (0, 0.5, 1))
    legend = ('<div class="legend"><span class="key"><i style="background:#f4f4f4;border:1px '
              'solid #ccc"></i>unused</span><span class="key"><svg width="140" height="12">'
              f'<defs><linearGradient id="scale">{stops}</linearGradient></defs><rect width="140"'
              ' height="12" fill="url(#scale)"/></svg></span>'
              f'<span>used: lightest &gt; 0, darkest {esc(fmt(top))}</span></div>')
    return "".join(out) + legend


def gantt(lanes: list[tuple[str, list[tuple[float, float, str, str, bool]]]], end: float,
          axis, lane_mark: set[str] = frozenset(), left: int = 150, width: int = 760) -> str:
    """Lanes of (start, end, colour, tooltip, highlighted) bars over [0, end], with ticks
    labelled by `axis(t)`; marked lanes are labelled in red."""
    h, top = 14, 18
    end = end or 1.0
    out = [f'<svg class="chart" width="{left + width + 20}" height="{top + h * len(lanes) + 6}"'
           ' role="img">']
    for t in nice_ticks(end):
        x = left + width * t / end
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4}" '
                   f'y2="{top + h * len(lanes)}" stroke="#ddd"/>'
                   f'<text x="{x:.1f}" y="{top - 6}" text-anchor="middle" font-size="9">'
                   f'{esc(axis(t))}</text>')
    for i, (name, bars) in enumerate(lanes):
        y = top + i * h
        colour = HIGHLIGHT if name in lane_mark else "#333"
        out.append(f'<text x="{left - 4}" y="{y + 10}" text-anchor="end" font-size="10" '
                   f'fill="{colour}">{esc(name)}</text>')
        for s, e, fill, tip, hot in bars:
            x, w = left + width * s / end, max(0.8, width * (e - s) / end)
            stroke = f' stroke="{HIGHLIGHT}" stroke-width="1.5"' if hot else ""
            out.append(f'<rect x="{x:.1f}" y="{y + 1}" width="{w:.1f}" height="{h - 2}" '
                       f'fill="{fill}"{stroke}><title>{esc(tip)}</title></rect>')
    out.append("</svg>")
    return "".join(out)
