"""`json_text` (schedule.json, report.json): the values `json.dumps` writes, with sorted keys,
each top-level entry and each item of a top-level list or dict on a line of its own."""

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.artifacts import json_text

_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _VALUES, max_size=6))
def test_the_values_are_json_dumps_values(obj):
    text = json_text(obj)
    assert json.loads(text) == json.loads(json.dumps(obj))
    assert json_text(json.loads(text)) == text  # stable: what it reads back, it writes again


def test_one_line_per_top_level_entry_and_per_item_below_it():
    obj = {"ops": [{"name": "a", "start": 0}, {"name": "b", "start": 3}], "latency": 7,
           "units": {"xbar1": [{"start": 0}], "dram": []}, "empty": {}}
    assert json_text(obj).splitlines() == [
        "{",
        ' "empty": {},',
        ' "latency": 7,',
        ' "ops": [',
        '  {"name": "a", "start": 0},',
        '  {"name": "b", "start": 3}',
        " ],",
        ' "units": {',
        '  "dram": [],',
        '  "xbar1": [{"start": 0}]',
        " }",
        "}",
    ]


def test_non_finite_numbers_and_the_default_are_as_json_writes_them():
    text = json_text({"gap": math.inf, "bound": [math.nan], "path": object}, default=str)
    assert '"gap": Infinity' in text and "NaN" in text and "<class 'object'>" in text
