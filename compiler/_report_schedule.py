"""The schedule views of report.html: every resource, grouped by chip tile and sorted
numerically, in pages of lanes (one lane per group, its resources one click away), and a
pipelined view of the busiest resources over several batches."""

from __future__ import annotations

from collections.abc import Callable

from compiler._svg import PALETTE, esc, gantt, natural_key

__all__ = ["OpNames", "group_of", "pipelined_view", "schedule_view"]

PAGE = 48  # group lanes per page of the overview
GROUP_LANES = 64  # resource lanes shown inside one group before "and N more"
BATCHES = 4  # batches drawn in the pipelined view
_KIND_COLOR = {"crossbar": "#4e79a7", "digital": "#f28e2b", "bank": "#59a14f",
               "transfer": "#9c755f", "io": "#b07aa1"}


class OpNames:
    """Readable names of ops and transfers by id, and their unit kind (for colour)."""

    def __init__(self, schedule: dict) -> None:
        self.name: dict[int, str] = {}
        self.kind: dict[int, str] = {}
        for o in schedule.get("ops", []):
            self.name[o["id"]] = f"{o['name']} #{o['id']}"  # tiles of one op share a name
            self.kind[o["id"]] = o.get("unit", "digital")
        for t in schedule.get("transfers", []):
            src, dst = self.name.get(t["src"], t["src"]), self.name.get(t["dst"], t["dst"])
            self.name[t["id"]] = f"transfer #{t['id']} ({src} → {dst})"
            self.kind[t["id"]] = "transfer"

    def label(self, op_id: int) -> str:
        return self.name.get(op_id, f"op #{op_id}")

    def of_key(self, key: str) -> str:
        """A report key 'index:name' as a readable name."""
        head, _, rest = key.partition(":")
        return self.name.get(int(head), rest or key) if head.isdigit() else key


def group_of(resource: str, per_tile: int) -> str:
    """The chip tile (or class) a resource belongs to, for grouping lanes."""
    kind, _, index = resource.partition(":")
    if kind == "crossbar" and index.isdigit():
        return f"chip tile {int(index) // per_tile}"
    if kind == "tile" and index.isdigit():
        return f"chip tile {index}"
    return {"bank": "DRAM banks", "link": "mesh links", "io": "off-chip I/O"}.get(kind, kind)


def _bars(uses: list[dict], names: OpNames, hot: set[int], cycles, shift: float = 0.0,
          fill: str | None = None) -> list[tuple]:
    return [(u["start"] + shift, u["end"] + shift,
             fill or _KIND_COLOR.get(names.kind.get(u["op"], ""), "#999"),
             f"{names.label(u['op'])}: {u['start']:,}–{u['end']:,} "
             f"({cycles(u['end'] - u['start'])})", u["op"] in hot) for u in uses]


def _merged(uses: list[dict]) -> list[dict]:
    """A group's busy intervals merged (the kind of the first op of each run kept)."""
    out: list[dict] = []
    for u in sorted(uses, key=lambda u: (u["start"], u["end"])):
        if out and u["start"] <= out[-1]["end"]:
            out[-1]["end"] = max(out[-1]["end"], u["end"])
            out[-1]["n"] += 1
        else:
            out.append({"start": u["start"], "end": u["end"], "op": u["op"], "n": 1})
    return out


def _legend(extra: str = "") -> str:
    keys = "".join(f'<span class="key"><i style="background:{c}"></i>{k}</span>'
                   for k, c in _KIND_COLOR.items())
    return (f'<div class="legend">{keys}<span class="key"><i style="border:2px solid #d62728">'
            f"</i>binding op / critical path</span>{extra}</div>")


def _hot(rep: dict) -> set[int]:
    keys = [rep.get("binding", {}).get("op", ""), *rep.get("critical_path", [])]
    return {int(k.split(":")[0]) for k in keys if k.split(":")[0].isdigit()}


