"""The shape-manipulating ops of the `nn` dialect (data movement, no arithmetic)."""

from __future__ import annotations

import numpy as np

from ir.core import Attr, Op
from ir.dialects import register
from ir.dialects._shapes import norm_axes, norm_axis, same_dtype, slice_len
from ir.dialects.nn_index import Gather, GatherElements, GatherND  # noqa: F401  (re-exported)
from ir.errors import PimcError
from ir.types import TensorType


class _Move(Op):
    """One data operand; the result keeps its element type and precision."""

    operands_spec = ("x",)

    def out(self, shape) -> list[TensorType]:
        return [self.operands[0].type.with_shape(tuple(shape))]


@register
class Reshape(_Move):
    """Reshape to a fully resolved static shape (no 0 or -1)."""

    name = "nn.reshape"
    attrs_spec = {"shape": Attr("ints")}

    def infer_types(self):
        shape = self.attrs["shape"]
        t = self.operands[0].type
        if any(d < 0 for d in shape) or int(np.prod(shape, dtype=np.int64)) != t.size:
            raise PimcError(f"{self.name}: cannot reshape {list(t.shape)} to {list(shape)}")
        return self.out(shape)


@register
class Transpose(_Move):
    name = "nn.transpose"
    attrs_spec = {"perm": Attr("ints")}

    def infer_types(self):
        t = self.operands[0].type
        perm = self.attrs["perm"]
        if sorted(perm) != list(range(t.rank)):
            raise PimcError(f"{self.name}: perm {list(perm)} is not a permutation of "
                            f"rank {t.rank}")
        return self.out(t.shape[p] for p in perm)


@register
class Squeeze(_Move):
    name = "nn.squeeze"
    attrs_spec = {"axes": Attr("ints")}

    def infer_types(self):
        t = self.operands[0].type
        axes = norm_axes(self.name, self.attrs["axes"], t.rank)
        if any(t.shape[a] != 1 for a in axes):
            raise PimcError(f"{self.name}: axes {list(axes)} of {list(t.shape)} are not 1")
        return self.out(d for i, d in enumerate(t.shape) if i not in axes)


@register
class Unsqueeze(_Move):
    name = "nn.unsqueeze"
    attrs_spec = {"axes": Attr("ints")}

    def infer_types(self):
        t = self.operands[0].type
        rank = t.rank + len(self.attrs["axes"])
        axes = norm_axes(self.name, self.attrs["axes"], rank)
        dims = iter(t.shape)
        return self.out(1 if i in axes else next(dims) for i in range(rank))


@register
class Flatten(_Move):
    name = "nn.flatten"
    attrs_spec = {"axis": Attr("int", 1)}

    def infer_types(self):
        t = self.operands[0].type
        axis = self.attrs["axis"]
        axis = axis + t.rank if axis < 0 else axis
        if not 0 <= axis <= t.rank:
            raise PimcError(f"{self.name}: axis {self.attrs['axis']} out of range")
        return self.out((int(np.prod(t.shape[:axis])), int(np.prod(t.shape[axis:]))))


@register
class Expand(_Move):
    name = "nn.expand"
    attrs_spec = {"shape": Attr("ints")}

    def infer_types(self):
        t = self.operands[0].type
        try:
            shape = np.broadcast_shapes(t.shape, tuple(self.attrs["shape"]))
        except ValueError:
            raise PimcError(f"{self.name}: cannot expand {list(t.shape)} to "
                            f"{list(self.attrs['shape'])}") from None
        return self.out(shape)


@register
class Tile(_Move):
    name = "nn.tile"
    attrs_spec = {"repeats": Attr("ints")}

    def infer_types(self):
        t = self.operands[0].type
        reps = self.attrs["repeats"]
        if len(reps) != t.rank:
            raise PimcError(f"{self.name}: {len(reps)} repeats for rank {t.rank}")
        return self.out(d * r for d, r in zip(t.shape, reps))


