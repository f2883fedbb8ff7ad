"""The functional check: the pim-level interpreter against ONNX Runtime on the original model,
within the error bound that follows from the precisions.

The check fails closed. A comparison `err / bound > 1` is false when either side is NaN, so
non-finite numbers are settled before any ratio is taken: a NaN or an infinity must sit where
ONNX Runtime has the same one (same position, same kind, same sign), and everywhere else the
program's value, the reference and the bound must all be finite. Anything else fails, and the
message names the output and the first bad element.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ir.core import Module

__all__ = ["compare_output", "functional_check", "onnx_outputs"]


def _at(name: str, shape: tuple[int, ...], flat: int) -> str:
    index = ", ".join(str(int(i)) for i in np.unravel_index(flat, shape)) if shape else ""
    return f"output {name}[{index}]"


def _same_special(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Where both are the same non-finite number (NaN and NaN, or equal infinities)."""
    return (np.isnan(got) & np.isnan(want)) | (np.isinf(got) & (got == want))


def compare_output(name: str, got: np.ndarray, want: np.ndarray,
                   bound: np.ndarray) -> tuple[float, str]:
    """(max error / bound, why it failed or "") for one output; a non-finite mismatch, or a
    non-finite bound where the reference is finite, is a failure with ratio inf."""
    got = np.asarray(got, np.float64)
    want = np.asarray(want, np.float64)
    bound = np.broadcast_to(np.asarray(bound, np.float64), want.shape)
    if got.shape != want.shape:
        return math.inf, f"output {name}: shape {list(got.shape)}, ONNX Runtime gives " \
                         f"{list(want.shape)}"
    special = _same_special(got, want)
    checks = (
        (~np.isfinite(got) & ~special, "the program gives {g}, ONNX Runtime gives {w}"),
        (~np.isfinite(want) & ~special, "ONNX Runtime gives {w}, the program gives {g}"),
        (~special & ~np.isfinite(bound), "the error bound is {b} (reference {w})"),
    )
    for bad, text in checks:
        if bad.any():
            i = int(np.flatnonzero(bad.ravel())[0])
            g, w, b = got.ravel()[i], want.ravel()[i], bound.ravel()[i]
            return math.inf, f"{_at(name, want.shape, i)}: " + text.format(g=g, w=w, b=b)
    finite = ~special
    if not finite.any():
        return 0.0, ""
    with np.errstate(invalid="ignore"):  # the non-finite places are masked out here
        ratio = np.where(finite, np.abs(got - want) / np.where(finite, bound, 1.0), 0.0)
    i = int(np.argmax(ratio))
    worst = float(ratio.ravel()[i])
    if worst <= 1.0:
        return worst, ""
    g, w, b = got.ravel()[i], want.ravel()[i], bound.ravel()[i]
    return worst, (f"{_at(name, want.shape, i)}: error {abs(g - w):.3g} exceeds the bound "
                   f"{b:.3g} (program {g:.6g}, ONNX Runtime {w:.6g})")


def _max_abs(got: np.ndarray, want: np.ndarray) -> float:
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    finite = np.isfinite(got) & np.isfinite(want)
    if finite.all():
        return float(np.max(np.abs(got - want))) if got.size else 0.0
    return math.inf if (~finite & ~_same_special(got, want)).any() else \
        float(np.max(np.abs(got - want)[finite], initial=0.0))


_SESSIONS: dict[bytes, object] = {}  # the last small model's session, by its bytes
_KEEP_BYTES = 16 << 20  # larger models are not kept: a session holds a copy of the weights


def _session(proto) -> object:
    """An ONNX Runtime session for `proto`, reused when the same small model is run again (the
    reference record and the check; a search compiles one candidate for several targets).
    Tables the loader left in their file stay there: ONNX Runtime maps them from it."""
    from frontend.onnx._external import runtime_model

    model, folder = runtime_model(proto)
    key = model + (folder or "").encode()
    if key in _SESSIONS:
        return _SESSIONS[key]
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3  # errors only: its graph-rewrite notices are not ours to show
    opts.intra_op_num_threads = 1  # a check's batch is small; pool threads only spin (_threads)
    opts.inter_op_num_threads = 1
    # the model as written: graph rewrites pay off over many runs, and a check runs it once
    # (session and run of 6 nasrec-float candidates: 6-18 ms without them, 16-34 ms with;
    # the same outputs, bit for bit)
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    if folder is not None:
        opts.add_session_config_entry("session.model_external_initializers_file_folder_path",
                                      folder)
    session = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    _SESSIONS.clear()
    if len(model) <= _KEEP_BYTES:
        _SESSIONS[key] = session
    return session


def onnx_outputs(proto, feed: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    """ONNX Runtime's outputs of the original model on `feed`, in graph output order."""
    session = _session(proto)
    names = {i.name for i in session.get_inputs()}
    return session.run(None, {k: v for k, v in feed.items() if k in names})


def functional_check(module: Module, proto, feed: Mapping[str, np.ndarray],
                     given: bool = True,
                     reference: Mapping[str, np.ndarray] | None = None) -> dict:
    """The pim-level interpreter against ONNX Runtime, within the precision error bound.
    `reference`: ONNX Runtime's outputs and the error bounds on `feed` when they are already
    worked out (``verify_folder.reference_record``: `output.I`, `bound.I`), so the compile
    derives the bounds once."""
    from ir import interp
    from passes.error_bound import error_bound

    n = len(module.main.output_names)
    want = ([reference[f"output.{i}"] for i in range(n)] if reference is not None
            else onnx_outputs(proto, feed))
    with np.errstate(all="ignore"):  # non-finite values are judged below, not warned about
        got = interp.run(module.main, feed)
        bounds = ([reference[f"bound.{i}"] for i in range(n)] if reference is not None
                  else error_bound(module, feed))
    worst, detail = 0.0, ""
    for name, g, w, b in zip(module.main.output_names, got, want, bounds):
        ratio, why = compare_output(name, g, w, b)
        if why and (not detail or ratio > worst):
            detail = why
        worst = max(worst, ratio)
    if not detail:
        detail = "every output within its bound"
    return {"passed": worst <= 1.0, "worst_error_over_bound": worst, "detail": detail,
            "inputs": "given" if given else "generated",
            "max_abs_error": [_max_abs(g, w) for g, w in zip(got, want)],
            "bound": [float(np.max(b, initial=0.0)) for b in bounds]}