def schedule_view(sched: dict, rep: dict, names: OpNames, cycles: Callable) -> str:
    units = sched.get("units", {})
    if not units:
        return "<h2>Schedule</h2><p>no scheduled resource</p>"
    t = sched.get("target", {})
    per_tile = max(1, t.get("crossbars", 0) // max(1, t.get("chip_tiles", 1)))
    groups: dict[str, list[str]] = {}
    for r in sorted(units, key=natural_key):
        groups.setdefault(group_of(r, per_tile), []).append(r)
    order = sorted(groups, key=natural_key)
    end = max([u["end"] for us in units.values() for u in us] + [1])
    hot, bind = _hot(rep), rep.get("binding", {}).get("resource", "")
    bind_group = {group_of(bind, per_tile)} if bind else set()
    pages = []
    for p in range(0, len(order), PAGE):
        lanes = [(f"{g} ({len(groups[g])})", [(m["start"], m["end"], "#7f8fa6",
                  f"{g}: {m['n']} uses, {m['start']:,}–{m['end']:,}", False)
                  for m in _merged([u for r in groups[g] for u in units[r]])])
                 for g in order[p:p + PAGE]]
        marks = {lane for lane, _ in lanes if lane.split(" (")[0] in bind_group}
        title = f"groups {p + 1}–{min(p + PAGE, len(order))} of {len(order)}"
        pages.append(f"<details{' open' if not p else ''}><summary>{title}</summary>"
                     + gantt(lanes, end, cycles, marks) + "</details>")
    detail = [_group_detail(g, groups[g], units, names, hot, bind, end, cycles) for g in order
              if len(groups[g]) > 1]  # a one-resource group's lane above is that resource
    return (f"<h2>Schedule of one batch ({len(units):,} resources in {len(order)} groups)</h2>"
            "<p class='note'>one lane per chip tile (crossbars and its digital unit), links, "
            "banks and I/O, busy spans merged; open a group below for its resources, sorted "
            f"numerically; the group holding the binding resource ({esc(bind)}) is red</p>"
            + "".join(pages) + "<h3>Resources by group</h3>" + _legend() + "".join(detail))


def _group_detail(g: str, members: list[str], units: dict, names: OpNames, hot: set[int],
                  bind: str, end: float, cycles) -> str:
    shown = members[:GROUP_LANES]
    if bind in members and bind not in shown:
        shown = [*shown[:-1], bind]
    lanes = [(r, _bars(units[r], names, hot, cycles)) for r in shown]
    more = (f"<p class='note'>and {len(members) - len(shown)} more resources of {esc(g)}</p>"
            if len(members) > len(shown) else "")
    return (f"<details><summary>{esc(g)}: {len(members)} resources</summary>"
            + gantt(lanes, end, cycles, {bind}) + more + "</details>")


def pipelined_view(sched: dict, rep: dict, names: OpNames, cycles: Callable,
                   lanes_max: int = 12) -> str:
    units, interval = sched.get("units", {}), int(sched.get("interval", 0) or 0)
    if not units or not interval:
        return ""
    busy = {r: sum(u["end"] - u["start"] for u in us) for r, us in units.items()}
    top = sorted(busy, key=lambda r: (-busy[r], natural_key(r)))[:lanes_max]
    top = sorted(top, key=natural_key)
    latency = int(sched.get("latency", 0) or 0)
    end = latency + (BATCHES - 1) * interval
    hot = _hot(rep)
    lanes = [(r, [b for k in range(BATCHES) for b in _bars(
        units[r], names, hot, cycles, k * interval, PALETTE[k % len(PALETTE)])]) for r in top]
    keys = "".join(f'<span class="key"><i style="background:{PALETTE[k]}"></i>batch {k + 1}'
                   "</span>" for k in range(BATCHES))
    how = ("batches start one interval apart" if sched.get("pipelined")
           else "not pipelined: a batch starts when the previous one ends")
    bind = rep.get("binding", {}).get("resource", "")
    return (f"<h2>Pipelined: {BATCHES} batches on the {len(top)} busiest resources</h2>"
            f"<p class='note'>{how}; interval {esc(cycles(interval))}; the binding resource "
            f"({esc(bind)}) is red and is busy in every interval</p><div class='legend'>{keys}"
            "</div>" + gantt(lanes, end, cycles, {bind}))
