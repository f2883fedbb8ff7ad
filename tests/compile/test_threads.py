"""A compile runs numpy's BLAS and ONNX Runtime on one thread (compiler/_threads.py says why),
restores the caller's BLAS setting afterwards, and `pimc` pins OpenBLAS before numpy loads
without overriding what the user set."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import compiler._threads
import passes.manager
from compiler.driver import compile

ROOT = Path(__file__).resolve().parents[2]
DLRM = ROOT / "tests" / "fixtures" / "onnx" / "torchrec_dlrm_legacy.onnx"


def _blas_threads() -> set[int]:
    return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}


def test_compile_runs_blas_on_one_thread_and_restores_it(monkeypatch):
    monkeypatch.setattr(compiler._threads, "_pinned", lambda: False)  # as in a library caller
    with threadpool_limits(limits=2, user_api="blas"):
        if _blas_threads() != {2}:
            pytest.skip("this BLAS cannot run two threads here")
        seen = []
        real = passes.manager.PassManager.run

        def run(self, module):
            seen.append(_blas_threads())
            return real(self, module)

        monkeypatch.setattr(passes.manager.PassManager, "run", run)
        compile(DLRM, "isaac", batch=8, check="full")
        assert seen and all(s == {1} for s in seen)
        assert _blas_threads() == {2}  # the caller's setting is back


def _check_sessions(monkeypatch) -> list:
    """The options of every ONNX Runtime session a checked compile of DLRM makes."""
    import onnxruntime as ort

    made = []
    real = ort.InferenceSession

    def session(model, opts=None, **kw):
        made.append(opts)
        return real(model, opts, **kw)

    monkeypatch.setattr(ort, "InferenceSession", session)
    compiler.functional._SESSIONS.clear()
    compile(DLRM, "isaac", batch=8, check="full")
    assert made
    return made


def test_check_session_has_one_thread(monkeypatch):
    assert all(o.intra_op_num_threads == 1 and o.inter_op_num_threads == 1
               for o in _check_sessions(monkeypatch))


def test_check_session_runs_the_model_as_written(monkeypatch):
    """The reference runs once per compile: no graph rewrites (their set-up pays off only
    over many runs, and the reference is then the model as exported)."""
    import onnxruntime as ort

    assert all(o.graph_optimization_level == ort.GraphOptimizationLevel.ORT_DISABLE_ALL
               for o in _check_sessions(monkeypatch))


def _env_after_main(env: dict[str, str], preload_numpy: bool) -> str:
    code = ("import sys\n" + ("import numpy\n" if preload_numpy else "") +
            "from compiler.cli import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n"
            "    pass\nimport os\n"
            "print(os.environ.get('OPENBLAS_NUM_THREADS', 'unset'))\n")
    env = {**{k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}, **env,
           "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True, cwd=ROOT).stdout
    return out.split()[-1]


def test_pimc_pins_openblas_before_numpy_loads():
    assert _env_after_main({}, preload_numpy=False) == "1"


def test_pimc_keeps_the_users_setting():
    assert _env_after_main({"OPENBLAS_NUM_THREADS": "2"}, preload_numpy=False) == "2"


def test_pimc_does_not_pin_once_numpy_is_loaded():
    """Set after numpy loaded, the variable would change nothing but skip the compile's own
    limit; so it stays unset."""
    assert _env_after_main({}, preload_numpy=True) == "unset"


def test_pimc_collects_the_young_generation_less_often():
    """compiler/cli.py says why; what the user raised further stays."""
    code = ("import gc\nfrom compiler.cli import main, YOUNG_THRESHOLD\n"
            "for start in (700, 50_000):\n    gc.set_threshold(start, 10, 10)\n"
            "    try:\n        main(['--version'])\n    except SystemExit:\n        pass\n"
            "    print(gc.get_threshold() == (max(start, YOUNG_THRESHOLD), 10, 10))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert [w for w in out.stdout.split() if w in ("True", "False")] == ["True", "True"]


def test_a_compile_in_another_thread_leaves_blas_as_it_is(monkeypatch):
    """BLAS has one pool per process and threadpoolctl (from 3.8) gives it to one thread at a
    time: a compile in a worker thread neither takes it from the main thread nor leaves it
    limited behind it."""
    import threading

    monkeypatch.setattr(compiler._threads, "_pinned", lambda: False)
    if _blas_threads() != {2}:  # no thread holds a limit here: the worker could take one
        pytest.skip("BLAS does not run two threads here")
    seen = []

    def body():
        with compiler._threads.blas_one_thread():
            seen.append(_blas_threads())

    worker = threading.Thread(target=body)
    worker.start()
    worker.join(10)
    assert seen == [{2}]
    assert _blas_threads() == {2}


def test_blas_counts_as_pinned_only_when_pinned_before_numpy_loaded(monkeypatch):
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setattr(compiler._threads, "_env_pinned", False)
    compiler._threads.pin_blas_env()  # numpy is loaded in this process: too late to pin
    assert not compiler._threads._pinned()
    monkeypatch.setattr(compiler._threads, "_env_pinned", True)
    assert compiler._threads._pinned() == compiler._threads._numpy_uses_openblas()


def test_a_blas_other_than_openblas_is_never_taken_as_pinned(monkeypatch):
    import numpy

    monkeypatch.setattr(compiler._threads, "_env_pinned", True)
    config = {**numpy.__config__.CONFIG,
              "Build Dependencies": {"blas": {"name": "mkl-sdl"}}}
    monkeypatch.setattr(numpy.__config__, "CONFIG", config)
    assert not compiler._threads._pinned()


def test_deadlines_firing_anywhere_leave_no_limit_behind(monkeypatch):
    """pimc's deadline alarm raises wherever the compile is: the limit is still lifted."""
    from compiler._deadline import Deadline, guard
    from ir.errors import PimcError

    monkeypatch.setattr(compiler._threads, "_pinned", lambda: False)
    # Once without a deadline first: an alarm inside a module's first import leaves it half
    # imported in this process (and importing onnx's extension again can crash it), which
    # only a process that exits after its one compile, as `pimc compile` does, can afford.
    compile(DLRM, "isaac", batch=8, check="none")
    with threadpool_limits(limits=2, user_api="blas"):
        if _blas_threads() != {2}:
            pytest.skip("this BLAS cannot run two threads here")
        for k in range(12):
            clock = Deadline(0.001 + 0.003 * k)  # the alarm comes at another point each time
            try:
                with guard(clock):
                    compile(DLRM, "isaac", batch=8, check="none")
            except PimcError:
                pass
        assert _blas_threads() == {2}
