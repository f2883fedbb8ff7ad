"""The interval bound counts the crossbars that every op's replicas share
(`lower_bounds._capacity`): where they run out, greedy meets it, and no placement that fits
beats it."""

import dataclasses
import itertools

import pytest
from builders import mlp, tiny_target

from passes._placement import heuristics
from passes._placement.lower_bounds import _capacity, _widest, _work_bound, interval_bound
from passes._placement.placement import evaluate
from passes._placement.problem import Problem
from passes.pipeline import parse_pipeline


def _scarce(tmp_path, widths: tuple[int, ...] = (16,) * 4, arrays: int = 4):
    """Dense layers of `widths` on 2 x `arrays` crossbars, batch 8 (replica counts 1, 2, 3, 4
    and 8: those that change the passes over 8 vectors). The default, three one-tile layers:
    each alone could take 4, together two of them no more than 2 (4 passes): more than the
    crossbars' work over their number says (3 passes)."""
    module = mlp(tiny_target(tmp_path, tiles=2, arrays=arrays), list(widths), batch=8)
    return module, Problem.of(module)


# On 8 crossbars: three one-tile layers; four, which fill them exactly at 2 replicas each.
# On 16: three layers of two tiles, which fit at 2 replicas (each alone could take 4): a
# bound that counted replicas instead of their tiles would say 4.
SHAPES = [((16,) * 4, 4), ((16,) * 5, 4), ((16, 32, 32, 32), 8)]


def test_the_bound_is_the_shared_crossbars_where_they_run_out(tmp_path):
    _, prob = _scarce(tmp_path)
    assert prob.mesh.crossbars == 8 and all(g.weight_tiles == 1 for g in prob.groups.values())
    alone = max(_work_bound(prob), _widest(prob))
    assert interval_bound(prob) == _capacity(prob) > alone
    two = prob.groups[next(iter(prob.groups))].choices.index(2)
    assert _capacity(prob) == max(g.duration(two) for g in prob.groups.values())


@pytest.mark.parametrize("widths, arrays", SHAPES)
def test_no_placement_that_fits_beats_it(tmp_path, widths, arrays):
    """Every replica count of every layer that fits in the crossbars, scored: the near miss
    of a bound that counts too many replicas, or too few crossbars, is a placement below it;
    of one that counts too few, a bound no placement reaches."""
    _, prob = _scarce(tmp_path, widths, arrays)
    bound, base = interval_bound(prob), heuristics.naive(prob)
    names = list(prob.groups)
    met = False
    for counts in itertools.product(*(prob.groups[n].choices for n in names)):
        if sum(prob.groups[n].weight_tiles * r for n, r in zip(names, counts)) > \
                prob.mesh.crossbars:
            continue
        replicas = dict(zip(names, counts))
        place = dataclasses.replace(base, replicas=replicas,
                                    start=heuristics.sequential(prob, replicas))
        interval = evaluate(prob, place, "throughput", (1, 1, 0))[0].interval
        assert interval >= bound, (counts, interval, bound)
        met = met or interval == bound
    assert met  # and one placement reaches it: the bound is tight here


@pytest.mark.parametrize("widths, arrays", SHAPES)
def test_greedy_meets_it_and_stops_there(tmp_path, widths, arrays):
    module, _ = _scarce(tmp_path, widths, arrays)
    for p in parse_pipeline("place{objective=throughput},schedule,lower-bound"):
        p.apply(module)
    assert module.attrs["pim.place.status"] == "optimal"
    assert module.attrs["pim.interval"] == module.attrs["pim.lower_bound.interval"]


def test_room_for_every_op_at_most_replicas_leaves_the_bound_as_it_was(tmp_path):
    """With crossbars to spare the sum adds nothing: the bound is each op alone."""
    module = mlp(tiny_target(tmp_path, tiles=4, arrays=16), [16, 16, 16], batch=8)
    prob = Problem.of(module)
    assert _capacity(prob) <= max(_work_bound(prob), _widest(prob))
