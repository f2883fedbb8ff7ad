"""The short paths of op construction give what the full conversion gives, and refuse what it
refuses with the same message: attribute values already in their normal form (or a list of
them), dialect-prefixed values, and a type made at another precision (`with_bits`)."""

from __future__ import annotations

import numpy as np
import pytest

from ir.attrs import Attr, _coerce, _extra_attr
from ir.core import Value
from ir.dialects import nn_shape, pim
from ir.errors import PimcError
from ir.types import TensorType

KINDS = ("int", "float", "bool", "str", "ints", "floats", "strs", "dtype", "array")
VALUES = [
    3, -1, 2.5, 2, True, np.int64(4), np.float32(0.5), np.bool_(True), "a", "f32", "x1",
    (), [], (1, 2), [1, 2], (1, np.int64(2)), [np.int32(1), 2], (1, True), [True],
    (0.5, 1.0), [0.5, 1.0], (1, 2.0), [1, 2.0], ("a", "b"), ["a", "b"], ("a", 1), [None],
    np.array([1, 2]), None, {"a": 1}, 1j,
]


def _full(kind: str, value):
    """What the conversion alone makes of `value` (None: refused)."""
    return _coerce(kind, value)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_normalize_is_the_conversion_or_the_same_refusal(kind, value):
    want = _full(kind, value)
    if want is None:
        with pytest.raises(PimcError, match=f"attribute 'k' of t.op must be {kind}, got "):
            Attr(kind).normalize("t.op", "k", value)
        return
    got = Attr(kind).normalize("t.op", "k", value)
    assert type(got) is type(want)
    if kind == "array":
        assert got is value
    else:
        assert got == want
    if isinstance(want, tuple):
        assert [type(x) for x in got] == [type(x) for x in want]
    if Attr(kind).keeps(value):
        assert got is value  # a kept value is not rebuilt


@pytest.mark.parametrize("value", [[1, 0], [np.int64(1), 0], (1, 0)], ids=repr)
def test_a_list_or_tuple_attribute_becomes_a_tuple_of_ints(value):
    op = nn_shape.Transpose([Value(TensorType((2, 3), "f32"))], {"perm": value})
    assert op.attrs["perm"] == (1, 0) and type(op.attrs["perm"]) is tuple
    assert [type(p) for p in op.attrs["perm"]] == [int, int]
    assert op.result.type.shape == (3, 2)


def test_choices_are_checked_on_a_value_of_the_right_type():
    x, w = Value(TensorType((1, 4), "f32")), Value(TensorType((4, 2), "f32"))
    attrs = {"op": "d", "tile": (0, 0), "rows": (0, 4), "cols": (0, 2), "w_bits": 8,
             "a_bits": 8, "cell_bits": 2, "dac_bits": 1, "adc_bits": 8, "x_scale": 0.1,
             "w_scale": 0.1}
    assert pim.MVM([x, w], attrs).attrs["signed"] == "differential"  # the default
    with pytest.raises(PimcError, match="'signed' of pim.mvm is 'both'; accepted: "
                                        "'differential', 'offset'"):
        pim.MVM([x, w], {**attrs, "signed": "both"})
    with pytest.raises(PimcError, match="attribute 'w_bits' of pim.mvm must be int, got 8.0"):
        pim.MVM([x, w], {**attrs, "w_bits": 8.0})
    with pytest.raises(PimcError, match="pim.mvm needs attribute 'x_scale'"):
        pim.MVM([x, w], {k: v for k, v in attrs.items() if k != "x_scale"})


@pytest.mark.parametrize("value", [
    1, 1.5, True, "s", (), (1, "a", 2.5, False), [1, 2], (np.int64(1), 2), np.int32(3),
    np.float64(0.5), ((1, 2), 3), [np.int64(1), [2.0]],
], ids=repr)
def test_an_extra_attribute_keeps_or_converts_as_before(value):
    want = _extra_attr("pim.transfer", "pim.x", value)
    op = pim.Transfer([Value(TensorType((4,), "f32"))],
                      {"src": 0, "dst": 1, "bytes": 4, "hops": 1, "pim.x": value})
    got = op.attrs["pim.x"]
    assert repr(got) == repr(want) and type(got) is type(want)
    plain = (int, float, bool, str)
    if type(value) in plain or (type(value) is tuple and all(type(v) in plain for v in value)):
        assert got is value  # kept, not rebuilt


@pytest.mark.parametrize("value", [np.bool_(True), None, {"a": 1}, (1, None), [[1, {}]]],
                         ids=repr)
def test_an_unsupported_extra_value_is_refused_by_the_op(value):
    with pytest.raises(PimcError, match="'pim.x' of pim.transfer has an unsupported value"):
        pim.Transfer([Value(TensorType((4,), "f32"))],
                     {"src": 0, "dst": 1, "bytes": 4, "hops": 1, "pim.x": value})


def test_with_bits_is_the_constructor_at_that_precision():
    t = TensorType((np.int64(2), 3), "i8")
    for bits in (None, 1, 8, 64):
        made = t.with_bits(bits)
        want = TensorType((2, 3), "i8", bits)
        assert made == want and hash(made) == hash(want) and str(made) == str(want)
        assert type(made.shape) is tuple and [type(d) for d in made.shape] == [int, int]
    for bits in (0, 65, -3):
        with pytest.raises(PimcError, match=f"precision must be 1..64 bits, got {bits}"):
            t.with_bits(bits)
        with pytest.raises(PimcError, match=f"precision must be 1..64 bits, got {bits}"):
            TensorType((2, 3), "i8", bits)


def test_the_constructor_still_checks_dims_and_element_types():
    assert TensorType([np.int32(2), 3.0], "f32").shape == (2, 3)
    assert TensorType((), "f32").shape == ()
    with pytest.raises(PimcError, match=r"negative dimension in shape \[2, -1\]"):
        TensorType((2, -1), "f32")
    with pytest.raises(PimcError, match="unknown element type 'f8'"):
        TensorType((2,), "f8")
