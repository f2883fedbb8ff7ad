"""The compile derives ONNX Runtime's outputs and the error bounds once: the functional check
reads them from the reference record it also writes (reference.npz). Given the record, the
check must judge exactly as it does deriving them itself, and must read the bounds it is
given (a record with tightened bounds fails it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from compiler.driver import compile
from compiler.functional import functional_check
from compiler.verify_folder import reference_record
from frontend.onnx._load import load_onnx
from ir.errors import PimcError

ONNX = Path(__file__).resolve().parents[1] / "fixtures" / "onnx"


@pytest.mark.parametrize("name, target", [("torchrec_dlrm_legacy", "isaac"),
                                          ("deepctr_dcn_legacy", "hetero")])
def test_the_check_given_the_record_judges_as_it_does_alone(name, target):
    path = ONNX / f"{name}.onnx"
    c = compile(path, target, batch=8, check="none")
    proto = load_onnx(path)
    record = reference_record(c.module, proto, c.inputs)
    alone = functional_check(c.module, proto, c.inputs, False)
    given = functional_check(c.module, proto, c.inputs, False, reference=record)
    assert given == alone and alone["passed"] and alone["worst_error_over_bound"] > 0
    # near miss: the record's bounds are what it judges by
    tight = {k: v * 1e-6 if k.startswith("bound.") else v for k, v in record.items()}
    failed = functional_check(c.module, proto, c.inputs, False, reference=tight)
    assert not failed["passed"] and failed["worst_error_over_bound"] > 1.0
    assert np.isclose(failed["worst_error_over_bound"], alone["worst_error_over_bound"] * 1e6)


def test_a_compile_still_fails_a_program_outside_its_bound(monkeypatch):
    import compiler.verify_folder as vf

    real = vf.reference_record

    def tightened(module, proto, feed):
        return {k: v * 1e-6 if k.startswith("bound.") else v
                for k, v in real(module, proto, feed).items()}

    monkeypatch.setattr(vf, "reference_record", tightened)
    with pytest.raises(PimcError, match="functional check failed"):
        compile(ONNX / "torchrec_dlrm_legacy.onnx", "isaac", batch=8)
