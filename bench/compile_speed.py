"""Compile speed for the search loop: candidates per second, whole-process times, peak RSS.

    python bench/compile_speed.py [-n 50] [--targets isaac,hetero] [--repeat 3]
                                  [--zigzag-env /tmp/pimc-zigzag-env] [--profile]
                                  [--parts whole,candidates,sweep]
                                  [--depths 16,32,64,128] [--widths 32,64,128,256]
                                  [--tables 4,8,16,32] [--big] [--chip-scale K]
                                  [--sweep-check none|final|full] [--huge]

1. Candidates/s: `-n` architectures sampled (seeded) from the `nasrec-float` and `nasrec`
   spaces, exported from one supernet (26 small tables; export time is not counted), each
   compiled in this process with `compiler.driver.compile` on every target, with the
   functional check off and on (and "final" where the driver offers it), and as `pimc search`
   compiles them in its loop (`search.evaluate.loop_cost`: its default placement solver,
   greedy, and objective, latency; each result released; after `freeze_worker_state`, as a
   search worker once it has loaded its supernet): check off, as by default, and with
   `--loop-check final` and `full` (every candidate checked). CPU time of this process
   (time.process_time), so BLAS threads count.
2. Whole process: `python -m compiler compile` of the 13-512-256-1 MLP of
   bench/zigzag_compare.py (batch 1; with the default checks and with --no-check --compare
   none) and of the DLRM fixture (batch 8), on isaac; wall and CPU time, best of `--repeat`
   after one untimed run, with bytecode cached (PYTHONDONTWRITEBYTECODE dropped, the cache in a
   temporary PYTHONPYCACHEPREFIX) as an installed package has it; ZigZag 3.9.1 on the same
   MLP, paired, when its throwaway venv exists (bench/zigzag_compare.py creates it).
3. Peak RSS of each whole-process run (os.wait4) and of this process (resource.getrusage).

4. Growth: each stage's time over a sweep of model sizes and its growth exponent
   (bench/growth_sweep.py says how), on each target of `--targets`; `--big` to 13.7k tiles,
   `--chip-scale K` and `--huge` (to 107k tiles) past what one chip holds.

`--parts` picks which of the tables to print. `--profile` prints the top cProfile entries
of one compile (the first nasrec architecture, isaac, check on) and stops.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import os
import pstats
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

HERE = ROOT / "bench"
DLRM = ROOT / "tests" / "fixtures" / "onnx" / "torchrec_dlrm_legacy.onnx"
TABLES = (100,) * 26  # small tables: the search's cost is in the dense blocks
SPACES = ("nasrec-float", "nasrec")
BATCH = 8


def sample_models(space_name: str, n: int, seed: int = 0) -> list:
    """`n` seeded architectures of `space_name`, exported to ONNX ModelProtos."""
    from frontend.space import get_space
    from frontend.supernet import SuperNet
    from frontend.supernet.subnet import export

    space = get_space(space_name)
    net = SuperNet(space, TABLES, seed=seed)
    rng = random.Random(seed)
    return [export(space.sample(rng), supernet=net, batch=BATCH) for _ in range(n)]


def _check_modes() -> list[tuple[str, object]]:
    """The check settings the driver accepts: off and on always, "final" where it exists."""
    import inspect

    from compiler.driver import compile as compile_model

    annotation = str(inspect.signature(compile_model).parameters["check"].annotation)
    if "str" in annotation:
        return [("off", "none"), ("final", "final"), ("on", "full")]
    return [("off", False), ("on", True)]


def rate(models: list, target: str, check, loop: bool = False,
         warm=None) -> tuple[float, int]:
    """(candidates per CPU second, failures) over `models` compiled for `target`, after one
    untimed compile of `warm` where given (what a search worker's first candidate pays once:
    imports, lazily built tables); `loop`: as `pimc search` compiles them
    (`search.evaluate.loop_cost`: its placement solver and objective, the result released)
    with `check` as its `--loop-check`."""
    from compiler.driver import compile as compile_model
    from ir.errors import PimcError

    run = functools.partial(compile_model, target=target, batch=BATCH, check=check)
    if loop:
        from search.evaluate import EvalOptions, freeze_worker_state, loop_cost

        checked = {} if check == "none" else {"check": check}  # as `_loop_checks` has them
        run = functools.partial(loop_cost, target=target,
                                opts=EvalOptions(batch=BATCH, **checked))
        freeze_worker_state()  # as a search worker does once its supernet is loaded
    failed = 0
    if warm is not None:
        try:
            run(warm)
        except PimcError:
            pass  # it is not counted either way
    start = time.process_time()
    for model in models:
        try:
            run(model)
        except PimcError:
            failed += 1
    spent = time.process_time() - start
    return len(models) / spent if spent else float("inf"), failed


def _loop_checks() -> list[tuple[str, object]]:
    """The search loop's checks: off, and on where `EvalOptions` has them."""
    from search.evaluate import EvalOptions

    if "check" not in EvalOptions.__dataclass_fields__:
        return [("search loop", "none")]
    return [("search loop", "none"), ("loop, final", "final"), ("loop, on", "full")]


