"""Sampled NASRec architectures at mixed precisions, compiled end to end on each target.

    .venv/bin/python bench/nasrec_check.py [-n 50] [--targets isaac,hetero] [--seed 0]
                                           [--batch 8] [--json out.jsonl] [--start K]

`-n` architectures drawn (seeded) from the `nasrec` space, whose operators carry per-operator
(weight, activation) precisions of 4, 8 or 16 bits, exported to ONNX from one untrained
supernet (26 small tables: the dense blocks are what varies), then compiled with
`compiler.driver.compile` with the full check: the IR verified after every pass, the schedule
checked, and the functional check (the pim-level interpreter against ONNX Runtime within the
precisions' error bound). One row per (architecture, target): status ("pass", or "FAIL" with
the compiler's one-line error), the op count of the compiled program, the latency in cycles
and the wall seconds of the compile. Failing architectures print their JSON at the end (and
every row goes to `--json` as one JSON object a line), so a failure can be replayed with
`Arch.from_json` and `frontend.supernet.subnet.export`. `--start K` skips the first K
architectures of the same draw (to go on where a run stopped).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

TABLES = (100,) * 26  # small tables: the dense blocks are what the space varies


def sample(n: int, seed: int) -> list:
    """`n` seeded `Arch`es of the `nasrec` space, and the supernet that holds their weights."""
    from frontend.space import get_space
    from frontend.supernet import SuperNet

    space = get_space("nasrec")
    rng = random.Random(seed)
    return [space.sample(rng) for _ in range(n)], SuperNet(space, TABLES, seed=seed)


def check_one(proto, target: str, batch: int) -> dict:
    """Compile `proto` for `target` with the full check; the row's fields."""
    from compiler.driver import compile as compile_model
    from ir.errors import PimcError

    t = time.perf_counter()
    try:
        out = compile_model(proto, target, batch=batch, check="full")
    except PimcError as exc:
        return {"status": "FAIL", "error": str(exc).splitlines()[0],
                "seconds": time.perf_counter() - t}
    except Exception as exc:  # a crash is a finding too: name it, keep going
        return {"status": "CRASH", "error": f"{type(exc).__name__}: {exc}".splitlines()[0],
                "seconds": time.perf_counter() - t}
    passed = bool(out.functional and out.functional.get("passed"))
    return {"status": "pass" if passed else "FAIL",
            "error": "" if passed else "functional check did not run or did not pass",
            "ops": len(out.module.main.ops), "latency": out.report.get("latency_cycles"),
            "seconds": time.perf_counter() - t}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=50, help="architectures to sample")
    ap.add_argument("--targets", default="isaac,hetero")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--json", type=Path, help="also write one JSON row a line here")
    ap.add_argument("--start", type=int, default=0, help="skip the first K architectures")
    args = ap.parse_args()
    from frontend.supernet.subnet import export

    archs, net = sample(args.n, args.seed)
    sink = args.json.open("a" if args.start else "w") if args.json else None
    print(f"nasrec space, seed {args.seed}, batch {args.batch}, check full")
    print(f"{'arch':>5} {'hash':16} {'target':7} {'status':6} {'ops':>5} {'latency':>10} "
          f"{'seconds':>8}  error")
    failures, counts = [], {}
    for k, arch in enumerate(archs):
        if k < args.start:
            continue
        proto = export(arch, supernet=net, batch=args.batch)
        for target in args.targets.split(","):
            row = {"arch": k, "hash": arch.hash(), "target": target,
                   **check_one(proto, target, args.batch)}
            counts[row["status"]] = counts.get(row["status"], 0) + 1
            lat = row.get("latency")
            print(f"{k:5d} {row['hash']:16} {target:7} {row['status']:6} "
                  f"{row.get('ops', '-'):>5} {lat if lat is not None else '-':>10} "
                  f"{row['seconds']:8.2f}  {row['error']}", flush=True)
            if row["status"] != "pass":
                failures.append((row, arch.to_json()))
            if sink:
                sink.write(json.dumps({**row, "json": arch.to_json()}) + "\n")
                sink.flush()
    print("\n" + ", ".join(f"{s}: {c}" for s, c in sorted(counts.items())))
    for row, text in failures:
        print(f"\narch {row['arch']} on {row['target']}: {row['error']}\n{text}")


if __name__ == "__main__":
    main()
