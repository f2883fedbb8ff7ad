"""The text form: canonical print/parse round trips, located errors, no crash on junk."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ir.core import Graph, Module, Value
from ir.dialects import lookup
from ir.equal import structurally_equal
from ir.errors import PimcError
from ir.text import parse, print_module, print_module_with_weights
from ir.types import TensorType

CANONICAL = """\
module @m attributes {producer = "test", version = 3} {
  graph @main(%x: tensor<4x3xf32>, %ids: tensor<4x2xi64>) -> (y: tensor<4x5xf32>, "z.1": tensor<4x2xf32, bits=8>) {
    %w = nn.constant {value = dense<3x5xf32, [0.5, -1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 1.0e-05, 1.5e+20, nan, inf, -inf]>} : tensor<3x5xf32>
    %0 = nn.matmul(%x, %w) : tensor<4x5xf32>
    %1 = nn.relu(%0) : tensor<4x5xf32>
    %2, %3 = nn.split(%1) {axis = 1, sizes = [2, 3]} : tensor<4x2xf32, bits=8>, tensor<4x3xf32>
    %4 = nn.leaky_relu(%1) {alpha = 0.2} : tensor<4x5xf32>
    %s = nn.constant {value = dense<i64, [7]>} : tensor<i64>
    return %4, %2
  }
}
"""


def test_canonical_text_round_trips_exactly():
    assert print_module(parse(CANONICAL)) == CANONICAL


def test_parse_of_print_is_structurally_equal():
    m = parse(CANONICAL)
    text, weights = print_module_with_weights(m, inline_limit=4)
    assert "@w" in text and set(weights) == {"w"}
    again = parse(text, weights)
    assert structurally_equal(m, again)
    assert print_module(again) == CANONICAL


def test_structural_equality_sees_a_changed_attribute():
    m, n = parse(CANONICAL), parse(CANONICAL.replace("alpha = 0.2", "alpha = 0.3"))
    assert not structurally_equal(m, n)


def test_precision_bits_round_trip():
    m = parse(CANONICAL)
    split = m.main.ops[3]
    assert split.results[0].type == TensorType((4, 2), "f32", 8)


def test_defaults_are_not_printed_and_named_values_are_kept():
    text = CANONICAL.replace("nn.relu(%0)", "nn.relu(%0) {}")
    m = parse(text.replace("{alpha = 0.2}", "{alpha = 0.01}"))
    out = print_module(m)
    assert "nn.leaky_relu(%1) :" in out
    assert "%ids: tensor<4x2xi64>" in out


def test_float32_values_survive_the_round_trip_bit_exactly():
    rng = np.random.default_rng(0)
    values = (rng.standard_normal(64) * 10.0 ** rng.integers(-30, 30, 64)).astype(np.float32)
    arg = Value(TensorType((64,), "f32"), name="x")
    const = lookup("nn.constant")([], {"value": values})
    add = lookup("nn.add")([arg, const.result])
    m = Module("m", [Graph("main", [arg], [const, add], [add.result], ["y"])])
    text = print_module(m, inline_limit=1000)
    back = parse(text).main.ops[0].attrs["value"]
    assert back.dtype == np.float32 and np.array_equal(back.view(np.int32), values.view(np.int32))


@pytest.mark.parametrize("text, where, what", [
    ("module @m {", "t.pir:1:11", "expected 'graph', '}'; got end of input"),
    ("module @m { graph @g() -> () { %0 = nn.nope() : tensor<f32>\n return } }",
     "t.pir:1:37", "unknown op 'nn.nope'"),
    ("module @m {\n graph @g() -> () {\n  return %x\n } }", "t.pir:3:10",
     "use of undefined value %x"),
    ("module @m { graph @g(%a: tensor<2xq7>) -> () { return } }", "t.pir:1:33",
     "unknown element type 'q7'"),
    ("module @m { graph @g(%a: tensor<2xf32>) -> () {\n %0 = nn.relu(%a) {beta = 1} "
     ": tensor<2xf32>\n return } }", "t.pir:2:7", "nn.relu has no attribute 'beta'"),
    ("module @m { graph @g() -> () {\n %0 = nn.constant {value = @w} : tensor<2xf32>\n"
     " return } }", "t.pir:2:28", "unknown weight @w: no weights sidecar was given"),
    ("module @m { graph @g(%a: tensor<2xf32>) -> (y: tensor<3xf32>) {\n return %a } }",
     "t.pir:2:9", "output y is declared tensor<3xf32> but returns tensor<2xf32>"),
])
def test_errors_name_file_line_column_and_what_was_expected(text, where, what):
    with pytest.raises(PimcError) as exc:
        parse(text, file="t.pir")
    assert exc.value.where == where
    assert what in exc.value.message
    assert "\n" not in str(exc.value)


ALPHABET = st.sampled_from(list("module@graph{}()%:,=->tensor<>x0123456789f.i64[]\"dense "
                                "nn.relu return bits -e\n\t") + ["nn.add", "tensor<4xf32>",
                                                                 "%0", "@m", "dense<2xf32, ["])


@settings(max_examples=300, deadline=None)
@given(st.lists(ALPHABET, max_size=60).map("".join))
def test_junk_gives_only_parse_errors(junk):
    try:
        parse(junk, file="junk.pir")
    except PimcError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(CANONICAL) - 1), st.text(max_size=8))
def test_mutated_canonical_text_gives_only_parse_errors(pos, insert):
    try:
        parse(CANONICAL[:pos] + insert + CANONICAL[pos + 1:], file="mut.pir")
    except PimcError:
        pass


def test_dialect_prefixed_attributes_ride_on_any_op():
    text = CANONICAL.replace(
        "%1 = nn.relu(%0) : tensor<4x5xf32>",
        '%1 = nn.relu(%0) {pim.start = 3, pim.tile = [1, 2], pim.unit = "digital"} : tensor<4x5xf32>')
    m = parse(text)
    assert m.main.ops[2].attrs["pim.tile"] == (1, 2)
    assert print_module(m) == text
    with pytest.raises(PimcError, match="nn.relu has no attribute 'start'"):
        parse(text.replace("pim.start", "start"))


def test_unnamed_large_constants_get_symbol_names_in_the_sidecar():
    x = Value(TensorType((20,), "f32"), name="x")
    consts = [lookup("nn.constant")([], {"value": np.full(20, float(i), np.float32)})
              for i in range(2)]
    add = lookup("nn.add")([consts[0].result, consts[1].result])
    m = Module("m", [Graph("main", [x], [*consts, add], [add.result], ["y"])])
    text, weights = print_module_with_weights(m)
    assert "%0 = nn.constant {value = @c0}" in text and set(weights) == {"c0", "c1"}
    assert structurally_equal(parse(text, weights), m)


@settings(max_examples=300, deadline=None)
@given(st.text() | st.integers() | st.booleans() | st.just(np.int64(-3)) | st.just(np.bool_(1)))
def test_a_printed_scalar_is_what_json_and_int_write(x):
    """The printer's exact-type shortcuts for str and int write what its general path does."""
    import json

    from ir.text.printer import _scalar

    if isinstance(x, (bool, np.bool_)):
        want = "true" if x else "false"
    elif isinstance(x, (int, np.integer)):
        want = str(int(x))
    else:
        want = json.dumps(x)
    assert _scalar(x) == want