def candidates_table(n: int, targets: list[str]) -> None:
    """Each column after one untimed compile of an architecture not among the `n`; the
    search loop's columns first, as a search worker runs them (a process that compiles loop
    candidates only: after 150 default compiles in the same process the loop ran 5-6% slower)."""
    modes, loops = _check_modes(), _loop_checks()
    head = "".join(f"{'check ' + m:>14s}" for m, _ in modes)
    head += "".join(f"{m:>14s}" for m, _ in loops)
    print(f"\ncandidates/s (CPU time, in process, batch {BATCH}, {n} architectures)")
    print(f"{'space':14s} {'target':8s}{head}  failures")
    for space in SPACES:
        *models, warm = sample_models(space, n + 1)  # the first n as `sample_models(space, n)`
        columns = [(c, False) for _, c in modes] + [(c, True) for _, c in loops]
        for target in targets:
            got = {col: rate(models, target, *col, warm=warm)
                   for col in sorted(columns, key=lambda col: not col[1])}  # loops first
            cells = "".join(f"{got[col][0]:14.3f}" for col in columns)
            fails = "/".join(str(got[col][1]) for col in columns)
            print(f"{space:14s} {target:8s}{cells}  {fails}")


def _timed(cmd: list[str], repeat: int, env: dict[str, str]) -> tuple[float, float, float]:
    """(best wall s, best CPU s, peak RSS MiB) of `cmd` run `repeat` times after one untimed
    run (os.wait4 gives the child's own usage); fails loudly if it fails."""
    walls, cpus, rss = [], [], 0.0
    for i in range(repeat + 1):
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-400:]}")
        proc.stderr.close()
        if i == 0:
            continue  # the untimed run writes the bytecode an installed package already has
        walls.append(time.perf_counter() - t)
        cpus.append(usage.ru_utime + usage.ru_stime)
        rss = max(rss, usage.ru_maxrss / 1024)
    return min(walls), min(cpus), rss


def whole_process(repeat: int, zigzag_env: Path) -> None:
    from zigzag_compare import write_mlp

    print(f"\nwhole process, isaac (best of {repeat}, after one untimed run; bytecode cached "
          "as an installed package has it)")
    print(f"{'what':44s} {'wall s':>8s} {'CPU s':>8s} {'peak MiB':>9s}")
    with tempfile.TemporaryDirectory(prefix="pimc-bench-") as tmp:
        work = Path(tmp)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")  # not into the source tree
        mlp = work / "mlp_b1.onnx"
        write_mlp(mlp, 1)
        pimc = [sys.executable, "-m", "compiler"]
        mlp_compile = pimc + ["compile", str(mlp), "--target", "isaac", "-o", str(work / "o1")]
        runs = {
            "pimc --version": pimc + ["--version"],
            "pimc compile MLP 13-512-256-1, b1": mlp_compile,
            "  the same, --no-check --compare none": mlp_compile + ["--no-check", "--compare",
                                                                    "none"],
            "pimc compile DLRM fixture, b8": pimc + ["compile", str(DLRM), "--target", "isaac",
                                                     "--batch", "8", "-o", str(work / "o2")],
        }
        python = zigzag_env / "bin" / "python"
        if python.exists():
            runs["ZigZag 3.9.1 MLP, aimc, b1"] = [str(python), str(HERE / "zigzag_run.py"),
                                                  "aimc", str(mlp), str(work / "zz")]
        for what, cmd in runs.items():
            wall, cpu, rss = _timed(cmd, repeat, env)
            print(f"{what:44s} {wall:8.3f} {cpu:8.3f} {rss:9.0f}")
        if not python.exists():
            print(f"ZigZag 3.9.1: no venv at {zigzag_env} (bench/zigzag_compare.py --env "
                  f"{zigzag_env} installs it); not paired")


