"""The CP-SAT model of placement: builder and decoder (no pipeline imports; ortools lazily).

Decisions: for every crossbar op g, one replica count out of its useful choices (booleans
b[g,k], one true) and a start position on the snake; its range of tiles x replicas positions
is an interval, and the intervals do not overlap (so no crossbar holds two tiles and the
crossbars suffice). An op's chip tile index is start // crossbars-per-tile, its router index
start // crossbars-per-router (the snake walks routers one hop apart).

Every op with a unit has a start cycle; it starts after each producer ends plus, when they sit
in different places, a transfer of (bytes / link bandwidth) x [some of the consumer's range is
off the producer's chip tile] + hop latency x (router distance to the far end + that flag).
Digital ops sit on the chip tile where their first producer's range starts; bank ops at the
DRAM port (snake position 0). Latency = makespan; interval >=
every crossbar op's time at its replica count and >= the fixed per-place digital and per-bank
loads; network energy = sum of bytes x 8 x energy per bit per hop x hops.

Objective: the primary term (latency, interval, network energy, or a mix weighted over
reference values) times K plus the latency (interval for `latency`) as a tie-break, with K
above any tie-break value, so the order is lexicographic.
"""

from __future__ import annotations

from dataclasses import dataclass

from passes._placement.placement import Placement, Score, assign_banks
from passes._placement.problem import OpInfo, Problem

__all__ = ["MAX_VARIABLES", "Model", "Result", "build", "least_size", "size", "solve"]

PORT_KEY = ""

# The most model variables CP-SAT is run on, whatever the time limit. The deterministic limit
# does not bound its presolve, nor does the wall-clock guard below stop it, and its wall time
# per deterministic second grows with the model. Measured on 2 cores, chains of Gemm+Relu
# layers (width 16, isaac, ``bench/compile_speed.py``'s chain_model), with a 1 s limit: 7.7k
# variables took 8 s, 15.5k took 7.5 s and 31k took 36 s without finding any solution, 62k
# took 338 s; 15.5k with a 4 s limit took 40 s. nasrec candidates' models of 2.7k to 8.4k
# variables take 2 to 3.5 s at 1 s and often improve on greedy. Past this size a compile
# would take more than ten times its time limit, whatever the limit.
MAX_VARIABLES = 10_000


@dataclass
class Result:
    placement: Placement | None
    status: str
    value: float  # the primary objective of the model's best solution
    bound: float
    gap: float
    seconds: float


class Model:
    """The CP-SAT variables of one problem."""

    def __init__(self, prob: Problem) -> None:
        from ortools.sat.python import cp_model

        self.cp = cp_model
        self.m = cp_model.CpModel()
        self.prob = prob
        self.b: dict[str, list] = {}
        self.start: dict[str, object] = {}
        self.chip_tile_index: dict[str, object] = {}
        self.router_index: dict[str, object] = {}
        self.last_chip_tile_index: dict[str, object] = {}  # the same for the range's last position
        self.last_router_index: dict[str, object] = {}
        self.key: dict[int, str] = {}
        self.pairs: dict[tuple[str, str], tuple] = {}
        self.horizon = 0
        self.primary_k = 1
        self.scale = 0.0  # mix: objective units per unit of the weighted sum


def _keys(prob: Problem) -> dict[int, str]:
    """Where every op sits, as a crossbar op's name (or PORT_KEY for the DRAM port)."""
    key: dict[int, str] = {}
    for info in prob.ops:
        if info.group:
            key[info.index] = info.group
        elif info.unit == "digital" and info.preds:
            anchor = key.get(info.preds[0], PORT_KEY)
            key[info.index] = anchor if anchor[:1] in ("@", "") else "@" + anchor
        else:
            key[info.index] = PORT_KEY
    return key


def _groups(model: Model) -> None:
    prob, m = model.prob, model.m
    n, per_tile = prob.mesh.crossbars, prob.mesh.crossbars_per_chip_tile
    intervals = []
    for name, g in prob.groups.items():
        bs = [m.NewBoolVar(f"b[{name},{r}]") for r in g.choices]
        m.AddExactlyOne(bs)
        size = m.NewIntVarFromDomain(
            cp_domain(model, [g.weight_tiles * r for r in g.choices]), f"size[{name}]")
        m.Add(size == sum(b * g.weight_tiles * r for b, r in zip(bs, g.choices)))
        start = m.NewIntVar(0, n - g.weight_tiles, f"start[{name}]")
        end = m.NewIntVar(g.weight_tiles, n, f"end[{name}]")
        intervals.append(m.NewIntervalVar(start, size, end, f"range[{name}]"))
        last = m.NewIntVar(0, n - 1, f"last[{name}]")
        m.Add(last == end - 1)
        model.b[name], model.start[name] = bs, start
        model.chip_tile_index[name], model.router_index[name] = _place_index(
            model, start, per_tile, f"tile[{name}]")
        model.last_chip_tile_index[name], model.last_router_index[name] = _place_index(
            model, last, per_tile, f"etile[{name}]")
    m.AddNoOverlap(intervals)


