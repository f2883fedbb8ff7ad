"""The indexing ops of the `nn` dialect: gathers and scatters (data movement by index)."""

from __future__ import annotations

from ir.core import Attr, Op
from ir.dialects import register
from ir.dialects._shapes import norm_axis, same_dtype
from ir.errors import PimcError

__all__ = ["Gather", "GatherElements", "GatherND", "ScatterElements", "ScatterND"]

REDUCTIONS = ("none", "add", "mul", "max", "min")


@register
class Gather(Op):
    name = "nn.gather"
    operands_spec = ("x", "indices")
    attrs_spec = {"axis": Attr("int", 0)}

    def infer_types(self):
        x, idx = self.in_types
        axis = norm_axis(self.name, self.attrs["axis"], x.rank)
        return [x.with_shape(x.shape[:axis] + idx.shape + x.shape[axis + 1:])]


@register
class GatherElements(Op):
    name = "nn.gather_elements"
    operands_spec = ("x", "indices")
    attrs_spec = {"axis": Attr("int", 0)}

    def infer_types(self):
        x, idx = self.in_types
        norm_axis(self.name, self.attrs["axis"], x.rank)
        if idx.rank != x.rank:
            raise PimcError(f"{self.name}: indices rank {idx.rank} differs from {x.rank}")
        return [x.with_shape(idx.shape)]


@register
class GatherND(Op):
    name = "nn.gather_nd"
    operands_spec = ("x", "indices")
    attrs_spec = {"batch_dims": Attr("int", 0)}

    def infer_types(self):
        x, idx = self.in_types
        b = self.attrs["batch_dims"]
        if idx.rank < 1 or b + idx.shape[-1] > x.rank:
            raise PimcError(f"{self.name}: indices {list(idx.shape)} do not index "
                            f"{list(x.shape)}")
        return [x.with_shape(idx.shape[:-1] + x.shape[b + idx.shape[-1]:])]


class _Scatter(Op):
    """A copy of `x` with the elements `indices` selects replaced by (or combined with, by
    `reduction`) `updates`."""

    operands_spec = ("x", "indices", "updates")

    def _check(self, x, idx, upd) -> None:
        same_dtype(self.name, [x, upd])
        if idx.dtype not in ("i32", "i64"):
            raise PimcError(f"{self.name}: indices must be i32 or i64, got {idx.dtype}")


@register
class ScatterElements(_Scatter):
    name = "nn.scatter_elements"
    attrs_spec = {"axis": Attr("int", 0), "reduction": Attr("str", "none", REDUCTIONS)}

    def infer_types(self):
        x, idx, upd = self.in_types
        self._check(x, idx, upd)
        norm_axis(self.name, self.attrs["axis"], x.rank)
        if idx.shape != upd.shape or idx.rank != x.rank:
            raise PimcError(f"{self.name}: indices {list(idx.shape)} and updates "
                            f"{list(upd.shape)} must have one shape of rank {x.rank}")
        return [x.with_bits(None)]


@register
class ScatterND(_Scatter):
    name = "nn.scatter_nd"
    attrs_spec = {"reduction": Attr("str", "none", REDUCTIONS)}

    def infer_types(self):
        x, idx, upd = self.in_types
        self._check(x, idx, upd)
        k = idx.shape[-1] if idx.rank else 0
        want = idx.shape[:-1] + x.shape[k:]
        if idx.rank < 1 or k > x.rank or upd.shape != want:
            raise PimcError(f"{self.name}: indices {list(idx.shape)} and updates "
                            f"{list(upd.shape)} do not scatter into {list(x.shape)} (updates "
                            "must be indices.shape[:-1] + x.shape[indices.shape[-1]:])")
        return [x.with_bits(None)]
