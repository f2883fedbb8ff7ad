"""The recurrent ops of the `nn` dialect: ONNX RNN, GRU and LSTM in their time-major layout.

Every operand is present (the importer materialises ONNX's absent bias, sequence lengths and
initial states as constants) and the layout is time-major (the importer transposes ONNX's
batch-major layout=1 form into this one), so the ops have one form each:

    x [seq, batch, input], w [dirs, gates*hidden, input], r [dirs, gates*hidden, hidden],
    b [dirs, 2*gates*hidden], sequence_lens [batch], initial_h [dirs, batch, hidden]
    -> y [seq, dirs, batch, hidden], y_h [dirs, batch, hidden]

Activations are lower-case ONNX names, one per function and direction (forward's first),
each with its resolved alpha and beta (0 where the function takes none).
"""

from __future__ import annotations

from ir.core import Attr, Op
from ir.dialects import register
from ir.dialects._shapes import same_dtype
from ir.errors import PimcError
from ir.types import TensorType

__all__ = ["ACTIVATIONS", "Recurrent", "Rnn", "Gru", "Lstm"]

# The activation functions ONNX's recurrent ops name, and whether each reads alpha, beta.
ACTIVATIONS = {
    "relu": (False, False), "tanh": (False, False), "sigmoid": (False, False),
    "affine": (True, True), "leakyrelu": (True, False), "thresholdedrelu": (True, False),
    "scaledtanh": (True, True), "hardsigmoid": (True, True), "elu": (True, False),
    "softsign": (False, False), "softplus": (False, False),
}
DIRECTIONS = ("forward", "reverse", "bidirectional")


class Recurrent(Op):
    """The shared operands, attributes and shape rules of the three recurrent ops."""

    gates = 1  # weight blocks per direction
    functions = 1  # activation functions per direction
    operands_spec = ("x", "w", "r", "b", "sequence_lens", "initial_h")
    attrs_spec = {
        "direction": Attr("str", "forward", DIRECTIONS),
        "activations": Attr("strs"), "activation_alpha": Attr("floats"),
        "activation_beta": Attr("floats"), "clip": Attr("float", None),
    }
    num_results = 2

    @property
    def dirs(self) -> int:
        return 2 if self.attrs["direction"] == "bidirectional" else 1

    @property
    def hidden(self) -> int:
        return self.operands[2].type.shape[-1]

    def _expect(self, i: int, shape: tuple[int, ...]) -> None:
        t = self.operands[i].type
        if t.shape != shape:
            raise PimcError(f"{self.name}: {self.operands_spec[i]} has shape {list(t.shape)}, "
                            f"expected {list(shape)}")

    def _check_activations(self) -> None:
        acts = self.attrs["activations"]
        want = self.functions * self.dirs
        if len(acts) != want or len(self.attrs["activation_alpha"]) != want or \
                len(self.attrs["activation_beta"]) != want:
            raise PimcError(f"{self.name}: {want} activations with one alpha and beta each "
                            f"expected, got {list(acts)}")
        unknown = [a for a in acts if a not in ACTIVATIONS]
        if unknown:
            raise PimcError(f"{self.name}: activation '{unknown[0]}' is not one of "
                            f"{', '.join(ACTIVATIONS)}")

    def infer_types(self):
        x = self.operands[0].type
        if x.rank != 3:
            raise PimcError(f"{self.name}: x must be [seq, batch, input], got {list(x.shape)}")
        dtype = same_dtype(self.name, [v.type for k, v in enumerate(self.operands) if k != 4])
        seq, batch, size = x.shape
        d, h, g = self.dirs, self.hidden, self.gates
        self._expect(1, (d, g * h, size))
        self._expect(2, (d, g * h, h))
        self._expect(3, (d, 2 * g * h))
        self._expect(4, (batch,))
        if self.operands[4].type.dtype not in ("i32", "i64"):
            raise PimcError(f"{self.name}: sequence_lens must be i32 or i64")
        for i in range(5, len(self.operands)):
            self._expect(i, (d, batch, h) if i < 7 else (d, 3 * h))
        self._check_activations()
        state = TensorType((d, batch, h), dtype)
        return [TensorType((seq, d, batch, h), dtype)] + [state] * (self.num_results - 1)


@register
class Rnn(Recurrent):
    """Ht = f(Xt Wi^T + Ht-1 Ri^T + Wbi + Rbi)."""

    name = "nn.rnn"


@register
class Gru(Recurrent):
    """ONNX GRU: gates z, r, h in that order; f gates, g the candidate state."""

    name = "nn.gru"
    gates = 3
    functions = 2
    attrs_spec = {**Recurrent.attrs_spec, "linear_before_reset": Attr("bool", False)}


@register
class Lstm(Recurrent):
    """ONNX LSTM: gates i, o, f, c; peepholes p [dirs, 3*hidden] (i, o, f); results y, y_h,
    y_c."""

    name = "nn.lstm"
    gates = 4
    functions = 3
    operands_spec = Recurrent.operands_spec + ("initial_c", "p")
    attrs_spec = {**Recurrent.attrs_spec, "input_forget": Attr("bool", False)}
    num_results = 3