def _place_index(model: Model, position, per_tile: int, name: str) -> tuple:
    """(chip tile index, router index) along the snake of a snake position."""
    m, top = model.m, max(0, model.prob.mesh.chip_tiles - 1)
    chip_tile = m.NewIntVar(0, top, name)
    router = m.NewIntVar(0, top, "r" + name)
    m.AddDivisionEquality(chip_tile, position, per_tile)
    m.AddDivisionEquality(router, position, per_tile * model.prob.mesh.concentration)
    return chip_tile, router


def cp_domain(model: Model, values: list[int]):
    return model.cp.Domain.FromValues(values)


def _transfer(model: Model, u: str, v: str, nbytes: int) -> None:
    """Transfer cycles and hops of moving `nbytes` from place u to place v (once per pair)."""
    m, prob = model.m, model.prob
    zero = m.NewConstant(0)
    tiles, routers = model.chip_tile_index, model.router_index
    tu, ru = tiles.get(u.lstrip("@"), zero), routers.get(u.lstrip("@"), zero)
    home = v.lstrip("@")
    far_t = [tiles.get(home, zero), model.last_chip_tile_index.get(v, tiles.get(home, zero))]
    far_r = [routers.get(home, zero), model.last_router_index.get(v, routers.get(home, zero))]
    diff = m.NewBoolVar(f"diff[{u},{v}]")
    for t, r in zip(far_t, far_r):  # the whole range of v on u's chip tile, or a transfer
        m.Add(tu == t).OnlyEnforceIf(diff.Not())
        m.Add(ru == r).OnlyEnforceIf(diff.Not())
    dist = m.NewIntVar(0, prob.mesh.chip_tiles, f"dist[{u},{v}]")
    ends = []
    for r in far_r:
        d = m.NewIntVar(0, prob.mesh.chip_tiles, "")
        m.AddAbsEquality(d, ru - r)
        ends.append(d)
    m.AddMaxEquality(dist, ends)
    byte_cycles, hop = _link(prob)
    cycles = diff * round(nbytes * byte_cycles) + (dist + diff) * hop
    model.pairs[(u, v)] = (cycles, dist + diff, nbytes)


def _link(prob: Problem) -> tuple[float, int]:
    """(cycles per byte, cycles per hop) of the mesh."""
    net = prob.target.chip.network if prob.target.chip else None
    if net is None:
        return 0.0, 0
    clock = prob.target.clock
    return 8 * clock / net.link_bandwidth, round(net.hop_latency * clock)


def _duration(model: Model, info: OpInfo):
    if not info.group:
        return info.cycles
    g = model.prob.groups[info.group]
    return sum(b * c for b, c in zip(model.b[info.group], g.cycles[info.index]))


def _pair_bytes(model: Model, moves: dict[tuple[int, int], int]) -> dict:
    pairs: dict[tuple[str, str], int] = {}
    for info in model.prob.ops:
        for p in info.preds:
            u, v = model.key[p], model.key[info.index]
            if u != v:
                pairs[(u, v)] = max(pairs.get((u, v), 0), moves.get((p, info.index), 1))
    return pairs


def _horizon(model: Model, pairs: dict) -> int:
    """The longest path at one replica with the farthest transfers: no schedule is longer."""
    prob = model.prob
    byte_cycles, hop = _link(prob)
    far = 2 * prob.mesh.chip_tiles + 1
    end: dict[int, int] = {}
    for info in prob.ops:
        ready = 0
        for p in info.preds:
            u, v = model.key[p], model.key[info.index]
            move = 0 if u == v else round(pairs[(u, v)] * byte_cycles) + far * hop
            ready = max(ready, end[p] + move)
        g = prob.groups.get(info.group)
        end[info.index] = ready + (max(g.cycles[info.index]) if g else info.cycles)
    return max(end.values(), default=0) + 1


def _timing(model: Model, moves: dict[tuple[int, int], int]):
    """Start/end per op and precedences with transfers; returns the makespan."""
    m, prob = model.m, model.prob
    pairs = _pair_bytes(model, moves)
    for (u, v), nbytes in pairs.items():
        _transfer(model, u, v, nbytes)
    model.horizon = _horizon(model, pairs)
    ends = {}
    makespan = m.NewIntVar(0, model.horizon, "makespan")
    for info in prob.ops:
        s = m.NewIntVar(0, model.horizon, f"s{info.index}")
        e = m.NewIntVar(0, model.horizon, f"e{info.index}")
        m.Add(e == s + _duration(model, info))
        for p in info.preds:
            u, v = model.key[p], model.key[info.index]
            m.Add(s >= ends[p] + (model.pairs[(u, v)][0] if u != v else 0))
        m.Add(makespan >= e)
        ends[info.index] = e
    return makespan


