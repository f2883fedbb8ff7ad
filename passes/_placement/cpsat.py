"""The CP-SAT model of placement: builder and decoder (no pipeline imports; ortools lazily).

Decisions: for every crossbar op g, one replica count out of its useful choices (booleans
b[g,k], one true) and a start position on the snake; its range of tiles x replicas positions
is an interval, and the intervals do not overlap (so no crossbar holds two tiles and the
crossbars suffice). An op's chip tile index is start // crossbars-per-tile, its router index
start // crossbars-per-router (the snake walks routers one hop apart).

Every op with a unit has a start cycle; it starts after each producer ends plus, when they sit
in different places, a transfer of (bytes / link bandwidth) x [some of the consumer's range is
off the producer's chip tile] + hop latency x (router distance to the far end + that flag).
Past ``PER_TILE_VARIABLES`` the tiles of a crossbar op share one start and end (its slowest
tile's time, after every producer of any of its tiles; not where that would make it wait for
itself): they share their replica count, place and transfers anyway, and per-tile starts made
the model grow with the tiles (a chain of four 2048-wide layers: 28.6k variables, 1.2k
shared), and CP-SAT's time with it.

Digital ops sit on the chip tile where their first producer's range starts; bank ops at the
DRAM port (snake position 0). Latency = makespan; interval >= every crossbar op's time at its
replica count and >= the fixed per-place digital and per-bank loads; energy = network energy
(sum of bytes x 8 x energy per bit per hop x hops) + the target's leakage over the interval, as
the schedule's score counts it (leakage is most of it on isaac, and a model without it chose
placements of up to 4x greedy's energy there).

Mesh links (objectives that pipeline batches): the interval is also at least the time one link
is held by each crossbar op's traffic at its replica count (``cpsat_terms.link_cycles``).

Objective: the primary term (latency, interval, energy, or a mix weighted over
reference values) times K plus the latency (interval for `latency`) as a tie-break, with K
above any tie-break value, so the order is lexicographic.
"""

from __future__ import annotations

from dataclasses import dataclass

from passes._placement.cpsat_terms import link_cycles, nodes
from passes._placement.placement import PIPELINED_OBJECTIVES, Placement, Score, assign_banks
from passes._placement.problem import OpInfo, Problem

__all__ = ["MAX_VARIABLES", "PER_TILE_VARIABLES", "Model", "Result", "build", "least_size",
           "size", "solve"]

PORT_KEY = ""

# Past this many variables with a start per tile (`least_size(prob, shared=False)`), tiles
# share their crossbar op's start (module docstring). Measured with a 1 s limit on 79
# compiles (fixtures, chains, tables models, nasrec candidates; isaac, hetero, puma; four
# objectives): sharing below it (0.5k to 1.1k variables) placed 6 better by 1% to 19% and 5
# worse by 0.1% to 19% (a 256-wide chain for latency); above it (2.1k to 6.6k), three of six
# nasrec candidates by 12% to 32% better than per-tile starts, and none worse.
PER_TILE_VARIABLES = 2_000

# The most model variables CP-SAT is run on (`size`, or `least_size` before building),
# whatever the time limit. Measured on 2 cores with a 1 s limit (shared starts; chains of
# 256-wide Gemm+Relu layers, bench/growth_sweep.py's chain_model, throughput): 2.6k and 3.1k
# variables (40 and 48 layers) took 2.9 and 3.4 s to solve and beat greedy by a third on
# isaac (not on hetero); 4.2k (64 layers) took 4.5 s on both and only returned greedy's
# answer (so did 4.5k, 96 128-wide layers for latency, in 7.3 s); 6.2k and 8.3k found no
# solution in 7.7 and 12.4 s. Its wall time per deterministic second grows with the model
# (presolve and search work the deterministic clock does not count), so past this a compile
# would take many times its limit for nothing.
MAX_VARIABLES = 4_000


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
        self.shared = False  # whether the tiles of a crossbar op share one start and end


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


def _duration(model: Model, info: OpInfo, whole: bool = False):
    """The op's cycles at its crossbar op's replica count (`whole`: its slowest tile's)."""
    if not info.group:
        return info.cycles
    g = model.prob.groups[info.group]
    cycles = g.cycles[info.index]
    if whole:
        cycles = [g.duration(k) for k in range(len(g.choices))]
    return sum(b * c for b, c in zip(model.b[info.group], cycles))


def _pair_bytes(model: Model, moves: dict[tuple[int, int], int]) -> dict:
    pairs: dict[tuple[str, str], int] = {}
    for info in model.prob.ops:
        for p in info.preds:
            u, v = model.key[p], model.key[info.index]
            if u != v:
                pairs[(u, v)] = max(pairs.get((u, v), 0), moves.get((p, info.index), 1))
    return pairs


