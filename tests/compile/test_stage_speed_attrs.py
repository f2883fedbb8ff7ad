"""Op attributes take a short path when they are already what normalisation makes of them; the
result is the same as the full conversion and bad values are refused as before."""

import numpy as np
import pytest

from ir.attrs import Attr, _coerce, _extra_attr
from ir.dialects import pim
from ir.errors import PimcError
from ir.types import TensorType

X = TensorType((4,), "f32")


def _transfer(**extra):
    from ir.core import Value

    attrs = {"src": 0, "dst": 1, "bytes": 16, "hops": 1, **extra}
    return pim.Transfer([Value(X, name="x")], attrs)


@pytest.mark.parametrize("kind, value", [
    ("int", 3), ("float", 2.5), ("bool", True), ("str", "a"), ("ints", (1, 2)),
    ("floats", (0.5, 1.0)), ("strs", ("a", "b")), ("ints", ()),
])
def test_a_kept_value_is_what_the_conversion_makes(kind, value):
    assert Attr(kind).keeps(value)
    out = _coerce(kind, value)
    assert out == value and type(out) is type(value)


@pytest.mark.parametrize("kind, value", [
    ("int", np.int64(3)), ("int", True), ("float", 2), ("float", np.float64(2.5)),
    ("ints", [1, 2]), ("ints", (1, np.int64(2))), ("ints", (1, True)), ("floats", (1, 2.0)),
    ("strs", ("a", 1)), ("dtype", "f32"), ("array", np.zeros(2)),
])
def test_a_near_miss_is_converted_or_refused_by_the_full_path(kind, value):
    assert not Attr(kind).keeps(value)


def test_numpy_and_list_values_are_still_converted():
    t = _transfer(**{"pim.start": np.int64(5), "pim.links": ["a", "b"],
                     "pim.link_bytes": (np.int64(3), 4)})
    assert t.attrs["bytes"] == 16 and type(t.attrs["bytes"]) is int
    assert type(t.attrs["pim.start"]) is int and t.attrs["pim.start"] == 5
    assert t.attrs["pim.links"] == ("a", "b")
    assert [type(b) for b in t.attrs["pim.link_bytes"]] == [int, int]
    m = pim.Transfer(t.operands, {"src": np.int32(0), "dst": 1, "bytes": 2, "hops": 1})
    assert type(m.attrs["src"]) is int


@pytest.mark.parametrize("value", [True, "16", 16.0, (16,)])
def test_a_declared_attribute_of_the_wrong_kind_is_refused(value):
    with pytest.raises(PimcError, match="attribute 'bytes' of pim.transfer must be int"):
        _transfer(bytes=value)


@pytest.mark.parametrize("value", [None, {"a": 1}, (1, None), ((1, None),)])
def test_an_unsupported_extra_value_is_refused(value):
    with pytest.raises(PimcError, match="'pim.start' of pim.transfer has an unsupported value"):
        _extra_attr("pim.transfer", "pim.start", value)


def test_extra_attributes_follow_the_declared_ones_sorted():
    t = _transfer(**{"pim.z": 1, "pim.a": (1, "x", 2.0, False)})
    assert list(t.attrs) == ["src", "dst", "bytes", "hops", "pim.a", "pim.z"]
    assert t.attrs["pim.a"] == (1, "x", 2.0, False)


def test_an_unknown_plain_attribute_is_named_before_anything_else():
    with pytest.raises(PimcError, match="pim.transfer has no attribute 'b'; accepted: src"):
        _transfer(**{"pim.a": 1, "b": 2, "a.b": None})


def test_the_report_dict_is_what_asdict_makes_and_its_own_copy():
    from dataclasses import asdict

    from compiler.mapped_report import MappedReport

    rep = MappedReport("t", 8, 10, 1e-8, 5, 2.0, 16.0, {"adc": 1.5}, {"0:a": {"adc": 1.5}},
                       1.5, {"chip_mm2": 2.0, "by_component": {"pe.adc": 0.5}}, 1, 4, [1, 0],
                       0, 0, critical_path=["0:a"], bound={"latency": 3})
    data = rep.to_dict()
    assert data == {**asdict(rep), "units": data["units"]}
    assert list(data) == [*asdict(rep), "units"]
    data["energy_by_op"]["0:a"]["adc"] = 0.0
    data["area"]["by_component"]["pe.adc"] = 0.0
    data["critical_path"].append("1:b")
    assert rep.energy_by_op["0:a"]["adc"] == 1.5 and rep.area["by_component"]["pe.adc"] == 0.5
    assert rep.critical_path == ["0:a"]


def test_a_fact_written_twice_is_checked_each_time():
    from ir.dialects.pim_attrs import START, UNIT

    t = _transfer()
    START.set(t, np.int64(7))
    assert type(t.attrs["pim.start"]) is int
    UNIT.set(t, "digital")
    with pytest.raises(PimcError, match="'pim.unit' of pim.transfer is 'dram'; accepted"):
        UNIT.set(t, "dram")
    with pytest.raises(PimcError, match="'pim.start' of pim.transfer must be int"):
        START.set(t, 1.5)
