"""The `pim` dialect: a model lowered onto PIM hardware.

Weights are multiplied on crossbars tile by tile (`pim.mvm`), embedding tables are read in
DRAM banks shard by shard (`pim.gather`), partial results are combined by digital units
(`pim.combine`), data crosses the network (`pim.transfer`), and streamed targets load each
weight tile before use (`pim.load`). Ops that stay digital keep their `nn`/`rec` form and
carry `pim.*` placement attributes, as every op here may:

- ``pim.unit``: "crossbar", "digital" or "bank" (the unit class, from `partition`);
- ``pim.loc``: where it runs: crossbar ids (mvm), bank id (gather), chip tile (digital);
- ``pim.replicas``: copies of the weights that split the work (from `place`);
- ``pim.start`` / ``pim.end``: the cycles it occupies its resources (from `schedule`).

Numbers are fixed point: a tensor of `bits` bits with scale `s` holds round(v / s) clipped
to the signed range of `bits` bits.
"""

from __future__ import annotations

from ir.core import Attr, Op
from ir.dialects import register
from ir.dialects._shapes import broadcast, same_dtype
from ir.errors import PimcError
from ir.types import TensorType

SIGNED_SCHEMES = ("differential", "offset")
COMBINE_MODES = ("sum", "max", "concat")


