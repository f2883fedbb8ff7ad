"""libsvm / libfm / libffm files: fields by position, by a field map or by the line; numeric
against one-hot fields; train/validation/test files read together; bad lines named."""

from __future__ import annotations

import numpy as np
import pytest

from frontend.data import load_libsvm, load_splits
from ir.errors import PimcError

# frappe-style libfm: three one-hot fields and a numeric one at position 4 (index 9)
TRAIN = """1 3:1 17:1 40:1 9:2.5
-1 4:1 17:1 41:1 9:0.5
1 3:1 18:1 40:1 9:1.5
-1 5:1 18:1 42:1 9:4
"""
VAL = "1 3:1 17:1 41:1 9:3\n-1 6:1 19:1 40:1 9:1\n"
TEST = "1 4:1 18:1 40:1 9:2\n"


def write(tmp_path, **files) -> dict:
    paths = {}
    for name, text in files.items():
        paths[name] = tmp_path / f"{name}.libfm"
        paths[name].write_text(text)
    return paths


def test_fields_by_position(tmp_path):
    p = write(tmp_path, train=TRAIN, val=VAL, test=TEST)
    train, val, test = load_libsvm([p["train"], p["val"], p["test"]])
    assert [len(train), len(val), len(test)] == [4, 2, 1]
    assert train.sparse_names == ("f1", "f2", "f3") and train.dense_names == ("f4",)
    assert list(train.label) == [1, 0, 1, 0] and list(val.label) == [1, 0]
    assert list(train.dense[:, 0]) == [2.5, 0.5, 1.5, 4.0]
    # the files share one vocabulary: index 3 of field 1 has one id in train and val
    assert train.sparse[0, 0] == train.sparse[2, 0] == val.sparse[0, 0]
    assert train.table_sizes == val.table_sizes == test.table_sizes
    assert train.table_sizes[0] == 2 + 4  # indices 3, 4, 5, 6 and the reserved 0, 1


def test_field_map_and_absent_fields(tmp_path):
    p = write(tmp_path, train="1 3:1 40:1 9:7\n0 17:1\n1 4:1 9:2 18:1\n")
    fields = tmp_path / "fields.txt"
    fields.write_text("# index field\n3 user\n4 user\n17 tag\n18 tag\n40 item\n9 price\n")
    (d,) = load_libsvm([p["train"]], fields=fields)
    assert d.sparse_names == ("user", "item", "tag") and d.dense_names == ("price",)
    assert d.sparse[1, 0] == 0 and d.sparse[1, 1] == 0  # absent: the missing id
    assert np.isnan(d.dense[1, 0]) and d.dense[2, 0] == 2.0


def test_libffm_lines_name_their_fields(tmp_path):
    p = write(tmp_path, train="1 0:3:1 1:17:1 2:9:0.5\n0 0:4:1 2:9:1.5\n")
    (d,) = load_libsvm([p["train"]])
    assert d.sparse_names == ("f0", "f1") and d.dense_names == ("f2",)
    assert d.sparse[1, 1] == 0 and list(d.dense[:, 0]) == [0.5, 1.5]


def test_libsvm_spec_keeps_the_given_files_and_fits_on_train(tmp_path):
    p = write(tmp_path, train=TRAIN, val=VAL, test=TEST)
    s = load_splits(f"libsvm:{p['train']},{p['val']},{p['test']}")
    assert [len(x) for x in (s.train, s.val, s.test)] == [4, 2, 1]
    center, scale = s.normaliser.center[0], s.normaliser.scale[0]
    assert center == pytest.approx(2.125)  # the train file's mean only
    assert s.val.dense[0, 0] == pytest.approx((3 - center) / scale)
    two = load_splits(f"libfm:{p['train']},{p['val']}:numeric=log")
    assert len(two.test) == 0 and two.val.dense[0, 0] == pytest.approx(np.log(4))


@pytest.mark.parametrize("text, line, message", [
    ("1 3:1 17:1 40:1 9:2\n0 3:1 17:1 9:2\n", 2,
     "3 features, but {path}:1 has 4; accepted: the same number on every line, or a field map"),
    ("1 3:1 17:x\n", 1, "'17:x' is not INDEX:VALUE"),
    ("1 3:1 :1\n", 1, "':1' is not INDEX:VALUE"),
    ("2 3:1\n", 1, "label '2' is not 0/1 or -1/+1"),
    ("yes 3:1\n", 1, "label 'yes' is not 0/1 or -1/+1"),
    ("1 3:1 17:1\n0 4:0.5 17:1\n", 2, "field f1: feature 4 has value 0.5"),
    ("1 0:3:1 0:4:1\n", 1, "field f0 has two features (3 and 4)"),
])
def test_bad_lines_name_file_and_line(tmp_path, text, line, message):
    p = write(tmp_path, train=text)
    with pytest.raises(PimcError) as err:
        load_libsvm([p["train"]])
    assert err.value.where == f"{p['train']}:{line}"
    assert message.format(path=p["train"]) in err.value.message


def test_bad_field_maps_and_files(tmp_path):
    p = write(tmp_path, train="1 3:1 8:1\n", empty="\n")
    fields = tmp_path / "fields.txt"
    fields.write_text("3 user\n")
    with pytest.raises(PimcError, match=r"train.libfm:1: feature index 8 is not in the field map"):
        load_libsvm([p["train"]], fields=fields)
    fields.write_text("3 user extra\n")
    with pytest.raises(PimcError, match=r"fields.txt:1: '3 user extra' is not INDEX FIELD"):
        load_libsvm([p["train"]], fields=fields)
    with pytest.raises(PimcError, match="empty.libfm: no data rows"):
        load_libsvm([p["train"], p["empty"]])
    with pytest.raises(PimcError, match="nope.libfm: no such file"):
        load_splits(f"libsvm:{p['train']},{tmp_path / 'nope.libfm'}")
