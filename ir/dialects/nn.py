"""The `nn` dialect: the generic tensor ops the ONNX importer produces.

Ops mirror ONNX operators, with two differences: shape-like inputs that ONNX passes as
tensors (Reshape's shape, Slice's starts, Unsqueeze's axes, ...) are attributes here, because
the importer folds shape sub-graphs; and every shape is static.
"""

from __future__ import annotations

from ir.core import Attr, Op
from ir.dialects import register
from ir.dialects._shapes import (
    broadcast,
    einsum_shape,
    norm_axes,
    norm_axis,
    same_dtype,
)
from ir.errors import PimcError
from ir.types import TensorType

FLOATS = ("f16", "f32", "f64")


# ---------------------------------------------------------------------------------------
# Families
# ---------------------------------------------------------------------------------------
class Unary(Op):
    """One operand; the result has its type."""

    operands_spec = ("x",)

    def infer_types(self):
        return [self.operands[0].type.with_bits(None)]


class PassThrough(Unary):
    """One operand returned unchanged (at inference): the result keeps its precision."""

    def infer_types(self):
        return [self.operands[0].type]


class Binary(Op):
    """Two operands of one element type, broadcast."""

    operands_spec = ("a", "b")

    def infer_types(self):
        dtype = same_dtype(self.name, self.in_types)
        return [TensorType(broadcast(self.name, self.in_types), dtype)]


class Compare(Binary):
    def infer_types(self):
        return [TensorType(broadcast(self.name, self.in_types), "bool")]


class Variadic(Op):
    """One or more operands of one element type, broadcast (ONNX Sum, Max, Min, Mean)."""

    operands_spec = ("xs*",)

    def _check_operand_count(self):
        super()._check_operand_count()
        if not self.operands:
            raise PimcError(f"{self.name} takes at least one operand")

    def infer_types(self):
        dtype = same_dtype(self.name, self.in_types)
        return [TensorType(broadcast(self.name, self.in_types), dtype)]


class Reduce(Op):
    """A reduction over `axes` (all axes when absent)."""

    operands_spec = ("x",)
    attrs_spec = {"axes": Attr("ints", None), "keepdims": Attr("bool", True)}

    def reduced_axes(self) -> tuple[int, ...]:
        rank = self.operands[0].type.rank
        axes = self.attrs.get("axes")
        return tuple(range(rank)) if axes is None else norm_axes(self.name, axes, rank)

    def infer_types(self):
        t = self.operands[0].type
        axes = self.reduced_axes()
        keep = self.attrs["keepdims"]
        shape = [1 if i in axes else d for i, d in enumerate(t.shape) if keep or i not in axes]
        return [TensorType(tuple(shape), t.dtype)]


def _unary(name: str, base: type[Op] = Unary, **attrs: Attr) -> type[Op]:
    cls = type(name.title().replace("_", ""), (base,),
               {"name": f"nn.{name}", "attrs_spec": attrs, "__module__": __name__})
    return register(cls)


def _family(base: type[Op], name: str) -> type[Op]:
    cls = type(name.title().replace("_", ""), (base,), {"name": f"nn.{name}",
                                                      "__module__": __name__})
    return register(cls)


# Elementwise ops whose whole declaration is their name (and attributes).
for _name in ("relu", "sigmoid", "tanh", "exp", "log", "sqrt", "neg", "abs", "erf",
              "reciprocal", "floor", "ceil", "sign", "softplus", "softsign", "not", "sin", "cos",
              "round", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
              "hard_swish", "mish", "bitwise_not"):
    globals()[_name.title().replace("_", "")] = _unary(_name)
LeakyRelu = _unary("leaky_relu", alpha=Attr("float", 0.01))
Elu = _unary("elu", alpha=Attr("float", 1.0))
Selu = _unary("selu", alpha=Attr("float", 1.67326319217681884765625),
              gamma=Attr("float", 1.05070102214813232421875))
HardSigmoid = _unary("hard_sigmoid", alpha=Attr("float", 0.2), beta=Attr("float", 0.5))
Gelu = _unary("gelu", approximate=Attr("str", "none", ("none", "tanh")))
Celu = _unary("celu", alpha=Attr("float", 1.0))
ThresholdedRelu = _unary("thresholded_relu", alpha=Attr("float", 1.0))
Shrink = _unary("shrink", bias=Attr("float", 0.0), lambd=Attr("float", 0.5))
Clip = _unary("clip", min=Attr("float", None), max=Attr("float", None))
Identity = _unary("identity", PassThrough)
Dropout = _unary("dropout", PassThrough, ratio=Attr("float", 0.5))
Softmax = _unary("softmax", axis=Attr("int", -1))
LogSoftmax = _unary("log_softmax", axis=Attr("int", -1))
CumSum = _unary("cumsum", axis=Attr("int"), exclusive=Attr("bool", False),
                reverse=Attr("bool", False))

for _name in ("add", "sub", "mul", "div", "pow", "mod", "fmod", "and", "or", "xor", "prelu",
              "bitshift", "bitshift_right", "bitwise_and", "bitwise_or", "bitwise_xor"):
    globals()[_name.title().replace("_", "")] = _family(Binary, _name)
for _name in ("equal", "less", "greater", "less_or_equal", "greater_or_equal"):
    globals()[_name.title().replace("_", "")] = _family(Compare, _name)
for _name in ("sum", "max", "min", "mean"):
    globals()[_name.title()] = _family(Variadic, _name)
