"""The error bound the functional check uses: per output element, a worst-case bound on
|quantised - float| that follows from the precisions, on given inputs.

`error_bound(module, inputs)` runs the float program on the inputs and carries, op by op, an
array e(v) >= 0 beside every value v with |v_quantised - v_float| <= e(v) elementwise:

- graph inputs, literals, embedding rows (tables stay float in banks) and integers: e = 0;
- a crossbar matmul (`pim.mvm` tile, or a `rec.dense` / `nn.matmul` carrying pim.x_scale
  before `tile`), y = x W with x quantised at step s = pim.x_scale to a bits (round, clip at
  q = 2^(a-1) - 1) and W at its per-tensor step to w bits (Wq):
      e(y) = e_in @ |Wq| + |x @ (Wq - W)| + e_adc
  with e_in = max(|Q(x + e(x)) - x|, |Q(x - e(x)) - x|) (Q is monotone, so the worst case is
  at an end; it is <= e(x) + s/2 inside the range and grows by the clipped excess outside),
  the weight term exact (the weights are known), summed over the reduction dimension with
  the magnitudes of the float run; e_adc, when rows x (2^dac-1) x (2^cell-1) > 2^adc - 1,
  is passes x eps x sum_i 2^(i dac) x sum_j 2^(j cell) x s x w_step with eps = max(step/2,
  step - 1) the worst rounding-plus-clipping error of one conversion (step = 2^(ceil(log2
  (full+1)) - adc)), over every input and weight digit and every polarity pass;
- linear maps with float weights: e(y) = e(x) @ |W|; sums: e(a) + e(b); moves (reshape,
  slice, concat, gather, transpose, reductions by sum or max...): the same op on e, in
  float64 whatever the value's type (a float32 copy or sum of e could round it down); a copy
  (`pim.transfer`, `pim.load`) passes e on as it is;
- products (mul, dot interaction, matmul of activations, FM): |a| e(b) + |b| e(a) + e(a) e(b);
- monotone nonlinearities f (relu, sigmoid, tanh, exp, ...): max(|f(x + e) - f(x)|,
  |f(x - e) - f(x)|), which is at most the Lipschitz bound L e (relu 1, sigmoid 1/4, tanh 1)
  and exact for the worst case; functions monotone between known turning points or jumps
  (abs, gelu, mish, hard_swish, shrink, ...) add those points when inside [x - e, x + e];
  poles and domain edges give inf; softmax: y (exp(2 max e) - 1) along its axis;
  division: (|a| e(b) + |b| e(a)) / (|b| (|b| - e(b)));
- norms by the triangle inequality (reduce_l2: |e|_2, reduce_l1: sum e); layer_norm through
  the centred input and the range its deviation can take; topk values by the largest error
  along the axis, its indices (and argmax's) by the farthest element whose rank can change;
- booleans carry a flag (1 where a comparison may flip), integers a bound on their change;
  where() with a flag that may flip takes |a - b| + max(e(a), e(b)).

Every op of every dialect has a rule (`RULES`), a reason it cannot carry error (`NO_ERROR`),
or a named refusal (`REFUSED`); a test walks the registry to keep it so. The crossbar tiles
of a matrix that read the same rows of its input (one per column block) share the input's
part of their bound (e_in and the rounding of exact inputs), worked out once (`_row_blocks`):
a candidate's tiles hold 85 x 15 weights on isaac, so that part was half of each tile's rule.
The rest of the rule, and the float result, are worked out for a row block's tiles at once
(`_block`: their constant weights side by side), a few numpy calls per block instead of per
tile.

To the outputs' bounds `rtol |y| + atol` is added (default 1e-5, 1e-6: float32 evaluation
differences between this interpreter and ONNX Runtime, as the fixture tests allow).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import numpy as np

from ir.core import Graph, Module, Op, Value
from ir.dialects import nn, pim
from ir.dialects.pim_attrs import X_SCALE
from ir.errors import PimcError
from ir.interp import _bind_inputs, evaluate
from ir.interp._blocks import COPIES, TOGETHER, row_blocks
from ir.interp.quant import weight_scale
from passes._lowering._error_linear import InputSide, weight_bound_columns
from passes._lowering._error_tensor import exact
from passes._lowering.error_bound_rules import RULES, adc_error, tile_bound, tile_input

__all__ = ["error_bound", "max_relative_bound"]


def _rule(op: Op):
    for klass in type(op).__mro__:
        if klass in RULES:
            return RULES[klass]
    return None


def _float_results(op: Op, vals: list[np.ndarray]) -> list[np.ndarray]:
    if isinstance(op, pim.MVM):
        r0, r1 = op.attrs["rows"]
        return [np.asarray(vals[0][..., r0:r1], np.float64) @ vals[1]]
    return evaluate(op, vals)


def _bounds(op: Op, vals: list, errs: list, outs: list) -> list[np.ndarray]:
    # Integer and boolean results go through the rules too: a comparison of values that
    # carry error may flip, and an index chosen among them may change.
    quantises = X_SCALE.has(op) or isinstance(op, pim.MVM)
    if not quantises and not any(np.any(e) for e in errs):
        return [np.zeros(o.shape) for o in outs]
    rule = _rule(op)
    if rule is None:
        raise PimcError(f"error bound: no rule for {op.name} (its inputs carry error); "
                        "bound the module after tile", "error_bound")
    with np.errstate(all="ignore"):  # an overflow is an infinite bound, judged by the check
        return [np.asarray(e, np.float64) for e in rule(op, vals, errs, outs)]


def _row_blocks(graph: Graph) -> dict[int, tuple]:
    """The crossbar tiles that share their input's part of the bound, and are bounded
    together (``_block``), with another tile (by id: the key they share): a row block
    (``ir.interp._blocks``) of one quantisation, as the interpreter's."""
    return row_blocks(graph, TOGETHER)


