"""Whole-process timing of `pimc import` + `pimc opt` on fixture models, and proof that the
compile path does not import torch (`python -X importtime`).

    python bench/import_speed.py [--repeat 3] [FIXTURE ...]

Prints one table row per fixture: ONNX nodes, IR ops after import and after the pipeline,
and the best wall time of each whole process (Python start-up included).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "onnx"
PIPELINE = "canonicalize,fuse-interactions"
DEFAULT = ["deepctr_fibinet_legacy.onnx", "deepctr_fibinet_dynamo.onnx",
           "torchrec_dlrm_legacy.onnx", "torchrec_dlrm_dynamo.onnx"]


def _pimc(*args: str) -> float:
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "compiler", *args], capture_output=True,
                          text=True, cwd=ROOT)
    if proc.returncode:
        raise SystemExit(f"pimc {' '.join(args)} failed: {proc.stderr.strip()}")
    return time.perf_counter() - t


def _ops(path: Path) -> int:
    return sum(1 for line in path.read_text().splitlines() if " = " in line and "%" in line)


def _row(name: str, repeat: int, tmp: Path) -> tuple:
    entry = {e["file"]: e for e in json.loads((FIXTURES / "manifest.json").read_text())["models"]}
    nodes = entry.get(name, {}).get("node_count", "?")
    m, o = tmp / "m.pir", tmp / "o.pir"
    t_imp = min(_pimc("import", str(FIXTURES / name), "--batch", "64", "-o", str(m))
                for _ in range(repeat))
    t_opt = min(_pimc("opt", str(m), "-p", PIPELINE, "-o", str(o)) for _ in range(repeat))
    return name, nodes, _ops(m), _ops(o), t_imp, t_opt


def _torch_imported(name: str, tmp: Path) -> bool:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "compiler", "import",
                           str(FIXTURES / name), "--batch", "64", "-o", str(tmp / "t.pir")],
                          capture_output=True, text=True, cwd=ROOT)
    modules = [line.split("|")[-1].strip() for line in proc.stderr.splitlines()
               if line.startswith("import time:")]
    return any(m == "torch" or m.startswith("torch.") for m in modules)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("fixtures", nargs="*", default=DEFAULT)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        rows = [_row(f, args.repeat, tmp) for f in args.fixtures]
        torch = _torch_imported(args.fixtures[0], tmp)
    print(f"{'fixture':<32} {'onnx nodes':>10} {'ops':>6} {'ops opt':>8} "
          f"{'import s':>9} {'opt s':>7} {'total s':>8}")
    for name, nodes, ops, ops_opt, ti, to in rows:
        print(f"{name:<32} {nodes:>10} {ops:>6} {ops_opt:>8} {ti:>9.3f} {to:>7.3f} "
              f"{ti + to:>8.3f}")
    print(f"\npipeline: {PIPELINE}; best of {args.repeat} whole processes, batch 64")
    print(f"torch imported by `pimc import` (python -X importtime): {'YES' if torch else 'no'}")


if __name__ == "__main__":
    main()
