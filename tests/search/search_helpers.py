"""Helpers of the search tests: a MovieLens-like slice, and `pimc` in a child process."""

import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC_ROWS = 1200


def write_movielens(folder: Path, rows: int = SPEC_ROWS, seed: int = 0) -> Path:
    """GroupLens ml-100k-format files with learnable user and item effects."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    users, items = 40, 60
    taste = [rng.gauss(0, 1) for _ in range(users + 1)]
    quality = [rng.gauss(0, 1) for _ in range(items + 1)]
    with open(folder / "u.data", "w") as f:
        for _ in range(rows):
            u, i = rng.randint(1, users), rng.randint(1, items)
            rating = max(1, min(5, round(3.3 + taste[u] + quality[i] + rng.gauss(0, 0.7))))
            f.write(f"{u}\t{i}\t{rating}\t{880000000 + rng.randint(0, 10**6)}\n")
    with open(folder / "u.user", "w") as f:
        for u in range(1, users + 1):
            f.write(f"{u}|{rng.randint(18, 70)}|{rng.choice('MF')}|"
                    f"{rng.choice(['student', 'writer', 'other'])}|{rng.randint(10000, 99999)}\n")
    with open(folder / "u.item", "w", encoding="latin-1") as f:
        for i in range(1, items + 1):
            flags = "|".join(str(int(rng.random() < 0.2)) for _ in range(19))
            f.write(f"{i}|Film {i} (19{rng.randint(50, 98)})|01-Jan-19{rng.randint(50, 98)}"
                    f"||http://x|{flags}\n")
    return folder




def pimc(*args: str, **kw):
    """`pimc ARGS` in a child process (the same interpreter and tree)."""
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "compiler", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, **kw)