def _walk(graph: Graph, inputs) -> tuple[list[np.ndarray], list[np.ndarray]]:
    vals: dict[Value, np.ndarray] = dict(_bind_inputs(graph, inputs))
    errs: dict[Value, np.ndarray] = {v: np.zeros(a.shape) for v, a in vals.items()}
    blocks = _row_blocks(graph)
    members: dict[tuple, list[pim.MVM]] = {}  # each row block's tiles, in graph order
    for op in graph.ops:
        key = blocks.get(id(op))
        if key is not None:
            members.setdefault(key, []).append(op)
    sides: dict[tuple, InputSide] = {}  # a row block's input part, while tiles still need it
    done: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # a tile's result and bound, by id
    left = Counter(blocks.values())
    for op in graph.ops:
        # a copy (transfer, load) passes on its value (in its type, as `evaluate` gives it) and
        # its bound, without its rule: a candidate holds thousands, and the copy-and-abs of
        # `on_errors` (their rule, kept for direct callers) was a sixth of the walk
        if type(op) in COPIES:
            src, res = op.operands[0], op.results[0]
            vals[res] = vals[src].astype(res.type.np_dtype, copy=False)
            errs[res] = errs[src]
            continue
        ins = [vals[v] for v in op.operands]
        key = blocks.get(id(op))
        if key is None:
            outs = _float_results(op, ins)
            bounds = _bounds(op, ins, [errs[v] for v in op.operands], outs)
        else:
            e = [errs[v] for v in op.operands]
            side = sides.get(key)
            if side is None:
                side = sides[key] = _block_input(op, ins[0], e[0])
                done.update(_block(members[key], side))
            got = done.pop(id(op), None)
            if got is None:  # weights not a constant of its own: the tile alone
                outs = _float_results(op, ins)
                bounds = _shared_tile(op, ins, e, side)
            else:
                outs, bounds = [got[0]], [got[1]]
            left[key] -= 1
            if not left[key]:
                del sides[key]
        vals.update(zip(op.results, outs))
        errs.update(zip(op.results, bounds))
    return [vals[v] for v in graph.outputs], [errs[v] for v in graph.outputs]


def _block_input(op: pim.MVM, x: np.ndarray, e: np.ndarray) -> InputSide:
    with np.errstate(all="ignore"):  # as `_bounds`
        return tile_input(op, x, e)


def _shared_tile(op: pim.MVM, vals: list, errs: list, side: InputSide) -> list[np.ndarray]:
    """A crossbar tile's bound (the `pim.mvm` rule) with its row block's input part `side`,
    worked out by the first of its tiles."""
    exact(op, errs, 1, "weight tile")
    with np.errstate(all="ignore"):  # as `_bounds`
        return [np.asarray(tile_bound(op, side, vals[1]), np.float64)]


def _block(ops: list[pim.MVM], side: InputSide) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The float result and the bound (the `pim.mvm` rule) of every tile of a row block whose
    weights are a constant of its own (a tile that reads them through a load is left to
    itself), by id: their weights side by side, so that each step of the rule is one numpy
    call for the block instead of one per tile (a candidate's tiles hold 85 x 15 weights on
    isaac, so those calls were most of the walk). Each tile gets its own columns of each
    step (its own weight step). A product of the weights side by side may sum in another
    order than the tile's alone: the result and the bound of 48 of 935 tiles of a nasrec
    candidate, on random inputs, differed from the tile's own rule in their last bits."""
    tiles = [(op, np.asarray(evaluate(op.operands[1].owner, [])[0], np.float64)) for op in ops
             if isinstance(op.operands[1].owner, nn.Constant)]  # a constant carries no error
    if not tiles:
        return {}
    with np.errstate(all="ignore"):  # as `_bounds`
        return _together(tiles, side)


def _together(tiles: list[tuple[pim.MVM, np.ndarray]], side: InputSide
              ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """`_block` of tiles with their weights as float64 arrays."""
    a = tiles[0][0].attrs
    r0, r1 = a["rows"]
    w = np.concatenate([t for _, t in tiles], axis=1)
    cols = [t.shape[1] for _, t in tiles]
    steps = [op.attrs["w_scale"] or weight_scale(t, a["w_bits"]) for op, t in tiles]
    adcs = [adc_error(op.attrs, r1 - r0) for op, _ in tiles]  # as `tile_bound` takes it
    bound = weight_bound_columns(side, w, np.repeat(steps, cols), a["w_bits"]) + \
        np.repeat(adcs, cols)
    result = side.x @ w
    ends = np.cumsum(cols).tolist()
    return {id(op): (result[..., end - n:end], bound[..., end - n:end])
            for (op, _), n, end in zip(tiles, cols, ends)}


def error_bound(module: Module, inputs: Mapping[str, np.ndarray], rtol: float = 1e-5,
                atol: float = 1e-6) -> list[np.ndarray]:
    """Per output, the elementwise bound on |quantised - float| (see the module docstring)."""
    values, bounds = _walk(module.main, inputs)
    return [b + rtol * np.abs(v) + atol for v, b in zip(values, bounds)]


def max_relative_bound(module: Module, inputs: Mapping[str, np.ndarray]) -> float:
    """The largest output bound relative to the largest output magnitude (a summary)."""
    values, bounds = _walk(module.main, inputs)
    return max(float(np.max(b)) / (float(np.max(np.abs(v))) or 1.0)
               for v, b in zip(values, bounds))