@register
class MVM(Op):
    """One weight tile on crossbars: x[..., rows] @ w -> partial sums [..., cols].

    `w` is the tile ([r1 - r0, c1 - c0], float, quantised here with `w_scale`); `x` is the
    whole input, of which rows r0..r1 of the last axis feed this tile. Inputs are applied
    bit-serially `dac_bits` at a time, weights are sliced `cell_bits` per cell, every column
    sum passes an ADC of `adc_bits`, and the slices are shifted and added. The result is
    dequantised (x_scale * w_scale).

    A tile is one crossbar (`crossbar_cols` 0), or `crossbars` of them side by side that
    read the same input rows at once: `crossbar_cols` weight columns each, the last one
    the rest. Every column is worked out on its own, so a tile over several crossbars
    computes exactly what one tile per crossbar and their concatenation would. Its crossbars
    are column tiles tile[1], tile[1] + 1, ... of its op.
    """

    name = "pim.mvm"
    operands_spec = ("x", "w")
    attrs_spec = {
        "op": Attr("str"), "tile": Attr("ints"), "rows": Attr("ints"), "cols": Attr("ints"),
        "w_bits": Attr("int"), "a_bits": Attr("int"), "cell_bits": Attr("int"),
        "dac_bits": Attr("int"), "adc_bits": Attr("int"),
        "signed": Attr("str", "differential", SIGNED_SCHEMES),
        "x_scale": Attr("float"), "w_scale": Attr("float"), "crossbar_cols": Attr("int", 0),
    }

    @property
    def crossbars(self) -> int:
        """The crossbars the tile takes (per replica)."""
        c0, c1 = self.attrs["cols"]
        per = self.attrs["crossbar_cols"]
        return -(-(c1 - c0) // per) if per else 1

    def check(self) -> None:
        r0, r1 = self.attrs["rows"]
        c0, c1 = self.attrs["cols"]
        if self.attrs["crossbar_cols"] < 0:
            raise PimcError(f"{self.name}: crossbar_cols = {self.attrs['crossbar_cols']} is "
                            "negative; accepted: 0 (one crossbar) or the weight columns of "
                            "each crossbar")
        w = self.operands[1].type
        if w.shape != (r1 - r0, c1 - c0):
            raise PimcError(f"{self.name}: tile is {list(w.shape)}, rows {r0}..{r1} and "
                            f"cols {c0}..{c1} say [{r1 - r0}, {c1 - c0}]")
        for key in ("w_bits", "a_bits", "cell_bits", "dac_bits", "adc_bits"):
            if not 1 <= self.attrs[key] <= 32:
                raise PimcError(f"{self.name}: {key} = {self.attrs[key]} is not in 1..32")
        if self.attrs["x_scale"] <= 0 or self.attrs["w_scale"] <= 0:
            raise PimcError(f"{self.name}: scales must be positive")

    def infer_types(self):
        x, w = self.in_types
        r0, r1 = self.attrs["rows"]
        if not 0 <= r0 < r1 <= x.shape[-1]:
            raise PimcError(f"{self.name}: rows {r0}..{r1} outside input width {x.shape[-1]}")
        return [TensorType(x.shape[:-1] + (w.shape[1],), same_dtype(self.name, [x, w]))]


@register
class Gather(Op):
    """One row shard of an embedding table in a DRAM bank.

    `table` holds rows r0..r1 of the full table. Indices outside the shard contribute
    nothing (zeros for sum and lookups, -inf for max), so `pim.combine` of every shard gives
    the whole embedding bag; "mean" shards return sums, divided by the bag size on combine.

    Hot-row replication: `hot` lists rows (ids of the full table, sorted) that every one of
    the bag's `turns` shards also holds, after its own rows. A lookup of a hot row at flat
    position p of `indices` is served by shard p mod `turns` alone, so the hot rows' lookups
    spread over every bank; the shard's own range serves the rest.
    """

    name = "pim.gather"
    operands_spec = ("table", "indices", "offsets?")
    attrs_spec = {"op": Attr("str"), "shard": Attr("int"), "rows": Attr("ints"),
                  "mode": Attr("str", "sum", ("sum", "mean", "max", "none")),
                  "hot": Attr("ints", None), "turns": Attr("int", None)}

    def infer_types(self):
        from ir.dialects.rec import EmbeddingBag

        r0, r1 = self.attrs["rows"]
        hot = self.attrs.get("hot") or ()
        if self.operands[0].type.shape[0] != r1 - r0 + len(hot):
            raise PimcError(f"{self.name}: shard has {self.operands[0].type.shape[0]} rows, "
                            f"rows {r0}..{r1} and {len(hot)} hot rows say {r1 - r0 + len(hot)}")
        if hot and not (self.attrs.get("turns") or 0) > self.attrs["shard"] >= 0:
            raise PimcError(f"{self.name}: shard {self.attrs['shard']} holds hot rows but "
                            f"turns is {self.attrs.get('turns')}; accepted: turns > shard >= 0")
        if list(hot) != sorted(set(hot)):
            raise PimcError(f"{self.name}: hot rows must be sorted and distinct")
        # the bag's rule on the shard's own operands and mode (the same spec): its errors
        # name the shard, and no bag is built for it (one per shard, 208 a candidate)
        return EmbeddingBag.infer_types(self)


@register
class Combine(Op):
    """Partial results joined by a digital unit: summed, maxed, or concatenated on the last
    axis; `scale` multiplies the result (1 / bag size for mean embedding bags)."""

    name = "pim.combine"
    operands_spec = ("parts*",)
    attrs_spec = {"op": Attr("str"), "mode": Attr("str", "sum", COMBINE_MODES),
                  "scale": Attr("float", 1.0)}

    def infer_types(self):
        types = self.in_types
        if not types:
            raise PimcError(f"{self.name} takes at least one part")
        dtype = same_dtype(self.name, types)
        if self.attrs["mode"] != "concat":
            return [TensorType(broadcast(self.name, types), dtype)]
        if len({t.shape[:-1] for t in types}) != 1:
            raise PimcError(f"{self.name}: parts differ off the last axis")
        return [TensorType(types[0].shape[:-1] + (sum(t.shape[-1] for t in types),), dtype)]


@register
class Transfer(Op):
    """A network transfer of x between two chip tiles (identity on the data)."""

    name = "pim.transfer"
    operands_spec = ("x",)
    attrs_spec = {"src": Attr("int"), "dst": Attr("int"), "bytes": Attr("int"),
                  "hops": Attr("int")}

    def infer_types(self):
        return [self.operands[0].type]


@register
class Load(Op):
    """A weight tile streamed from off-chip DRAM into its crossbar (identity on the data)."""

    name = "pim.load"
    operands_spec = ("w",)
    attrs_spec = {"op": Attr("str"), "bytes": Attr("int")}

    def infer_types(self):
        return [self.operands[0].type]
