"""Every error-bound rule is sound: for random inputs and random input errors, every input
perturbation within its error moves every output by no more than the rule's bound (booleans:
a value flips only where the flag says it may; integers: within the integer bound).

Each rule is drawn many times by hypothesis: values (Gaussian, on a half-integer grid so ties
and kinks are hit, with zeros, or tiny), errors (from none to larger than the values, dense or
sparse), and perturbations at the corners of the error box, inside it, and on one coordinate.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ir.core import Value
from ir.dialects import all_ops, lookup
from ir.interp import evaluate
from ir.types import TensorType
from passes._lowering import _error_elementwise as elementwise
from passes._lowering.error_bound_rules import NO_ERROR, REFUSED
from passes.error_bound import _rule

F, X, P = "f", "c", "p"  # noisy float, exact float, exact positive float
N = "n"  # integer carrying an integer error
B = "b"  # boolean carrying a may-flip flag


def _idx(n):
    return f"i{n}"  # exact integer indices in [0, n)


S34 = (3, 4)
UNARY = sorted((c.name for c in elementwise.RULES if c.operands_spec == ("x",)
                and c.name not in ("nn.not", "nn.bitwise_not", "nn.cast")))
SPECS = [
    *[(name, [(S34, F)], {}) for name in UNARY],
    ("nn.leaky_relu", [(S34, F)], {"alpha": -0.5}),
    ("nn.elu", [(S34, F)], {"alpha": -0.7}),
    ("nn.thresholded_relu", [(S34, F)], {"alpha": -0.5}),
    ("nn.shrink", [(S34, F)], {"lambd": 0.5, "bias": 1.5}),
    ("nn.gelu", [(S34, F)], {"approximate": "tanh"}),
    ("nn.clip", [(S34, F)], {"min": -0.5, "max": 1.0}),
    ("nn.not", [(S34, B)], {}), ("nn.bitwise_not", [(S34, N)], {}),
    ("nn.cast", [(S34, N)], {"to": "f32"}), ("nn.add", [(S34, N), (S34, N)], {}),
    ("nn.cast", [(S34, F)], {"to": "f32"}), ("nn.cast", [(S34, F)], {"to": "i64"}),
    ("nn.cast", [(S34, F)], {"to": "bool"}),
    *[(n, [(S34, F), ((4,), F)], {}) for n in ("nn.add", "nn.sub", "nn.mul", "nn.div")],
    ("nn.pow", [(S34, F), ((), X)], {}), ("nn.pow", [(S34, F), (S34, F)], {}),
    ("nn.mod", [(S34, F), ((4,), P)], {}), ("nn.fmod", [(S34, F), ((4,), P)], {}),
    ("nn.prelu", [(S34, F), ((4,), F)], {}),
    *[(n, [(S34, F), (S34, F)], {}) for n in ("nn.equal", "nn.less", "nn.greater",
                                            "nn.less_or_equal", "nn.greater_or_equal")],
    *[(n, [(S34, B), (S34, B)], {}) for n in ("nn.and", "nn.or", "nn.xor")],
    ("nn.where", [(S34, B), (S34, F), ((4,), F)], {}),
    *[(n, [(S34, F), (S34, F), ((4,), F)], {}) for n in ("nn.sum", "nn.max", "nn.min",
                                                       "nn.mean")],
    ("nn.matmul", [((2, 3, 4), F), ((4, 5), F)], {}),
    ("nn.gemm", [((3, 4), F), ((5, 4), F), ((5,), F)], {"trans_b": True, "alpha": -0.5,
                                                      "beta": 2.0}),
    ("nn.einsum", [((2, 3, 4), F), ((2, 4, 3), F)], {"equation": "bij,bjk->bik"}),
    ("nn.einsum", [((3, 4), F), ((4, 2), F), ((2, 3), F)], {"equation": "ij,jk,kl->il"}),
    ("nn.einsum", [((3, 3), F)], {"equation": "ii->i"}),
    *[(n, [((2, 3, 4), F)], {"axes": [1], "keepdims": k}) for k in (True, False)
      for n in ("nn.reduce_sum", "nn.reduce_mean", "nn.reduce_max", "nn.reduce_min",
                "nn.reduce_prod", "nn.reduce_l1", "nn.reduce_l2", "nn.reduce_sum_square",
                "nn.reduce_log_sum_exp")],
    ("nn.cumsum", [(S34, F)], {"axis": 1, "reverse": True, "exclusive": True}),
    ("nn.softmax", [((2, 3, 4), F)], {"axis": 1}), ("nn.log_softmax", [(S34, F)], {}),
    ("nn.layer_norm", [((2, 3, 4), F), ((4,), F), ((4,), F)], {}),
    ("nn.layer_norm", [((2, 3, 4), F), ((3, 4), X)], {"axis": 1, "epsilon": 1e-3}),
    ("nn.layer_norm", [((2, 3, 4), F), ((4,), F)], {"epsilon": 1e-12}),  # RecBole's eps
    ("nn.batch_norm", [((2, 3, 4), F), ((3,), X), ((3,), X), ((3,), X), ((3,), P)], {}),
    ("nn.topk", [((3, 5), F)], {"k": 3}), ("nn.topk", [((5, 3), F)], {"k": 2, "axis": 0,
                                                                     "largest": False}),
    ("nn.argmax", [((3, 5), F)], {"axis": 1}),
    ("nn.argmin", [((3, 5), F)], {"axis": 0, "keepdims": False}),
    ("nn.reshape", [(S34, F)], {"shape": [2, 6]}), ("nn.transpose", [(S34, F)], {"perm": [1, 0]}),
    ("nn.squeeze", [((3, 1, 4), F)], {"axes": [1]}), ("nn.unsqueeze", [(S34, F)], {"axes": [0]}),
    ("nn.flatten", [((2, 3, 4), F)], {"axis": 2}), ("nn.expand", [((3, 1), F)], {"shape": [3, 4]}),
    ("nn.tile", [(S34, F)], {"repeats": [2, 1]}),
    ("nn.slice", [(S34, F)], {"starts": [1], "ends": [4], "axes": [1], "steps": [2]}),
    ("nn.split", [(S34, F)], {"axis": 1, "sizes": [1, 3]}),
    ("nn.concat", [(S34, F), ((3, 2), F)], {"axis": 1}),
    ("nn.trilu", [((4, 4), F)], {"upper": False, "k": -1}),
    ("nn.pad", [(S34, F)], {"pads": [1, 0, 0, 2], "value": 5.0}),
    ("nn.pad", [(S34, F)], {"pads": [0, 1, 0, 2], "mode": "reflect"}),
    ("nn.identity", [(S34, F)], {}), ("nn.dropout", [(S34, F)], {}),
    ("nn.gather", [((5, 3), F), ((2, 2), _idx(5))], {}),
    ("nn.gather_elements", [(S34, F), ((3, 2), _idx(4))], {"axis": 1}),
    ("nn.gather_nd", [((3, 4, 2), F), ((2, 2), _idx(3))], {}),
    ("nn.scatter_elements", [(S34, F), ((3, 2), _idx(4)), ((3, 2), F)],
     {"axis": 1, "reduction": "add"}),
    ("nn.scatter_nd", [(S34, F), ((2, 1), _idx(3)), ((2, 4), F)], {"reduction": "max"}),
    ("rec.dense", [((2, 3, 4), F), ((4, 5), F), ((5,), F)], {"activation": "tanh"}),
    ("rec.dense", [((3, 4), F), ((4, 5), X)], {"activation": "relu"}),
    ("rec.dot_interaction", [((2, 4, 3), F)], {}),
    ("rec.dot_interaction", [((2, 4, 3), F)], {"triangle": "upper", "self_interaction": True}),
    ("rec.fm", [((2, 4, 3), F)], {}), ("rec.fm", [((2, 4, 3), F)], {"reduce": False}),
    ("rec.gating", [((2, 3, 4), F), ((2, 3, 1), F)], {}),
    ("rec.cross", [(S34, F), (S34, F), ((4,), X), ((4,), X)], {"kind": "vector"}),
    ("rec.cross", [(S34, F), (S34, F), ((4, 4), F), ((4,), F)], {"kind": "matrix"}),
    ("rec.efc", [((2, 3, 4), F), ((3, 2), F), ((2, 1), F)], {}),
    ("rec.attention", [((2, 3, 4), F), ((4, 4), X), ((4, 4), X), ((4, 4), X)],
     {"heads": 2, "scale": 0.5}),
    ("rec.embedding_bag", [((6, 3), F), ((4, 2), _idx(6))], {"mode": "max"}),
    ("rec.embedding_bag", [((6, 3), F), ((4, 2), _idx(6))], {"mode": "mean"}),
    *[("rec.gru", [((3, 2, 2), F), ((2, 6), F), ((2, 6), F), ((6,), F), ((6,), F), ((2, 2), F)],
       {"linear_before_reset": lbr, "reverse": not lbr}) for lbr in (True, False)],
    ("pim.combine", [(S34, F), (S34, F)], {"op": "d", "mode": "sum", "scale": -0.5}),
    ("pim.combine", [(S34, F), ((3, 2), F)], {"op": "d", "mode": "concat"}),
    ("pim.transfer", [(S34, F)], {"src": 0, "dst": 1, "bytes": 8, "hops": 1}),
]


def _op(name, operands, attrs):
    def vtype(shape, kind):
        dtype = "bool" if kind == B else "i64" if kind[0] in "in" else "f64"
        return TensorType(shape, dtype)
    return lookup(name)([Value(vtype(s, k)) for s, k in operands], attrs)


def _values(rng, shape, kind, style):
    if kind == B:
        return rng.random(shape) < 0.5
    if kind == N:
        return rng.integers(-5, 6, shape).astype(np.int64)
    if kind.startswith("i"):
        return rng.integers(0, int(kind[1:]), shape).astype(np.int64)
    x = {"normal": lambda: rng.standard_normal(shape),
         "grid": lambda: rng.integers(-4, 5, shape) / 2.0,
         "zeros": lambda: rng.standard_normal(shape) * (rng.random(shape) < 0.5),
         "tiny": lambda: rng.standard_normal(shape) * 1e-3}[style]() * (2.0 if kind == F else 1)
    return np.where(np.abs(x) < 0.25, 0.75, np.abs(x)) if kind == P else x


def _errors(rng, shape, kind, scale, sparse):
    if kind == B:
        return (rng.random(shape) < 0.5).astype(np.float64)
    if kind == N:
        return rng.integers(0, 3, shape).astype(np.float64)
    if kind != F:
        return np.zeros(shape)
    # on a half-integer grid too, so that intervals of grid values touch exactly
    e = rng.integers(0, 3, shape) / 2.0 if scale == "grid" else rng.random(shape) * scale
    return e * (rng.random(shape) < 0.3) if sparse else e


def _perturbations(rng, shape, scan):
    """Corners, interior points and one coordinate; with `scan`, also one common offset
    swept finely across the box (an elementwise function's turning points lie inside)."""
    sweep = [np.full(shape, t) for t in np.linspace(-1, 1, 41)] if scan else []
    return [*sweep, np.ones(shape), -np.ones(shape), rng.choice([-1.0, 1.0], shape),
            rng.choice([-1.0, 0.0, 1.0], shape), rng.uniform(-1, 1, shape),
            np.eye(1, int(np.prod(shape)), int(rng.integers(0, max(np.prod(shape), 1))))
            .reshape(shape) * rng.choice([-1.0, 1.0])]


def _move(v, e, u):
    if v.dtype == bool:
        return np.where((e > 0) & (u != 0), ~v, v)
    if v.dtype.kind == "i":
        return v + np.round(u * e).astype(v.dtype)
    return v + u * e


def _gap(got, base):
    if base.dtype == bool:
        return (got != base).astype(np.float64)
    with np.errstate(invalid="ignore"):
        return np.abs(got.astype(np.float64) - base)


def _assert_sound(op, vals, errs, rng):
    base = evaluate(op, vals)
    bounds = _rule(op)(op, vals, errs, base)
    scan = len(vals) == 1
    for u in zip(*[_perturbations(rng, np.shape(v), scan) for v in vals]):
        with np.errstate(all="ignore"):
            got = evaluate(op, [_move(v, e, k) for v, e, k in zip(vals, errs, u)])
        for g, b0, bound in zip(got, base, bounds):
            gap, bound = _gap(g, b0), np.broadcast_to(np.asarray(bound, np.float64), b0.shape)
            ok = np.isposinf(bound) | (gap <= bound * (1 + 1e-9) + 1e-9)
            assert ok.all(), (op.name, op.attrs, gap[~ok], bound[~ok])


DRAWS = settings(max_examples=60, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("name, operands, attrs", SPECS,
                         ids=[f"{s[0]}-{i}" for i, s in enumerate(SPECS)])
@DRAWS
@given(seed=st.integers(0, 2 ** 32 - 1),
       style=st.sampled_from(["normal", "grid", "zeros", "tiny"]),
       scale=st.sampled_from([1e-3, 0.05, 0.3, 1.5, "grid"]), sparse=st.booleans())
def test_perturbations_within_the_input_errors_stay_within_the_bound(
        name, operands, attrs, seed, style, scale, sparse):
    rng = np.random.default_rng(seed)
    op = _op(name, operands, attrs)
    with np.errstate(all="ignore"):
        vals = [_values(rng, s, k, style) for s, k in operands]
        errs = [_errors(rng, s, k, scale, sparse) for s, k in operands]
        _assert_sound(op, vals, errs, rng)


def test_every_rule_bearing_nn_and_rec_op_has_a_property_case():
    # the pairwise-interaction ops have their own generators (test_error_bound_rec_pairs.py)
    covered = {s[0] for s in SPECS} | {"rec.pairwise", "rec.bilinear", "rec.moe"}
    skipped = set(NO_ERROR) | set(REFUSED)
    ops = [c for n, c in all_ops().items() if n.split(".")[0] in ("nn", "rec")]
    missing = sorted(c.name for c in ops if c not in skipped and c.name not in covered)
    assert not missing, missing


# -- elementwise functions against a brute-force sweep of every interval -----------------------
SWEEP_X = np.linspace(-6, 6, 481)
SWEEP_E = np.linspace(0.05, 4.0, 16)
SWEEP_SPECS = [s for s in SPECS if len(s[1]) == 1 and s[1][0][1] == F
               and s[0] in {c.name for c in elementwise.RULES}]


@pytest.mark.parametrize("name, operands, attrs", SWEEP_SPECS,
                         ids=[f"{s[0]}-{i}" for i, s in enumerate(SWEEP_SPECS)])
def test_elementwise_bounds_cover_a_dense_sweep_of_each_interval(name, operands, attrs):
    """max |f(x + t e) - f(x)| over 401 offsets t in [-1, 1], for x on a grid over [-6, 6]
    and errors up to 4: turning points, kinks, jumps and poles anywhere in the interval."""
    x, e = (a.ravel() for a in np.meshgrid(SWEEP_X, SWEEP_E))
    op = _op(name, [((x.size,), F)], attrs)
    with np.errstate(all="ignore"):
        base = evaluate(op, [x])[0]
        bound = _rule(op)(op, [x], [e], [base])[0]
        worst = np.zeros_like(x)
        for t in np.linspace(-1, 1, 401):
            worst = np.fmax(worst, _gap(evaluate(op, [x + t * e])[0], base))
    ok = np.isposinf(bound) | (worst <= bound * (1 + 1e-9) + 1e-9)
    assert ok.all(), (x[~ok][:3], e[~ok][:3], worst[~ok][:3], bound[~ok][:3])
