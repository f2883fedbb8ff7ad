"""The mutation sessions behind bench/mutation.py: a scratch copy of the tree, cosmic-ray's
init, the operators filter, mutants in annotations left out, a seeded sample, the baseline run
and the execution (or, for a rerun, each survivor made again as the very mutant stored)."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "bench" / "mutation_configs"
BIN = Path(sys.executable).parent
SKIPPED_OUTPUT = "not in the sample"
ANNOTATION_OUTPUT = "in a type annotation"


def names(given: list[str]) -> list[str]:
    known = sorted(p.stem for p in CONFIGS.glob("*.toml"))
    bad = [n for n in given if n not in known]
    if bad:
        raise SystemExit(f"unknown session(s) {', '.join(bad)}; accepted: {', '.join(known)}")
    return given or known


def config(name: str) -> dict:
    from cosmic_ray.config import load_config

    return load_config(str(CONFIGS / f"{name}.toml"))


def scratch_copy() -> Path:
    """The committed tree (HEAD) and the untracked files git does not ignore (tests not yet
    committed), copied to a new temp folder: edits in progress elsewhere in the checkout stay
    out of the runs."""
    base = Path(tempfile.mkdtemp(prefix="pimc-mutation-"))
    dest = base / ROOT.name
    dest.mkdir()
    if (ROOT.parent / "shared").is_dir():  # the data the fixture tests read, beside the checkout
        (base / "shared").symlink_to(ROOT.parent / "shared")
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    listed = subprocess.run(["git", "ls-files", "-o", "--exclude-standard", "-z"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        if (ROOT / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)
    return dest


def env() -> dict:
    """`python` in the test command is this venv's."""
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def tool(args: list, cwd: Path) -> None:
    subprocess.run([str(BIN / args[0]), *map(str, args[1:])], cwd=cwd, env=env(), check=True)


def annotation_spans(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) (line, column) of every type annotation in the module at `path`."""
    import ast

    spans = []
    for node in ast.walk(ast.parse(path.read_text())):
        notes = [getattr(node, "returns", None), getattr(node, "annotation", None)]
        spans += [((n.lineno, n.col_offset), (n.end_lineno, n.end_col_offset))
                  for n in notes if isinstance(n, ast.expr)]
    return spans


def skip_annotations(db, root: Path) -> int:
    """Mark skipped the pending mutants inside a type annotation: never evaluated where the
    module has `from __future__ import annotations`, a crash at import where it has not; no
    test's business either way. Returns how many."""
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    spans, hits = {}, []
    for item in db.pending_work_items:
        m = item.mutations[0]
        inside = spans.setdefault(m.module_path, annotation_spans(root / m.module_path))
        if any(a <= tuple(m.start_pos) and tuple(m.end_pos) <= b for a, b in inside):
            hits.append(item.job_id)
    db.set_multiple_results(hits, WorkResult(worker_outcome=WorkerOutcome.SKIPPED,
                                             output=ANNOTATION_OUTPUT))
    return len(hits)


def sample(session: Path, name: str, work: Path, override: int | None = None) -> None:
    """Mark all but the configured seeded sample (or `override` mutants) of the pending
    mutants skipped."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    spec = config(name).get("filters", {}).get("sample", {})
    with use_db(str(session), WorkDB.Mode.open) as db:
        dropped = skip_annotations(db, work)
        # job ids are random: order by what the mutant is, so the same source gives the same draw
        pending = sorted(db.pending_work_items, key=lambda w: [
            (str(m.module_path), m.operator_name, m.occurrence) for m in w.mutations])
        count = override or spec.get("mutants", len(pending))
        keep = set(random.Random(spec.get("seed", 0)).sample(range(len(pending)),
                                                               min(count, len(pending))))
        db.set_multiple_results(
            [w.job_id for i, w in enumerate(pending) if i not in keep],
            WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output=SKIPPED_OUTPUT))
    print(f"{name}: {len(keep)} of {len(pending)} mutants sampled ({dropped} in type "
          "annotations left out)", flush=True)


def baseline(name: str, work: Path) -> None:
    import shlex

    cfg = config(name)
    t = time.perf_counter()
    proc = subprocess.run(shlex.split(cfg["test-command"]), cwd=work, env=env(),
                          capture_output=True, text=True, timeout=cfg["timeout"])
    if proc.returncode != 0:
        raise SystemExit(f"{name}: the tests fail without any mutant:\n{proc.stdout[-2000:]}")
    print(f"{name}: unmutated tests pass in {time.perf_counter() - t:.1f} s", flush=True)


def made_again(item, work: Path) -> str | None:
    """The diff of `item`'s mutant made again in `work` (by operator and occurrence)."""
    from cosmic_ray.mutating import _make_diff, use_mutation
    from cosmic_ray.plugins import get_operator

    m = item.mutations[0]
    with use_mutation(work / m.module_path, get_operator(m.operator_name)(),
                      m.occurrence) as (before, after):
        return "\n".join(_make_diff(before, after, m.module_path)) if after else None