def peak_rss() -> None:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of the in-process compiles (this process): {me:.0f} MiB")


def profile(target: str) -> None:
    from compiler.driver import compile as compile_model

    model = sample_models("nasrec", 1)[0]
    check = _check_modes()[-1][1]
    prof = cProfile.Profile()
    prof.enable()
    compile_model(model, target, batch=BATCH, check=check)
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)


def _sweep_args(ap: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """The sweep's sizes, chip and check as `--huge`, `--big` or the defaults set them (what
    is given stays)."""
    if args.huge:
        args.parts = "sweep"
        args.widths = args.widths or "1024,2048,4096,5800"
        args.depths, args.tables = args.depths or "", args.tables or ""
        args.chip_scale = 8 if args.chip_scale == 1 else args.chip_scale
        if "--sweep-check" not in sys.argv:
            args.sweep_check = "none"
    if args.chip_scale < 1:
        ap.error(f"--chip-scale {args.chip_scale}; accepted: 1 or more")
    for name, small, big in (("depths", "16,32,64,128", "128,256,512,1024"),
                             ("widths", "32,64,128,256", "256,512,1024,2048"),
                             ("tables", "4,8,16,32", "32,64,128,256")):
        if getattr(args, name) is None:
            setattr(args, name, big if args.big else small)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=50, help="architectures per space")
    ap.add_argument("--targets", default="isaac,hetero")
    ap.add_argument("--repeat", type=int, default=3, help="runs per whole-process time")
    ap.add_argument("--zigzag-env", type=Path, default=Path("/tmp/pimc-zigzag-env"))
    ap.add_argument("--profile", action="store_true", help="profile one compile and stop")
    ap.add_argument("--parts", default="whole,candidates,sweep",
                    help="which tables: whole, candidates, sweep (comma-separated)")
    ap.add_argument("--depths", help="chain depths of the sweep (default 16,32,64,128; "
                    "--big: 128,256,512,1024)")
    ap.add_argument("--widths", help="chain widths of the sweep (default 32,64,128,256; "
                    "--big: 256,512,1024,2048)")
    ap.add_argument("--tables", help="embedding tables of the sweep (default 4,8,16,32; "
                    "--big: 32,64,128,256)")
    ap.add_argument("--big", action="store_true",
                    help="the big sweep: up to 13.7k crossbar tiles (width 2048; isaac and "
                         "hetero hold 16,128), about a minute per target")
    ap.add_argument("--chip-scale", type=int, default=1,
                    help="compile the sweep for each target with this many times its chip "
                         "tiles (module docstring, 4)")
    ap.add_argument("--sweep-check", choices=("none", "final", "full"), default="full",
                    help="the sweep's check (default full)")
    ap.add_argument("--huge", action="store_true",
                    help="widths 1024,2048,4096,5800 (3.6k to 107k tiles) on an 8x chip, "
                         "check none, the sweep only; a few minutes per target")
    args = ap.parse_args()
    _sweep_args(ap, args)
    if args.profile:
        profile(args.targets.split(",")[0])
        return
    parts = set(args.parts.split(","))
    unknown = parts - {"whole", "candidates", "sweep"}
    if unknown:
        ap.error(f"--parts {','.join(sorted(unknown))}; accepted: whole, candidates, sweep")
    if "whole" in parts:  # first: children then start from a small parent
        whole_process(args.repeat, args.zigzag_env)
    if "candidates" in parts:
        candidates_table(args.n, args.targets.split(","))
    if "sweep" in parts:
        from growth_sweep import growth, scaled_chip

        sizes = {k: [int(x) for x in v.split(",") if x]
                 for k, v in (("depth", args.depths), ("width", args.widths),
                              ("tables", args.tables))}
        with tempfile.TemporaryDirectory(prefix="pimc-bench-") as tmp:
            for target in args.targets.split(","):
                chip = scaled_chip(target, args.chip_scale, Path(tmp))
                label = target if args.chip_scale == 1 else f"{target}, chip x{args.chip_scale}"
                growth(sizes, chip, args.sweep_check, label)
    peak_rss()


if __name__ == "__main__":
    main()
