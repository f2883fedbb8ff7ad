"""report.html: one self-contained page (inline SVG and CSS, no script, no external file) that
answers "why this number": what binds the interval and the latency, where time, energy and
area go, what the mapping occupies, the schedule, and how a naive mapping compares.

Charts are drawn by compiler/_svg.py; the schedule views are in compiler/_report_schedule.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler._report_schedule import OpNames, pipelined_view, schedule_view
from compiler._svg import esc, hbars, heat_grid
from compiler.summary import numbers, summary_rows
from compiler.units import human, percent

if TYPE_CHECKING:
    from compiler.driver import Compiled

__all__ = ["TOP_N", "render_report"]

TOP_N = 25  # rows of a per-op chart before the rest is summed into one row
_UNIT_COLOR = {"crossbar": "#4e79a7", "digital": "#f28e2b", "bank": "#59a14f",
               "transfer": "#9c755f", "io": "#b07aa1"}
_CSS = ("body{font-family:sans-serif;margin:1.5em 2em;color:#222;max-width:1100px}"
        "svg.chart{font-size:11px;display:block;margin:.4em 0}th{text-align:left;"
        "padding-right:1em;vertical-align:top}td{padding-right:1em}table.cmp td,table.cmp th"
        "{border-bottom:1px solid #ddd;padding:2px 8px}.legend{font-size:12px;margin:.2em 0 1em}"
        ".key{margin-right:1.2em;white-space:nowrap}.key i{display:inline-block;width:11px;"
        "height:11px;margin-right:4px;vertical-align:middle}.why{background:#fff4f4;border-left:"
        "4px solid #d62728;padding:.5em 1em;margin:1em 0}.pass{color:#186a18;font-weight:bold}"
        ".fail{color:#b00;font-weight:bold}details{margin:.3em 0}summary{cursor:pointer}"
        ".note{color:#555;font-size:13px}")


def _key_id(key: str) -> int | None:
    head = key.split(":", 1)[0]
    return int(head) if head.isdigit() else None


def _top(rows: list[tuple[str, dict[str, float], str]], noun: str, n: int = TOP_N):
    """The `n` costliest rows (rows come sorted) and one row summing the rest."""
    if len(rows) <= n:
        return rows, f"all {len(rows)} {noun}"
    rest: dict[str, float] = {}
    for _, parts, _ in rows[n:]:
        for k, v in parts.items():
            rest[k] = rest.get(k, 0.0) + v
    return (rows[:n] + [(f"other {len(rows) - n} {noun} (summed)", rest, "")],
            f"top {n} of {len(rows)} {noun}, the rest summed in the last row")


class _Page:
    def __init__(self, c: Compiled) -> None:
        self.c, self.rep, self.sched = c, c.report, c.schedule or {}
        self.names = OpNames(self.sched)
        self.clock = float(self.sched.get("target", {}).get("clock_hz", 0) or 0)
        binding = self.rep.get("binding", {})
        self.bind_id = _key_id(binding.get("op", ""))
        self.path_ids = {_key_id(k) for k in self.rep.get("critical_path", [])} - {None}

    def cycles(self, x: float) -> str:
        t = f" ({human(x / self.clock, 's')})" if self.clock else ""
        return f"{x:,.0f} cycles{t}"

    def mark(self, op_id: int | None) -> str:
        if op_id is not None and op_id == self.bind_id:
            return "binds the interval (holds the busiest resource longest)"
        return "on the critical path of the latency" if op_id in self.path_ids else ""

    def why(self) -> str:
        b, rep = self.rep.get("binding", {}), self.rep
        if not b:
            return ""
        path = [self.names.of_key(k) for k in rep.get("critical_path", [])]
        shown = path if len(path) <= 12 else [*path[:6], f"... {len(path) - 12} more ...",
                                               *path[-6:]]
        sim = (rep.get("simulated") or {}).get("binding", {})
        sim_line = (f"<br>The event-driven simulator finds <b>{esc(sim.get('resource'))}</b> "
                    f"binding ({esc(sim.get('op', '-'))}, busy "
                    f"{100 * sim.get('busy_fraction', 0):.0f}% of its interval)." if sim else "")
        return (f'<div class="why"><b>Interval</b> {esc(self.cycles(rep["interval_cycles"]))}: '
                f"set by <b>{esc(b['resource'])}</b>, busy {esc(self.cycles(b['busy_cycles']))}"
                f" per batch, held longest by <b>{esc(self.names.of_key(b['op']))}</b>."
                f"{sim_line}<br><b>Latency</b> {esc(self.cycles(rep['latency_cycles']))}: the "
                f"critical path has {len(path)} steps: {esc(' → '.join(shown))}.</div>")

    def latency(self) -> str:
        rows = sorted(((self.names.label(o["id"]), {o["unit"]: o["end"] - o["start"]},
                        self.mark(o["id"])) for o in self.sched.get("ops", [])),
                      key=lambda r: -sum(r[1].values()))
        rows, note = _top(rows, "ops")
        return (f"<h2>Busy time per op</h2><p class='note'>{note}; red outline: binds the "
                "interval or lies on the critical path</p>"
                + hbars(rows, self.cycles, _UNIT_COLOR))

    def energy(self) -> str:
        by_op = self.rep.get("energy_by_op", {})
        rows = sorted(((self.names.of_key(k), dict(v), self.mark(_key_id(k)))
                       for k, v in by_op.items()), key=lambda r: -sum(r[1].values()))
        rows, note = _top(rows, "ops")
        comps = sorted(self.rep.get("energy", {}).items(), key=lambda kv: -kv[1])
        total = float(self.rep.get("total_energy", 0.0))
        added = sum(v for _, v in comps)
        comp_rows = [(k, {k: v}, "") for k, v in comps]
        return ("<h2>Energy per batch by component</h2><p class='note'>leakage is the whole "
                f"chip's over one interval; the bars add up to {esc(human(added, 'J'))} "
                f"(total {esc(human(total, 'J'))})</p>"
                + hbars(comp_rows, lambda v: f"{human(v, 'J')} ({percent(v, total)})")
                + f"<h2>Energy per op</h2><p class='note'>{note} (dynamic energy; leakage is "
                "not split by op)</p>" + hbars(rows, lambda v: human(v, "J")))

    def area(self) -> str:
        area = self.rep.get("area") or {}
        parts = sorted(area.get("by_component", {}).items(), key=lambda kv: -kv[1])
        used, chip = area.get("used_mm2", 0.0), area.get("chip_mm2", 0.0)
        return ("<h2>Used area by component</h2><p class='note'>per-PE and per-tile parts "
                "count where the mapping occupies them; "
                f"{used:.4g} of the chip's {chip:.4g} mm² ({percent(used, chip)})</p>"
                + hbars([(k, {"used": v}, "") for k, v in parts if v > 0],
                        lambda v: f"{v:.4g} mm²"))

    def maps(self) -> str:
        t = self.sched.get("target", {})
        per_tile = self.rep.get("crossbars_per_tile", [])
        cap = max(1, t.get("crossbars", 0) // max(1, t.get("chip_tiles", 1)))
        out = "<h2>What the mapping occupies</h2>"
        if per_tile:
            out += (f"<h3>Crossbars per chip tile ({sum(per_tile):,} of {t['crossbars']:,} "
                    f"used; {cap} per tile)</h3>"
                    + heat_grid([u / cap for u in per_tile], lambda k: f"chip tile {k}",
                                lambda v: f"{v * cap:.0f} of {cap} crossbars ({v:.0%})"))
        banks = int(t.get("banks", 0))
        if banks:
            used = [0.0] * banks
            for s in self.sched.get("shards", []):
                used[s["bank"]] += s["bytes"]
            size = t.get("bank_bytes", 0)
            out += (f"<h3>Bytes per DRAM bank ({sum(1 for u in used if u):,} of {banks:,} "
                    f"banks hold table rows; {human(size, 'B', 1024)} per bank)</h3>"
                    + heat_grid(used, lambda k: f"bank {k}",
                                lambda v: f"{human(v, 'B', 1024)} ({percent(v, size)})"))
        return out

    def compared(self) -> str:
        others = getattr(self.c, "compared", None) or []
        if not others:
            return ""
        mine = numbers(f"this mapping ({self.c.target})", self.rep)
        head = ("<tr><th>mapping</th><th>latency</th><th>interval</th><th>throughput</th>"
                "<th>energy / batch</th><th>area used</th><th>crossbars used</th></tr>")
        body = "".join(_compare_row(r, mine) for r in [mine, *others])
        return ("<h2>Compared with</h2><p class='note'>the same model compiled again in the same "
                "call; ratios are the other mapping's value over this one's</p>"
                f"<table class='cmp'>{head}{body}</table>")


def _compare_row(r: dict, mine: dict) -> str:
    def cell(key: str, text: str) -> str:
        if r is mine or not mine.get(key):
            return f"<td>{esc(text)}</td>"
        return f"<td>{esc(text)} ({r[key] / mine[key]:.2f}×)</td>"

    return (f"<tr><th>{esc(r['name'])}</th>" + cell("latency_s", human(r["latency_s"], "s"))
            + cell("interval_cycles", f"{r['interval_cycles']:,} cycles")
            + cell("samples_per_second", human(r["samples_per_second"], "samples/s"))
            + cell("energy_j", human(r["energy_j"], "J"))
            + cell("used_mm2", f"{r['used_mm2']:.4g} mm²")
            + cell("crossbars_used", f"{r['crossbars_used']:,}") + "</tr>")


def _summary(c: Compiled) -> str:

    def cell(v: object) -> str:
        text = esc(v)
        for word, cls in (("PASS", "pass"), ("FAIL", "fail")):
            text = text.replace(word, f'<span class="{cls}">{word}</span>', 1)
        return text

    return "<table>" + "".join(f"<tr><th>{esc(k)}</th><td>{cell(v)}</td></tr>"
                               for k, v in summary_rows(c).items()) + "</table>"


def render_report(c: Compiled) -> str:
    """The HTML page of a scheduled compile."""
    page = _Page(c)
    body = (_summary(c) + page.why() + page.compared() + page.latency() + page.energy()
            + page.area() + page.maps() + schedule_view(page.sched, page.rep, page.names,
                                                         page.cycles)
            + pipelined_view(page.sched, page.rep, page.names, page.cycles))
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>pimc report: {esc(c.model_name)} on {esc(c.target)}</title>"
            f"<style>{_CSS}</style></head><body><h1>pimc report: {esc(c.model_name)} on "
            f"{esc(c.target)}</h1>{body}</body></html>")
