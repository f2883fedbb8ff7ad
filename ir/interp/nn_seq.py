"""Reference semantics of the recurrent `nn` ops (ONNX RNN, GRU, LSTM), one time step at a
time, in the operand element type.

Each batch entry runs over its own `sequence_lens[b]` steps (the reverse direction from its
own last step back to 0); outputs past a sequence's end are zero and the final states are
those of its last step, as in ONNX Runtime; a sequence of length 0 has zero final states
(ONNX Runtime's, not the initial state it never stepped from).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ir.dialects import nn_seq
from ir.interp import semantics


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)


# name -> f(x, alpha, beta); alpha and beta already in x's element type
_FUNCTIONS = {
    "relu": lambda x, a, b: np.maximum(x, x.dtype.type(0)),
    "tanh": lambda x, a, b: np.tanh(x),
    "sigmoid": lambda x, a, b: _sigmoid(x),
    "affine": lambda x, a, b: a * x + b,
    "leakyrelu": lambda x, a, b: np.where(x < 0, a * x, x),
    "thresholdedrelu": lambda x, a, b: np.where(x > a, x, x.dtype.type(0)),
    "scaledtanh": lambda x, a, b: a * np.tanh(b * x),
    "hardsigmoid": lambda x, a, b: np.clip(a * x + b, x.dtype.type(0), x.dtype.type(1)),
    "elu": lambda x, a, b: np.where(x < 0, a * np.expm1(x), x),
    "softsign": lambda x, a, b: x / (x.dtype.type(1) + np.abs(x)),
    "softplus": lambda x, a, b: np.logaddexp(x.dtype.type(0), x),
}

Fn = Callable[[np.ndarray], np.ndarray]


def _functions(op, d: int, dtype) -> list[Fn]:
    """The activation functions of direction `d`, each clipping its input when op says so;
    LSTM's h (of the cell state) is not clipped, as in ONNX Runtime (clip bounds gate inputs)."""
    n, t, clip = op.functions, np.dtype(dtype).type, op.attrs.get("clip")
    out = []
    for k in range(d * n, d * n + n):
        fn = _FUNCTIONS[op.attrs["activations"][k]]
        a, b = t(op.attrs["activation_alpha"][k]), t(op.attrs["activation_beta"][k])
        if clip is None or (isinstance(op, nn_seq.Lstm) and k == d * n + 2):
            out.append(lambda x, fn=fn, a=a, b=b: fn(x, a, b))
        else:
            out.append(lambda x, fn=fn, a=a, b=b, c=t(clip): fn(np.clip(x, -c, c), a, b))
    return out


def _rnn_step(op, w, r, b, acts, _p):
    (f,) = acts
    wb, rb = np.split(b, 2)

    def step(x, state):
        return (f(x @ w.T + state[0] @ r.T + wb + rb),)
    return step


def _gru_step(op, w, r, b, acts, _p):
    f, g = acts
    h_size = r.shape[-1]
    wb, rb = np.split(b, 2)
    r_zr, r_h = r[:2 * h_size], r[2 * h_size:]
    before = op.attrs["linear_before_reset"]

    def step(x, state):
        (h,) = state
        gx = x @ w.T + wb
        zr = f(gx[:, :2 * h_size] + h @ r_zr.T + rb[:2 * h_size])
        z, reset = zr[:, :h_size], zr[:, h_size:]
        if before:
            cand = g(gx[:, 2 * h_size:] + reset * (h @ r_h.T + rb[2 * h_size:]))
        else:
            cand = g(gx[:, 2 * h_size:] + (reset * h) @ r_h.T + rb[2 * h_size:])
        return ((1 - z) * cand + z * h,)
    return step


def _lstm_step(op, w, r, b, acts, p):
    f, g, h_act = acts
    wb, rb = np.split(b, 2)
    p_i, p_o, p_f = np.split(p, 3)
    coupled = op.attrs["input_forget"]

    def step(x, state):
        h, c = state
        gi, go, gf, gc = np.split(x @ w.T + h @ r.T + wb + rb, 4, axis=1)
        i = f(gi + p_i * c)
        forget = 1 - i if coupled else f(gf + p_f * c)
        c = forget * c + i * g(gc)
        o = f(go + p_o * c)
        return o * h_act(c), c
    return step


def _direction(step, x, lens, state, reverse: bool):
    """Run one direction; y [seq, batch, hidden] and the final states."""
    seq, batch = x.shape[:2]
    rows = np.arange(batch)
    y = np.zeros((seq, batch, state[0].shape[-1]), x.dtype)
    for t in range(seq):
        active = t < lens
        pos = np.where(active, lens - 1 - t if reverse else t, 0)
        new = step(x[pos, rows], state)
        state = tuple(np.where(active[:, None], n, s) for n, s in zip(new, state))
        y[pos[active], rows[active]] = new[0][active]
    return y, state


_STEPS = {nn_seq.Rnn: _rnn_step, nn_seq.Gru: _gru_step, nn_seq.Lstm: _lstm_step}


@semantics(*_STEPS)
def _recurrent(op, x, w, r, b, lens, h0, c0=None, p=None):
    lens = lens.astype(np.int64)
    ys, finals = [], []
    for d in range(op.dirs):
        reverse = op.attrs["direction"] == "reverse" or d == 1
        step = _STEPS[type(op)](op, w[d], r[d], b[d], _functions(op, d, x.dtype),
                                None if p is None else p[d])
        state = (h0[d],) if c0 is None else (h0[d], c0[d])
        y, final = _direction(step, x, lens, state, reverse)
        final = tuple(np.where((lens > 0)[:, None], f, 0).astype(f.dtype) for f in final)
        ys.append(y)
        finals.append(final)
    y = np.stack(ys, axis=1)
    return [y] + [np.stack([f[k] for f in finals]) for k in range(len(finals[0]))]
