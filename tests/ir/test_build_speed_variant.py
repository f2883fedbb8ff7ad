"""`Op.variant` builds what the full construction builds from the op's attributes and the
changes: the same attributes in the same order, the same result types and the same errors."""

from __future__ import annotations

import numpy as np
import pytest

from ir.core import Value
from ir.dialects import nn, pim
from ir.errors import PimcError
from ir.types import TensorType

X = Value(TensorType((2, 10), "f32"), name="x")


def _w(rows: int, cols: int) -> Value:
    return Value(TensorType((rows, cols), "f32"), name="w")


def _mvm(**extra) -> pim.MVM:
    return pim.MVM([X, _w(4, 3)], {
        "op": "dense0", "tile": [0, 0], "rows": [0, 4], "cols": [0, 3], "w_bits": 8,
        "a_bits": 8, "cell_bits": 2, "dac_bits": 1, "adc_bits": 8, "x_scale": 0.5,
        "w_scale": np.float64(0.25), "pim.unit": "crossbar", **extra})


def _same(a, b) -> None:
    assert type(a) is type(b)
    assert list(a.attrs) == list(b.attrs)
    assert [(k, repr(v), type(v)) for k, v in a.attrs.items()] == \
        [(k, repr(v), type(v)) for k, v in b.attrs.items()]
    assert [r.type for r in a.results] == [r.type for r in b.results]
    assert all(r.owner is a and r.index == i for i, r in enumerate(a.results))
    assert a.operands == b.operands and a.meta == {}


@pytest.mark.parametrize("changes", [
    {"tile": (1, 0), "rows": (4, 8), "cols": (0, 3)},
    {"tile": [1, 2], "rows": [np.int64(4), 8]},  # converted, as the full path would
    {"w_scale": np.float32(0.5), "pim.unit": "digital"},
    {"pim.unit": np.str_("none")},
    {},
])
def test_a_variant_is_the_full_construction(changes):
    first = _mvm()
    operands = [X, _w(4, 3)]
    _same(first.variant(operands, changes), pim.MVM(operands, {**first.attrs, **changes}))


@pytest.mark.parametrize("changes", [
    {"pim.loc": [3, 4]},  # a new extra attribute: sorted among the others
    {"pim.a": 1, "tile": (0, 1)},  # one sorted before `pim.unit`
    {"signed": None},  # back to its default
])
def test_a_new_or_dropped_key_takes_the_full_path(changes):
    first = _mvm(signed="offset")
    operands = [X, _w(4, 3)]
    want = pim.MVM(operands, {**first.attrs, **changes})
    got = first.variant(operands, changes)
    _same(got, want)
    assert list(got.attrs)[-1] in ("pim.unit", "pim.loc")


def test_an_optional_attribute_set_to_none_is_dropped():
    def gather(rows: int, **attrs) -> pim.Gather:
        table = Value(TensorType((rows, 3), "f32"))
        indices = Value(TensorType((2, 2), "i64"))
        return pim.Gather([table, indices], {"op": "emb0", "shard": 0, "rows": (0, 4),
                                             "pim.unit": "bank", **attrs})

    first = gather(5, hot=[7], turns=2)
    want = gather(4)
    got = first.variant(want.operands, {"hot": None, "turns": None})
    _same(got, want)
    assert "hot" not in got.attrs and "turns" not in got.attrs


def test_an_extra_attribute_cannot_be_dropped():
    with pytest.raises(PimcError, match="'pim.unit' of pim.mvm has an unsupported value None"):
        _mvm().variant([X, _w(4, 3)], {"pim.unit": None})


@pytest.mark.parametrize("changes, message", [
    ({"rows": (0, 4.5)}, "attribute 'rows' of pim.mvm must be ints, got \\(0, 4.5\\)"),
    ({"tile": [0, True]}, "attribute 'tile' of pim.mvm must be ints"),
    ({"w_bits": "8"}, "attribute 'w_bits' of pim.mvm must be int, got '8'"),
    ({"pim.unit": {"a": 1}}, "'pim.unit' of pim.mvm has an unsupported value"),
    ({"bogus": 1}, "pim.mvm has no attribute 'bogus'"),
    ({"rows": (8, 12)}, "pim.mvm: rows 8..12 outside input width 10"),
])
def test_a_bad_change_is_refused_as_the_full_path_refuses_it(changes, message):
    first = _mvm()
    with pytest.raises(PimcError, match=message):
        pim.MVM([X, _w(4, 3)], {**first.attrs, **changes})
    with pytest.raises(PimcError, match=message):
        first.variant([X, _w(4, 3)], changes)


def test_a_choice_outside_the_accepted_ones_is_refused():
    first = _mvm(signed="offset")
    with pytest.raises(PimcError, match="'signed' of pim.mvm is 'both'; accepted"):
        first.variant([X, _w(4, 3)], {"signed": "both"})


def test_operand_count_and_types_are_checked():
    first = _mvm()
    with pytest.raises(PimcError, match=r"pim.mvm takes 2 operand\(s\) \(x, w\), got 1"):
        first.variant([X], {})
    with pytest.raises(PimcError, match="operand element types differ"):
        first.variant([X, Value(TensorType((4, 3), "f64"))], {})


def test_a_constant_variant_types_its_own_value():
    first = nn.Constant(attrs={"value": np.zeros((2, 3), np.float32), "pim.unit": "none"})
    value = np.ones((4, 1), np.int8)
    got = first.variant([], {"value": value})
    assert got.attrs["value"] is value and got.result.type == TensorType((4, 1), "i8")
    assert list(got.attrs) == ["value", "pim.unit"] and first.result.type.shape == (2, 3)
    with pytest.raises(PimcError, match="attribute 'value' of nn.constant must be array"):
        first.variant([], {"value": [1, 2]})
