"""The `pimc` command line: a thin layer over the Python API.

Every error is one line on stderr: exit code 2 for bad input (a PimcError, a bad option, an
error of ONNX or ONNX Runtime on the model, a file the system refuses, memory), 3 for an
internal error, 130 on Ctrl-C and 143 on SIGTERM (both unwind, so what was being written is
cleaned up); `--debug` shows the traceback as well. Numbers and output paths are checked
before any command runs.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import traceback
from pathlib import Path

from compiler.cli_parser import EXIT_USER, build_parser, command_of
from ir.errors import PimcError

__all__ = ["build_parser", "main", "entry", "EXIT_USER", "EXIT_INTERNAL"]

EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_TERMINATED = 3, 130, 143


def _file_output(path: str, flag: str) -> None:
    """A file to be written: its folder exists and it is not a folder itself."""
    p = Path(path)
    if p.is_dir():
        raise PimcError(f"{flag} names a folder; give a file path", path)
    if not p.parent.is_dir():
        raise PimcError(f"{flag}: folder {p.parent} does not exist", path)


def _check_outputs(args: argparse.Namespace) -> None:
    """Output paths checked before any work (a late failure would throw the work away)."""
    from compiler._outdir import check_folder

    command = getattr(args, "command", None)
    if command == "compile":
        from compiler.artifacts import ARTIFACTS

        check_folder(Path(args.output), ARTIFACTS)
    elif command == "demo" and Path(args.output).exists() and not Path(args.output).is_dir():
        raise PimcError("output exists and is not a folder", args.output)
    elif command in ("import", "opt", "run") and getattr(args, "output", None):
        _file_output(args.output, "-o")
    elif command == "train-supernet":
        from frontend.supernet._paths import check_out

        _file_output(args.out, "--out")
        check_out(args.out, resume=args.resume, overwrite=args.overwrite)


class _Terminated(BaseException):
    """SIGTERM, raised so that `finally` blocks and `with` exits clean up."""


def _on_term(signum, frame) -> None:
    raise _Terminated()


def _from_onnx(exc: BaseException) -> str | None:
    """The library an exception of the model's libraries comes from, else None."""
    module = type(exc).__module__ or ""
    for prefix, name in (("onnxruntime", "ONNX Runtime"), ("onnx", "onnx"),
                         ("google.protobuf", "onnx (protobuf)")):
        if module.startswith(prefix):
            return name
    return None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else type(exc).__name__


def _report(exc: BaseException, debug: bool) -> int:
    """One line for `exc` on stderr (the traceback first with --debug); the exit code."""
    if debug:
        traceback.print_exception(exc)
    if isinstance(exc, PimcError):
        print(f"pimc: error: {_first_line(exc)}", file=sys.stderr)
        return EXIT_USER
    source = _from_onnx(exc)
    if source or isinstance(exc, (OSError, MemoryError)):
        label = source or type(exc).__name__
        print(f"pimc: error: {label}: {_first_line(exc)}", file=sys.stderr)
        return EXIT_USER
    print(f"pimc: internal error: {type(exc).__name__}: {_first_line(exc)} (run with --debug "
          "for the traceback)", file=sys.stderr)
    return EXIT_INTERNAL


def _run(args: argparse.Namespace) -> int:
    try:
        _check_outputs(args)
        return int(args.func(args) or 0)
    except BrokenPipeError:  # the reader went away (`pimc ... | head`): not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("pimc: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _Terminated:
        print("pimc: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except Exception as exc:  # noqa: BLE001 - the edge: every exception becomes one line
        return _report(exc, args.debug)


# Objects allocated between collections of the youngest generation (CPython's default: 700).
# A command loads some 600 modules and builds an IR whose ops mostly live to the end, so the
# default collected 118 times in a 0.4 s compile of a small MLP, 35-49 ms in all; at 20,000,
# 4 times, 14-16 ms, with the same peak memory (a 2,000-layer chain: 667 -> 422 ms of 7 s,
# 240 -> 246 MiB). Full collections keep CPython's own rule.
YOUNG_THRESHOLD = 20_000


def _young_collections_less_often() -> None:
    import gc

    young, *older = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_THRESHOLD), *older)


def main(argv: list[str] | None = None) -> int:
    from compiler._threads import pin_blas_env

    pin_blas_env()  # before numpy loads (compiler/_threads.py says why)
    _young_collections_less_often()
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(command_of(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USER
    if threading.current_thread() is not threading.main_thread():
        return _run(args)
    previous = signal.signal(signal.SIGTERM, _on_term)
    try:
        return _run(args)
    finally:
        signal.signal(signal.SIGTERM, previous)


def entry() -> int:
    """`pimc` as a process (the console script and ``python -m compiler``): `main`, then every
    object still alive is moved out of the collector's reach. The interpreter's exit runs a
    full collection over all of them (every module loaded, the compiled program), about 25 ms
    of a 0.3 s compile of a small MLP, to find cycles whose memory the exit gives back anyway;
    objects are still finalised as modules are torn down. Not for in-process callers of
    `main`, who go on allocating."""
    import gc

    code = main()
    gc.freeze()
    return code
