"""Converters of ONNX's recurrent ops (RNN, GRU, LSTM) into `nn.rnn`, `nn.gru`, `nn.lstm`.

The IR ops take every operand explicitly and only the time-major layout, so the converter
fills ONNX's absent inputs with the values ONNX defines for them (zero bias, zero states, zero
peepholes, every sequence full length), transposes a batch-major (layout=1) node in and out,
and resolves the activation list (defaults, one list per direction, alpha and beta per
function) the way ONNX Runtime does.
"""

from __future__ import annotations

import numpy as np

from frontend.onnx._context import Context, Node
from frontend.onnx.converters._registry import register
from ir.core import Value
from ir.dialects import nn_seq, nn_shape
from ir.errors import PimcError

# ONNX op -> (IR op, default activations of one direction)
_OPS = {
    "RNN": (nn_seq.Rnn, ("tanh",)),
    "GRU": (nn_seq.Gru, ("sigmoid", "tanh")),
    "LSTM": (nn_seq.Lstm, ("sigmoid", "tanh", "tanh")),
}
# ONNX Runtime's defaults for the functions whose alpha or beta the node leaves out
# (onnxruntime/core/providers/cpu/rnn/rnn_helpers.cc, NameToArgDefaultsMap); others take 0.
_DEFAULTS = {"leakyrelu": (0.01, 0.0), "hardsigmoid": (0.2, 0.5), "elu": (1.0, 0.0)}


def _activations(node: Node, defaults: tuple[str, ...], dirs: int) -> dict:
    """The `activations`, `activation_alpha` and `activation_beta` attributes of the IR op."""
    names = [a.lower() for a in node.attrs.get("activations", defaults * dirs)]
    if len(names) != len(defaults) * dirs:
        raise PimcError(f"{len(names)} activations given; accepted: {len(defaults)} per "
                        f"direction, forward's first ({len(defaults) * dirs} for "
                        f"{dirs} direction(s))")
    unknown = [a for a in names if a not in nn_seq.ACTIVATIONS]
    if unknown:
        raise PimcError(f"activation '{unknown[0]}' is not supported; accepted: "
                        f"{', '.join(nn_seq.ACTIVATIONS)} (any case)")
    alphas = iter(node.attrs.get("activation_alpha", []))
    betas = iter(node.attrs.get("activation_beta", []))
    out_a, out_b = [], []
    for name in names:  # each function consumes the next alpha / beta only if it reads one
        takes_a, takes_b = nn_seq.ACTIVATIONS[name]
        da, db = _DEFAULTS.get(name, (0.0, 0.0))
        out_a.append(float(next(alphas, da)) if takes_a else 0.0)
        out_b.append(float(next(betas, db)) if takes_b else 0.0)
    return {"activations": names, "activation_alpha": out_a, "activation_beta": out_b}


def _batch_major(ctx: Context, v: Value, perm: list[int]) -> Value:
    return ctx.emit1(nn_shape.Transpose, [v], perm=perm)


def _operands(ctx: Context, node: Node, cls, x: Value, dirs: int, layout: int) -> list[Value]:
    """x, w, r, b, sequence_lens, initial_h (and initial_c, p for LSTM), absent ones made."""
    w, r = node.inputs[1], node.inputs[2]
    if not isinstance(w, Value) or not isinstance(r, Value) or r.type.rank != 3:
        raise PimcError("W and R must be tensors, R of shape [dirs, gates*hidden, hidden]")
    seq, batch, _ = x.type.shape
    hidden, dtype = r.type.shape[-1], x.type.np_dtype
    made = {
        3: np.zeros((dirs, 2 * cls.gates * hidden), dtype),
        4: np.full((batch,), seq, np.int32),
        5: np.zeros((dirs, batch, hidden), dtype), 6: np.zeros((dirs, batch, hidden), dtype),
        7: np.zeros((dirs, 3 * hidden), dtype),
    }
    operands = [x, w, r]
    for i in range(3, len(cls.operands_spec)):
        v = node.input(i)
        if v is None:
            v = ctx.constant(made[i])
        elif i in (5, 6) and layout:  # initial states are [batch, dirs, hidden] in layout 1
            v = _batch_major(ctx, v, [1, 0, 2])
        operands.append(v)
    return operands


def _recurrent(ctx: Context, node: Node):
    cls, defaults = _OPS[node.op_type]
    a = node.attrs
    direction = a.get("direction", "forward")
    if direction not in nn_seq.DIRECTIONS:
        raise PimcError(f"direction '{direction}' is not supported; accepted: "
                        f"{', '.join(nn_seq.DIRECTIONS)}")
    dirs = 2 if direction == "bidirectional" else 1
    layout = a.get("layout", 0)
    x = node.inputs[0]
    if not isinstance(x, Value) or x.type.rank != 3:
        raise PimcError("X must be a 3-D tensor; accepted: [seq, batch, input] (layout 0) "
                        "or [batch, seq, input] (layout 1)")
    if layout:
        x = _batch_major(ctx, x, [1, 0, 2])
    operands = _operands(ctx, node, cls, x, dirs, layout)
    hidden = operands[2].type.shape[-1]
    if a.get("hidden_size", hidden) != hidden:
        raise PimcError(f"hidden_size {a['hidden_size']} differs from R's last dimension "
                        f"{hidden}")
    extra = {"linear_before_reset": bool(a.get("linear_before_reset", 0))} \
        if cls is nn_seq.Gru else {}
    if cls is nn_seq.Lstm:
        extra = {"input_forget": bool(a.get("input_forget", 0))}
    outs = ctx.emit(cls, operands, direction=direction, clip=a.get("clip"),
                    **_activations(node, defaults, dirs), **extra)
    if layout:  # Y [seq, dirs, batch, hidden] -> [batch, seq, dirs, hidden]; states swap axes
        outs = [_batch_major(ctx, outs[0], [2, 0, 1, 3])] + \
            [_batch_major(ctx, s, [1, 0, 2]) for s in outs[1:]]
    return outs[:len(node.proto.output)]


CONVERTERS = register(dict.fromkeys(_OPS, _recurrent))
