"""Compile speed for the search loop: candidates per second, whole-process times, peak RSS.

    python bench/compile_speed.py [-n 50] [--targets isaac,hetero] [--repeat 3]
                                  [--zigzag-env /tmp/pimc-zigzag-env] [--profile]

1. Candidates/s: `-n` architectures sampled (seeded) from the `nasrec-float` and `nasrec`
   spaces, exported from one supernet (26 small tables; export time is not counted), each
   compiled in this process with `compiler.driver.compile` on every target, with the
   functional check off and on (and "final" where the driver offers it). CPU time of this
   process (time.process_time), so BLAS threads count.
2. Whole process: `python -m compiler compile` of the 13-512-256-1 MLP of
   bench/zigzag_compare.py (batch 1) and of the DLRM fixture (batch 8), on isaac; wall and CPU
   time, best of `--repeat`; ZigZag 3.9.1 on the same MLP, paired, when its throwaway venv
   exists (bench/zigzag_compare.py creates it).
3. Peak RSS of each whole-process run (os.wait4) and of this process (resource.getrusage).

`--profile` prints the top cProfile entries of one compile (the first nasrec architecture,
isaac, check on) and stops.
"""

from __future__ import annotations

import argparse
import cProfile
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


def rate(models: list, target: str, check) -> tuple[float, int]:
    """(candidates per CPU second, failures) over `models` compiled for `target`."""
    from compiler.driver import compile as compile_model
    from ir.errors import PimcError

    failed = 0
    start = time.process_time()
    for model in models:
        try:
            compile_model(model, target, batch=BATCH, check=check)
        except PimcError:
            failed += 1
    spent = time.process_time() - start
    return len(models) / spent if spent else float("inf"), failed


def candidates_table(n: int, targets: list[str]) -> None:
    modes = _check_modes()
    head = "".join(f"{'check ' + m:>14s}" for m, _ in modes)
    print(f"\ncandidates/s (CPU time, in process, batch {BATCH}, {n} architectures)")
    print(f"{'space':14s} {'target':8s}{head}  failures")
    for space in SPACES:
        models = sample_models(space, n)
        for target in targets:
            cells, fails = [], []
            for _, check in modes:
                r, f = rate(models, target, check)
                cells.append(f"{r:14.3f}")
                fails.append(str(f))
            print(f"{space:14s} {target:8s}{''.join(cells)}  {'/'.join(fails)}")


def _timed(cmd: list[str], repeat: int) -> tuple[float, float, float]:
    """(best wall s, best CPU s, peak RSS MiB) of `cmd` run `repeat` times (os.wait4 gives
    the child's own usage); fails loudly if it fails."""
    walls, cpus, rss = [], [], 0.0
    for _ in range(repeat):
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - t)
        cpus.append(usage.ru_utime + usage.ru_stime)
        rss = max(rss, usage.ru_maxrss / 1024)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-400:]}")
        proc.stderr.close()
    return min(walls), min(cpus), rss


def whole_process(repeat: int, zigzag_env: Path) -> None:
    from zigzag_compare import write_mlp

    print(f"\nwhole process, isaac (best of {repeat})")
    print(f"{'what':34s} {'wall s':>8s} {'CPU s':>8s} {'peak MiB':>9s}")
    with tempfile.TemporaryDirectory(prefix="pimc-bench-") as tmp:
        work = Path(tmp)
        mlp = work / "mlp_b1.onnx"
        write_mlp(mlp, 1)
        pimc = [sys.executable, "-m", "compiler"]
        runs = {
            "pimc --version": pimc + ["--version"],
            "pimc compile MLP 13-512-256-1, b1": pimc + ["compile", str(mlp), "--target", "isaac",
                                                         "-o", str(work / "o1")],
            "pimc compile DLRM fixture, b8": pimc + ["compile", str(DLRM), "--target", "isaac",
                                                     "--batch", "8", "-o", str(work / "o2")],
        }
        python = zigzag_env / "bin" / "python"
        if python.exists():
            runs["ZigZag 3.9.1 MLP, aimc, b1"] = [str(python), str(HERE / "zigzag_run.py"),
                                                  "aimc", str(mlp), str(work / "zz")]
        for what, cmd in runs.items():
            wall, cpu, rss = _timed(cmd, repeat)
            print(f"{what:34s} {wall:8.3f} {cpu:8.3f} {rss:9.0f}")
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=50, help="architectures per space")
    ap.add_argument("--targets", default="isaac,hetero")
    ap.add_argument("--repeat", type=int, default=3, help="runs per whole-process time")
    ap.add_argument("--zigzag-env", type=Path, default=Path("/tmp/pimc-zigzag-env"))
    ap.add_argument("--profile", action="store_true", help="profile one compile and stop")
    args = ap.parse_args()
    if args.profile:
        profile(args.targets.split(",")[0])
        return
    whole_process(args.repeat, args.zigzag_env)  # first: children then start from a small parent
    candidates_table(args.n, args.targets.split(","))
    peak_rss()


if __name__ == "__main__":
    main()