def _horizon(model: Model, pairs: dict, node: dict[int, object], order: list) -> int:
    """The longest path at one replica with the farthest transfers: no schedule is longer."""
    prob = model.prob
    byte_cycles, hop = _link(prob)
    far = 2 * prob.mesh.chip_tiles + 1
    edges: dict[object, list[tuple[object, int]]] = {n: [] for n in order}
    cycles: dict[object, int] = {}
    for info in prob.ops:
        n, v = node[info.index], model.key[info.index]
        g = prob.groups.get(info.group)
        cycles[n] = max(cycles.get(n, 0), max(g.cycles[info.index]) if g else info.cycles)
        for p in info.preds:
            u = model.key[p]
            edges[n].append((node[p], 0 if u == v else round(pairs[(u, v)] * byte_cycles)
                             + far * hop))
    end: dict[object, int] = {}
    for n in order:
        end[n] = max((end[q] + move for q, move in edges[n]), default=0) + cycles[n]
    return max(end.values(), default=0) + 1


def _timing(model: Model, moves: dict[tuple[int, int], int]):
    """Start/end per node and precedences with transfers; returns the makespan."""
    m, prob = model.m, model.prob
    pairs = _pair_bytes(model, moves)
    for (u, v), nbytes in pairs.items():
        _transfer(model, u, v, nbytes)
    node, order = nodes(prob, model.shared)
    model.horizon = _horizon(model, pairs, node, order)
    span: dict = {}
    makespan = m.NewIntVar(0, model.horizon, "makespan")
    for info in prob.ops:
        n = node[info.index]
        if n not in span:
            s = m.NewIntVar(0, model.horizon, f"s{n}")
            e = m.NewIntVar(0, model.horizon, f"e{n}")
            m.Add(e == s + _duration(model, info, n != info.index))
            m.Add(makespan >= e)
            span[n] = (s, e, set())
        s, _, after = span[n]
        for p in info.preds:
            if node[p] in after:
                continue  # another tile of the op already waits for it
            after.add(node[p])
            u, v = model.key[p], model.key[info.index]
            m.Add(s >= span[node[p]][1] + (model.pairs[(u, v)][0] if u != v else 0))
    return makespan


def _interval(model: Model, fixed: int, links: dict[str, tuple[int, ...]]):
    m, prob = model.m, model.prob
    top = max([fixed, model.horizon] + [max(c) for c in links.values()])
    interval = m.NewIntVar(fixed, top, "interval")
    for name, g in prob.groups.items():
        for cycles in ([max(g.cycles[i][k] for i in g.ops) for k in range(len(g.choices))],
                       links.get(name)):
            if cycles:
                m.Add(interval >= sum(b * c for b, c in zip(model.b[name], cycles)))
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


def _energy(model: Model, interval):
    """pJ per batch that placement changes: the network's, and the leakage over the interval
    (as `placement.evaluate` counts it; on isaac it is most of it)."""
    leak = model.prob.leakage_per_cycle * 1e12
    total = max(1, round(leak)) * interval if leak > 0 else 0
    net = model.prob.target.chip.network if model.prob.target.chip else None
    if net is None or not model.pairs:
        return total
    per_hop = 8 * net.energy_per_bit * 1e12  # pJ per byte per hop
    return total + sum(round(nbytes * per_hop) * hops for _, hops, nbytes in model.pairs.values())


def build(prob: Problem, objective: str, weights: tuple[float, ...], refs: Score | None,
          moves: dict[tuple[int, int], int]) -> Model:
    """The model of `prob` for `objective` (`moves`: bytes per producer-consumer op pair)."""
    model = Model(prob)
    model.shared = least_size(prob, shared=False) > PER_TILE_VARIABLES
    model.key = _keys(prob)
    _groups(model)
    makespan = _timing(model, moves)
    links = link_cycles(prob, moves) if objective in PIPELINED_OBJECTIVES else {}
    interval = _interval(model, _fixed_load(prob, model.key), links)
    energy = _energy(model, interval)
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


def least_size(prob: Problem, shared: bool | None = None) -> int:
    """A lower bound on the number of variables `build` makes for `prob`, found without
    building the model: a start and an end per op (per crossbar op when its tiles share them;
    None: as `build` chooses), and for every crossbar op one boolean per replica count and its
    size, first, last and end position."""
    per_op = sum(len(g.choices) + 4 for g in prob.groups.values())
    per_tile = per_op + 2 * len(prob.ops)
    if shared is None:
        shared = per_tile > PER_TILE_VARIABLES
    if not shared:
        return per_tile
    tiles = sum(len(g.ops) for g in prob.groups.values())
    return per_op + 2 * (len(prob.ops) - tiles + len(prob.groups))


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
    # Done once the best answer is proven within one unit of the objective (one cycle of the
    # tie-break): proving the last unit took CP-SAT 35 s of wall time against 0.2 s of
    # deterministic time, which does not count that work (four 256-wide layers on isaac,
    # tests/mapping/builders.py's mlp, 8-bit); its answer was found in 0.02 s. Stopping once
    # the primary term alone is proven (a gap of primary_k - 1) leaves the tie-break
    # unsearched: on 30 nasrec candidates on isaac it cut CP-SAT's compiles by a quarter, but
    # placed one at a 77% and one at an 8% longer scheduled interval (the tie-break's latency
    # shows on the schedule), so the tie-break is searched too.
    p.absolute_gap_limit = 1.0
    if model.shared:
        # Cuts cost more than they help the smaller shared model: four 2048-wide layers on
        # isaac took 1.4 s (0.58 s deterministic) with them, 0.64 s (0.06 s) without, for
        # the same answer; nasrec candidates place as well or better without.
        p.cut_level = 0
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