for _name in ("reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod",
              "reduce_l1", "reduce_l2", "reduce_sum_square", "reduce_log_sum_exp"):
    globals()[_name.title().replace("_", "")] = _family(Reduce, _name)


class Predicate(Unary):
    """An elementwise test: a bool tensor of the operand's shape."""

    def infer_types(self):
        return [TensorType(self.operands[0].type.shape, "bool")]


IsNan = _family(Predicate, "isnan")
IsInf = _unary("isinf", Predicate, detect_negative=Attr("bool", True),
               detect_positive=Attr("bool", True))


# ---------------------------------------------------------------------------------------
# Ops with their own type rules
# ---------------------------------------------------------------------------------------
@register
class Constant(Op):
    """A literal tensor (inline when small, in the weights sidecar otherwise)."""

    name = "nn.constant"
    attrs_spec = {"value": Attr("array")}

    def infer_types(self):
        return [TensorType.of(self.attrs["value"])]


@register
class Cast(Op):
    name = "nn.cast"
    operands_spec = ("x",)
    attrs_spec = {"to": Attr("dtype")}

    def infer_types(self):
        return [TensorType(self.operands[0].type.shape, self.attrs["to"])]


@register
class Where(Op):
    name = "nn.where"
    operands_spec = ("cond", "a", "b")

    def infer_types(self):
        dtype = same_dtype(self.name, self.in_types[1:])
        return [TensorType(broadcast(self.name, self.in_types), dtype)]


@register
class MatMul(Op):
    """numpy.matmul semantics (batched, 1-D operands promoted)."""

    name = "nn.matmul"
    operands_spec = ("a", "b")

    def infer_types(self):
        a, b = self.in_types
        dtype = same_dtype(self.name, self.in_types)
        if a.rank == 0 or b.rank == 0:
            raise PimcError(f"{self.name}: operands must have rank >= 1")
        sa = a.shape if a.rank > 1 else (1,) + a.shape
        sb = b.shape if b.rank > 1 else b.shape + (1,)
        if sa[-1] != sb[-2]:
            raise PimcError(f"{self.name}: inner dimensions differ ({list(a.shape)} @ "
                            f"{list(b.shape)})")
        batch = broadcast(self.name, [TensorType(sa[:-2], dtype), TensorType(sb[:-2], dtype)])
        shape = batch + sa[-2:-1] * (a.rank > 1) + sb[-1:] * (b.rank > 1)
        return [TensorType(shape, dtype)]


@register
class Gemm(Op):
    """alpha * op(a) @ op(b) + beta * c, with a and b 2-D."""

    name = "nn.gemm"
    operands_spec = ("a", "b", "c?")
    attrs_spec = {"alpha": Attr("float", 1.0), "beta": Attr("float", 1.0),
                  "trans_a": Attr("bool", False), "trans_b": Attr("bool", False)}

    def infer_types(self):
        a, b = self.in_types[:2]
        if a.rank != 2 or b.rank != 2:
            raise PimcError(f"{self.name}: a and b must be 2-D, got ranks {a.rank}, {b.rank}")
        m, k = a.shape[::-1] if self.attrs["trans_a"] else a.shape
        k2, n = b.shape[::-1] if self.attrs["trans_b"] else b.shape
        if k != k2:
            raise PimcError(f"{self.name}: inner dimensions differ ({k} and {k2})")
        out = TensorType((m, n), same_dtype(self.name, self.in_types))
        if len(self.operands) == 3:
            broadcast(self.name, [out, self.in_types[2]])
        return [out]


@register
class Einsum(Op):
    name = "nn.einsum"
    operands_spec = ("xs*",)
    attrs_spec = {"equation": Attr("str")}

    def infer_types(self):
        dtype = same_dtype(self.name, self.in_types)
        return [TensorType(einsum_shape(self.name, self.attrs["equation"], self.in_types),
                           dtype)]


@register
class ArgMax(Op):
    name = "nn.argmax"
    operands_spec = ("x",)
    attrs_spec = {"axis": Attr("int", 0), "keepdims": Attr("bool", True),
                  "select_last_index": Attr("bool", False)}

    def infer_types(self):
        t = self.operands[0].type
        axis = norm_axis(self.name, self.attrs["axis"], t.rank)
        keep = self.attrs["keepdims"]
        shape = [1 if i == axis else d for i, d in enumerate(t.shape) if keep or i != axis]
        return [TensorType(tuple(shape), "i64")]


@register
class ArgMin(ArgMax):
    name = "nn.argmin"


@register
class LayerNorm(Op):
    """Normalise over the axes from `axis` on, then scale and shift."""

    name = "nn.layer_norm"
    operands_spec = ("x", "scale", "bias?")
    attrs_spec = {"axis": Attr("int", -1), "epsilon": Attr("float", 1e-5)}

    def infer_types(self):
        t = self.operands[0].type
        norm_axis(self.name, self.attrs["axis"], t.rank)
        return [t.with_bits(None)]


@register
class BatchNorm(Op):
    """Inference-mode batch normalisation over axis 1."""

    name = "nn.batch_norm"
    operands_spec = ("x", "scale", "bias", "mean", "var")
    attrs_spec = {"epsilon": Attr("float", 1e-5)}

    def infer_types(self):
        return [self.operands[0].type.with_bits(None)]


# The shape-manipulating, indexing and recurrent ops of the dialect live beside this file.
from ir.dialects import nn_seq as _nn_seq  # noqa: E402,F401
from ir.dialects import nn_shape as _nn_shape  # noqa: E402,F401