@contextlib.contextmanager
def by_text(item, diff: str, work: Path):
    """Apply a stored mutant by its text (the removed lines, found once, become the added
    ones): the same mutant in a file that has changed elsewhere since the first run."""
    body = [x for x in diff.splitlines()[3:] if x[:1] in "-+" and x[:3] not in ("---", "+++")]
    old = "\n".join(x[1:] for x in body if x[0] == "-") + "\n"
    new = "\n".join(x[1:] for x in body if x[0] == "+") + "\n"
    path = work / item.mutations[0].module_path
    text = path.read_text()
    if text.count(old) != 1:
        raise LookupError(f"{item.mutations[0].module_path}:{item.mutations[0].start_pos[0]}: "
                          "the mutated lines are not in the file once any more (rewritten "
                          "since the first run); its first result stands")
    path.write_text(text.replace(old, new))
    try:
        yield
    finally:
        path.write_text(text)


def test_with(item, diff: str, work: Path, command: str, timeout: float):
    """WorkResult of `item`'s mutant, applied by operator and occurrence when that still
    makes the stored mutant, else by its text."""
    from cosmic_ray.testing import run_tests
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    here = Path.cwd()
    same = made_again(item, work) == diff
    try:
        os.chdir(work)
        if same:
            from cosmic_ray.mutating import mutate_and_test

            return mutate_and_test(item.mutations, command, timeout)
        with by_text(item, diff, work):
            outcome, output = run_tests(command, timeout)
        return WorkResult(worker_outcome=WorkerOutcome.NORMAL, output=output,
                          test_outcome=outcome, diff=diff)
    finally:
        os.chdir(here)


def survivors_of(session: Path) -> list:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome

    with use_db(str(session), WorkDB.Mode.open) as db:
        return sorted(((w, r.diff) for w, r in db.completed_work_items
                       if r.test_outcome == TestOutcome.SURVIVED),
                      key=lambda p: (str(p[0].mutations[0].module_path),
                                     p[0].mutations[0].start_pos))


def execute(name: str, session: Path, fresh: bool, mutants: int | None = None) -> None:
    """A new session (`fresh`), or its survivors run again one by one (each the very mutant
    stored, made by its text where its file has changed since)."""
    from cosmic_ray.work_db import WorkDB, use_db

    work = scratch_copy()
    try:
        cfg_path = CONFIGS / f"{name}.toml"
        if fresh:
            tool(["cosmic-ray", "init", "--force", cfg_path, session], work)
            tool(["cr-filter-operators", session, cfg_path], work)
            sample(session, name, work, mutants)
        items = [] if fresh else survivors_of(session)
        if not fresh:
            print(f"{name}: {len(items)} survivors to run again", flush=True)
        baseline(name, work)
        t = time.perf_counter()
        if fresh:
            tool(["cosmic-ray", "exec", cfg_path, session], work)
        cfg = config(name)
        command = cfg["test-command"].replace("python ", f"{BIN / 'python'} ", 1)
        for item, diff in items:
            try:
                result = test_with(item, diff, work, command, cfg["timeout"])
            except LookupError as gone:
                print(f"{name}: {gone}", flush=True)
                continue
            with use_db(str(session), WorkDB.Mode.open) as db:
                db.set_result(item.job_id, result)
        print(f"{name}: mutants run in {time.perf_counter() - t:.0f} s", flush=True)
    finally:
        shutil.rmtree(work.parent, ignore_errors=True)