@register
class Slice(_Move):
    name = "nn.slice"
    attrs_spec = {"starts": Attr("ints"), "ends": Attr("ints"), "axes": Attr("ints", None),
                  "steps": Attr("ints", None)}

    def infer_types(self):
        t = self.operands[0].type
        starts, ends = self.attrs["starts"], self.attrs["ends"]
        axes = self.attrs.get("axes") or tuple(range(len(starts)))
        steps = self.attrs.get("steps") or (1,) * len(starts)
        if not len(starts) == len(ends) == len(axes) == len(steps):
            raise PimcError(f"{self.name}: starts, ends, axes and steps differ in length")
        shape = list(t.shape)
        for s, e, a, st in zip(starts, ends, axes, steps):
            if st == 0:
                raise PimcError(f"{self.name}: step 0")
            a = norm_axis(self.name, a, t.rank)
            shape[a] = slice_len(t.shape[a], s, e, st)
        return self.out(shape)


@register
class Pad(_Move):
    name = "nn.pad"
    attrs_spec = {"pads": Attr("ints"), "mode": Attr("str", "constant",
                                                      ("constant", "reflect", "edge")),
                  "value": Attr("float", 0.0)}

    def infer_types(self):
        t = self.operands[0].type
        pads = self.attrs["pads"]
        if len(pads) != 2 * t.rank:
            raise PimcError(f"{self.name}: {len(pads)} pads for rank {t.rank}")
        return self.out(d + pads[i] + pads[i + t.rank] for i, d in enumerate(t.shape))


@register
class Concat(Op):
    name = "nn.concat"
    operands_spec = ("xs*",)
    attrs_spec = {"axis": Attr("int")}

    def infer_types(self):
        types = self.in_types
        if not types:
            raise PimcError(f"{self.name} takes at least one operand")
        dtype = same_dtype(self.name, types)
        axis = norm_axis(self.name, self.attrs["axis"], types[0].rank)
        rest = {t.shape[:axis] + t.shape[axis + 1:] for t in types}
        if len(rest) != 1 or len({t.rank for t in types}) != 1:
            shapes = ", ".join(str(list(t.shape)) for t in types)
            raise PimcError(f"{self.name}: shapes {shapes} differ off axis {axis}")
        shape = list(types[0].shape)
        shape[axis] = sum(t.shape[axis] for t in types)
        return [TensorType(tuple(shape), dtype)]


@register
class Split(Op):
    name = "nn.split"
    operands_spec = ("x",)
    attrs_spec = {"axis": Attr("int", 0), "sizes": Attr("ints")}
    num_results = None

    def infer_types(self):
        t = self.operands[0].type
        axis = norm_axis(self.name, self.attrs["axis"], t.rank)
        sizes = self.attrs["sizes"]
        if sum(sizes) != t.shape[axis] or any(s < 0 for s in sizes):
            raise PimcError(f"{self.name}: sizes {list(sizes)} do not add up to "
                            f"dimension {t.shape[axis]}")
        return [t.with_shape(t.shape[:axis] + (s,) + t.shape[axis + 1:]) for s in sizes]


@register
class TopK(Op):
    name = "nn.topk"
    operands_spec = ("x",)
    attrs_spec = {"k": Attr("int"), "axis": Attr("int", -1), "largest": Attr("bool", True),
                  "sorted": Attr("bool", True)}
    num_results = 2

    def infer_types(self):
        t = self.operands[0].type
        axis = norm_axis(self.name, self.attrs["axis"], t.rank)
        if not 0 <= self.attrs["k"] <= t.shape[axis]:
            raise PimcError(f"{self.name}: k={self.attrs['k']} exceeds {t.shape[axis]}")
        shape = t.shape[:axis] + (self.attrs["k"],) + t.shape[axis + 1:]
        return [t.with_shape(shape), TensorType(shape, "i64")]


@register
class Shape(Op):
    """The shape of a tensor as i64 (static here, so canonicalize folds it)."""

    name = "nn.shape"
    operands_spec = ("x",)
    attrs_spec = {"start": Attr("int", 0), "end": Attr("int", None)}

    def infer_types(self):
        rank = self.operands[0].type.rank
        end = self.attrs.get("end", rank)
        return [TensorType((slice_len(rank, self.attrs["start"], end, 1),), "i64")]


@register
class Size(Op):
    name = "nn.size"
    operands_spec = ("x",)

    def infer_types(self):
        return [TensorType((), "i64")]


@register
class Trilu(_Move):
    name = "nn.trilu"
    attrs_spec = {"upper": Attr("bool", True), "k": Attr("int", 0)}

    def infer_types(self):
        return self.out(self.operands[0].type.shape)