def _interval(model: Model, fixed: int):
    m, prob = model.m, model.prob
    interval = m.NewIntVar(fixed, max(fixed, model.horizon), "interval")
    for name, g in prob.groups.items():
        worst = [max(g.cycles[i][k] for i in g.ops) for k in range(len(g.choices))]
        m.Add(interval >= sum(b * c for b, c in zip(model.b[name], worst)))
    return interval


def _fixed_load(prob: Problem, key: dict[int, str]) -> int:
    """The busiest bank or place's digital work: placement does not move it (banks are
    assigned by lookups beforehand; digital ops follow their producers)."""
    loads: dict[str, int] = {}
    banks = assign_banks(prob)
    for info in prob.ops:
        if info.unit == "bank":
            k = f"bank:{banks[info.index]}"
        elif info.unit == "digital":
            k = f"place:{key[info.index]}"
        else:
            continue
        loads[k] = loads.get(k, 0) + info.cycles
    return max(loads.values(), default=0)


def _energy(model: Model):
    net = model.prob.target.chip.network if model.prob.target.chip else None
    if net is None or not model.pairs:
        return 0
    per_hop = 8 * net.energy_per_bit * 1e12  # pJ per byte per hop
    return sum(round(nbytes * per_hop) * hops for _, hops, nbytes in model.pairs.values())


def build(prob: Problem, objective: str, weights: tuple[float, ...], refs: Score | None,
          moves: dict[tuple[int, int], int]) -> Model:
    """The model of `prob` for `objective` (`moves`: bytes per producer-consumer op pair)."""
    model = Model(prob)
    model.key = _keys(prob)
    _groups(model)
    makespan = _timing(model, moves)
    interval = _interval(model, _fixed_load(prob, model.key))
    energy = _energy(model)
    terms = (makespan, interval, energy)
    if objective == "mix":
        ref = (refs.latency, refs.interval, refs.energy * 1e12) if refs else (1, 1, 1)
        ref = tuple(max(r, 1.0) for r in ref)
        model.scale = 100 * max(ref)
        model.m.Minimize(sum(max(1, round(model.scale * w / r)) * t
                          for w, r, t in zip(weights, ref, terms) if w > 0))
        return model
    primary = terms[("latency", "throughput", "energy").index(objective)]
    tie = interval if objective == "latency" else makespan
    model.primary_k = model.horizon + 1
    model.m.Minimize(primary * model.primary_k + tie)
    return model


def hint(model: Model, place: Placement) -> None:
    """Warm start from a placement (greedy's)."""
    prob = model.prob
    for name, g in prob.groups.items():
        for b, r in zip(model.b[name], g.choices):
            model.m.AddHint(b, int(r == place.replicas[name]))
        model.m.AddHint(model.start[name], place.start[name])


def size(model: Model) -> int:
    """The number of variables in the model."""
    return len(model.m.Proto().variables)


def least_size(prob: Problem) -> int:
    """A lower bound on the number of variables `build` makes for `prob`, found without
    building the model: the start and end cycle of every op, and for every crossbar op one
    boolean per replica count and its size, first, last and end position."""
    return 2 * len(prob.ops) + sum(len(g.choices) + 4 for g in prob.groups.values())


def solve(model: Model, time_limit: float, seed: int, workers: int) -> Result:
    """Run CP-SAT deterministically (deterministic time limit, fixed seed and workers)."""
    solver = model.cp.CpSolver()
    p = solver.parameters
    p.max_deterministic_time = max(time_limit, 1e-3)
    # Only a runaway guard: a wall-clock limit that can bind makes the answer depend on the
    # machine's load; the deterministic limit is what stops the search.
    p.max_time_in_seconds = max(60.0, 20 * time_limit)
    p.random_seed, p.num_workers = seed, workers
    p.interleave_search = workers > 1
    status = solver.Solve(model.m)
    name = solver.StatusName(status)
    if status not in (model.cp.OPTIMAL, model.cp.FEASIBLE):
        return Result(None, name.lower(), 0.0, 0.0, 1.0, solver.WallTime())
    value = solver.ObjectiveValue() // model.primary_k
    bound = solver.BestObjectiveBound() // model.primary_k
    if model.scale:
        value, bound = value / model.scale, bound / model.scale
    gap = 0.0 if status == model.cp.OPTIMAL else (value - bound) / max(value, 1)
    return Result(_decode(model, solver), name.lower(), value, bound, gap, solver.WallTime())


def _decode(model: Model, solver) -> Placement:
    prob = model.prob
    replicas = {name: next(r for b, r in zip(model.b[name], g.choices) if solver.Value(b))
                for name, g in prob.groups.items()}
    start = {name: solver.Value(model.start[name]) for name in prob.groups}
    return Placement(replicas, start, assign_banks(prob))
