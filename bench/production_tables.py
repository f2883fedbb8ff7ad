"""Compiling a DLRM with production-size tables: wall time and peak RSS against the model's bytes.

    python bench/production_tables.py [--rows kaggle|N] [--targets isaac,hetero]
                                      [--checks none,full] [--batch 8] [--keep DIR]

The model is the zoo's DLRM (13 dense features, bottom MLP 64-16, top MLP 64-32-1, dim 16)
with one embedding bag per Criteo Kaggle categorical field. `--rows kaggle` gives each table
its Criteo Kaggle cardinality, as published with the DLRM reference code (facebookresearch/dlrm,
`bench/dlrm_s_criteo_kaggle.sh` and the MLPerf inference `backend_pytorch_native.py`, "Criteo
Kaggle Display Advertisement Challenge Dataset": ln_emb = 1460, 583, 10131227, ...; the same
list is torchrec's `--num_embeddings_per_feature` for Kaggle): 33.8M rows, the largest 10.1M,
2.16 GB of float32 at dim 16. `--rows N` gives every table N rows.

torch exports the architecture with tiny tables (the legacy exporter's in-memory protobuf is
capped at 2 GB); the tables are then replaced by seeded float32 arrays of the full size and
the model is written with `onnx.save(..., save_as_external_data=True)` into a temporary folder.

Each compile is `python -m compiler compile model.onnx --target T --batch B --compare none
-o OUT` (with `--no-check` for check none) in its own process, started from another folder; its
wall time and peak RSS (os.wait4) are printed with the ratio of peak RSS to the model's bytes.
The model is built in a process of its own too: a compile forked from a process that held the
tables would count that process's pages in its own peak RSS. A failed compile prints its error.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

# Criteo Kaggle cardinalities of the 26 categorical fields (source in the module docstring).
KAGGLE = (1460, 583, 10131227, 2202608, 305, 24, 12517, 633, 3, 93145, 5683, 8351593, 3194,
          27, 14992, 5461306, 10, 5652, 2173, 4, 7046547, 18, 15, 286181, 105, 142572)
DIM, DENSE = 16, 13


def build_model(folder: Path, tables: tuple[int, ...], seed: int = 0) -> Path:
    """The DLRM with `tables` rows per field at `folder`/model.onnx (+ model.onnx.data)."""
    import onnx
    import torch
    from onnx import numpy_helper

    from frontend.zoo import build, export_onnx

    small = build("dlrm", tuple(min(n, 4) for n in tables), num_dense=DENSE, dim=DIM, seed=seed)
    example = (torch.zeros(2, DENSE), torch.zeros(2, len(tables), dtype=torch.long))
    proto = export_onnx(small, example, "legacy")
    rng = np.random.default_rng(seed)
    by_name = {f"embed.tables.{i}.weight": n for i, n in enumerate(tables)}
    for init in proto.graph.initializer:
        if init.name in by_name:  # the zoo's initialisation, at the full size
            table = rng.uniform(-0.05, 0.05, (by_name[init.name], DIM)).astype(np.float32)
            init.CopyFrom(numpy_helper.from_array(table, init.name))
            del table
    path = folder / "model.onnx"
    onnx.save(proto, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
              location="model.onnx.data", size_threshold=1024)
    return path


def measure(model: Path, target: str, check: str, batch: int, work: Path
            ) -> tuple[float, int, str]:
    """(wall seconds, peak RSS bytes, error or "") of one `pimc compile` process started in
    `work`."""
    out = work / f"out-{target}-{check}"
    cmd = [sys.executable, "-m", "compiler", "compile", str(model), "--target", target,
           "--batch", str(batch), "--compare", "none", "-o", str(out)]
    if check == "none":
        cmd.append("--no-check")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    failed = err.strip().splitlines()[-1] if proc.returncode and err.strip() else ""
    return wall, usage.ru_maxrss * 1024, failed  # ru_maxrss is in KiB on Linux


def model_bytes(folder: Path) -> int:
    """The model's bytes on disk (model.onnx and its data file; 0 when there is none)."""
    files = [folder / "model.onnx", folder / "model.onnx.data"]
    return sum(f.stat().st_size for f in files) if all(f.is_file() for f in files) else 0


def _rows(text: str) -> tuple[int, ...]:
    return KAGGLE if text == "kaggle" else (int(text),) * len(KAGGLE)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="kaggle", help="kaggle, or N rows for every table")
    ap.add_argument("--targets", default="isaac,hetero")
    ap.add_argument("--checks", default="none,full")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--keep", help="build the model in this folder and keep it (and reuse "
                    "a model already there)")
    ap.add_argument("--build", help=argparse.SUPPRESS)  # the model-building process
    args = ap.parse_args()
    tables = _rows(args.rows)
    if args.build:
        build_model(Path(args.build), tables)
        return
    with tempfile.TemporaryDirectory(prefix="pimc-production-") as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        if not (args.keep and model_bytes(folder)):
            subprocess.run([sys.executable, __file__, "--rows", args.rows, "--build",
                            str(folder)], check=True)
        model, weights = folder / "model.onnx", model_bytes(folder)
        print(f"model: {len(tables)} tables, {sum(tables):,} rows, dim {DIM}; "
              f"{weights / 1e9:.3f} GB on disk; ready in {time.perf_counter() - t:.1f} s at "
              f"{model}")
        work = Path(tmp) / "work"
        work.mkdir()
        print(f"{'target':<8} {'check':<6} {'model GB':>9} {'wall s':>8} {'peak RSS GB':>12} "
              f"{'RSS/model':>10}")
        for target in args.targets.split(","):
            for check in args.checks.split(","):
                wall, rss, failed = measure(model, target, check, args.batch, work)
                print(f"{target:<8} {check:<6} {weights / 1e9:9.3f} {wall:8.1f} "
                      f"{rss / 1e9:12.2f} {rss / weights:10.2f}"
                      + (f"  FAILED: {failed}" if failed else ""), flush=True)


if __name__ == "__main__":
    main()
