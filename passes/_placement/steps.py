"""The steps of a list schedule: what every try of one layout reads, worked out once.

`timeline.schedule` tries one layout at one period or several; each try walks the same steps
(only the period differs): one per op in graph order, with the uses it holds on resources that
something else uses too (a resource that only one use ever holds is always free when that use is
placed, so it is never looked at), the transfers that bring its inputs, and a streamed weight's
load folded into the tile op it feeds.
"""

from __future__ import annotations

from collections import Counter
from itertools import chain
from operator import itemgetter

from ir.dialects import pim
from passes._placement.modulo import Busy, Probe
from passes._placement.moves import Move
from passes._placement.problem import OpInfo, Problem
from passes._placement.resume import Bounds

__all__ = ["NEVER", "Arrival", "Held", "Step", "build"]

NEVER = 1 << 62

# What an op or a transfer holds: (resource, offset from its start, length) as plain tuples,
# one per resource, layout and op (a NamedTuple costs several times a tuple).
Held = tuple[str, int, int]


def _loads(prob: Problem) -> dict[int, OpInfo]:
    """Streamed weights: the tile op each `pim.load` feeds (its index) -> the load (the same
    for every layout: worked out once per problem)."""
    if prob.loads is None:
        prob.loads = _loads_of(prob)
    return prob.loads


def _loads_of(prob: Problem) -> dict[int, OpInfo]:
    loads = [info for info in prob.ops if isinstance(info.op, pim.Load)]
    if not loads:
        return {}
    out = {}
    for info in loads:
        user = prob.first_mvm_reader(info.op.results[0])
        if user is not None:
            out[user] = info
    return out


def _with_load(uses: list[Held], load: list[Held], d_load: int) -> list[Held]:
    """A tile op's uses with its weight load just before it: the load's crossbars stay held
    from when the load takes them to the op's end (the loaded tile lives there until it is
    used). A load that streams its tile over the off-chip I/O first (a staging target) takes
    the crossbars only for its last part, so the array computes with the previous tile meanwhile."""
    takes = {r: offset for r, offset, _ in load}
    out = [(r, takes[r] - d_load, length + d_load - takes[r])
           if r in takes and offset == 0 else (r, offset, length) for r, offset, length in uses]
    mine = {r for r, _, _ in uses}
    return out + [(r, offset - d_load, length) for r, offset, length in load if r not in mine]


# One op of the list schedule: its index, the index of the weight load scheduled with it (or
# None), its longest use, what it holds on resources that something else uses too and those
# probes' bounds (``resume.Bounds``), the load's lead, the indices of all its producers, and
# the transfers that bring its inputs in the order of its operands (each with its input's
# producers, the move, its longest link use, its shared link uses and their bounds, and
# whether this step is the first the move serves: that step places it). A resource that only
# one use ever holds is always free when that use is placed, so it is never looked at.
Arrival = tuple[tuple[int, ...], Move, int, list[Probe], Bounds, bool]
Step = tuple[int, int | None, int, list[Probe], Bounds, int, tuple[int, ...], list[Arrival]]


def build(prob: Problem, durations: dict[int, int], wanted: dict[int, list[Held]],
           moves: list[Move], link_uses: list[list[Held]]) -> tuple[list[Step], list[Busy]]:
    """What every `_run` of one layout reads, worked out once (only the period differs), and
    the reservation tables of the resources that more than one use holds."""
    loads = _loads(prob)
    deferred = {load.index for load in loads.values()}
    held: list[tuple[OpInfo, OpInfo | None, list[Held], int]] = []
    for info in prob.ops:
        if info.index in deferred:  # scheduled with the tile op it feeds
            continue
        load = loads.get(info.index)
        uses, lead = wanted[info.index], 0
        if load is not None:
            lead = durations[load.index]
            uses = _with_load(uses, wanted[load.index], lead)
        held.append((info, load, uses, lead))
    count = Counter(map(itemgetter(0), chain.from_iterable(
        chain((h[2] for h in held), link_uses))))
    multi = {r for r, n in count.items() if n > 1}
    tables: dict[str, Busy] = {}
    into: dict[int, list[tuple[int, tuple[int, ...], tuple]]] = {}
    slots = prob.slots
    for m, w in zip(moves, link_uses):
        entry = (m, *_shared(w, multi, tables))
        vid = id(m.value)
        for c in m.consumers:
            position, prods = slots(c)[vid]
            into.setdefault(c, []).append((position, prods, entry))
    steps: list[Step] = []
    seen: set[int] = set()  # moves already brought in by an earlier step
    for info, load, uses, lead in held:
        arriving = into.get(info.index)
        steps.append((info.index, None if load is None else load.index,
                      *_shared(uses, multi, tables), lead, info.preds,
                      _arrivals(arriving, seen) if arriving else []))
    return steps, list(tables.values())


def _shared(w: list[Held], multi: set[str], tables: dict[str, Busy]) -> tuple[int, list[Probe],
                                                                             Bounds]:
    """Of uses `w`: the longest, the probes of those on resources that more than one use holds
    (`multi`; their tables made as needed), and the probes' bounds."""
    probes: list[Probe] = []
    longest = w[0][2] if w else 0
    least, most, far = NEVER, -NEVER, -NEVER  # the probes' bounds
    for r, offset, length in w:
        if length > longest:
            longest = length
        if r in multi:
            table = tables.get(r)
            if table is None:
                table = tables[r] = Busy(NEVER)
            probes.append((table, offset, length))
            least, most, far = (min(least, offset), max(most, offset),
                                max(far, offset + length))
    return longest, probes, (least, most, far) if probes else None


def _arrivals(into: list[tuple[int, tuple[int, ...], tuple]], seen: set[int]) -> list[Arrival]:
    """The transfers into one op in the order of its operands; `seen`: the moves an earlier
    step already brings (added to)."""
    out: list[Arrival] = []
    if len(into) > 1:
        into.sort(key=itemgetter(0))
    for _, prods, (m, link_longest, link_probes, bounds) in into:
        out.append((prods, m, link_longest, link_probes, bounds, id(m) not in seen))
        seen.add(id(m))
    return out
