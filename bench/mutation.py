"""Mutation testing of the compiler's core with cosmic-ray: runs the sessions, prints the scores.

    .venv/bin/python bench/mutation.py run [NAME ...] [--out mutation-out]
    .venv/bin/python bench/mutation.py rerun [NAME ...]     # survivors only, against today's tests
    .venv/bin/python bench/mutation.py report [--out mutation-out]
    .venv/bin/python bench/mutation.py survivors NAME        # the surviving mutants' diffs
    .venv/bin/python bench/mutation.py kills NAME TEST ...   # which TESTs fail on each survivor

One session per file of bench/mutation_configs (NAME is its stem: rules, error_bound, checker,
placement): the modules it mutates and the few test files that cover them, run with one worker,
`-x` and a fixed hypothesis seed. `run` copies the committed tree and the untracked files git
does not ignore to a scratch folder, because cosmic-ray writes each mutant onto the file itself,
and there: `cosmic-ray init`; cosmic-ray's operators filter (the operators each config leaves out);
a seeded sample of `[cosmic-ray.filters.sample] mutants` of what is left (the rest marked
skipped, as cosmic-ray's filters mark theirs; mutants inside type annotations are left out
first: every module here defers annotations, so they are never evaluated); one unmutated run
of the test command, which must pass; `cosmic-ray exec`. The session (sqlite) is kept as
OUT/NAME.sqlite.

`rerun` keeps the first results as OUT/NAME.before.sqlite and runs only the survivors again
(with the test command as the config now says): a test added since cannot revive a killed
mutant. Each survivor is the very mutant stored: where its file has changed since (the
mutant made again by operator and occurrence differs), it is made from its stored diff's
text.

`report` prints, per session, the mutants run (of those left after the operators filter and
the annotations), killed, survived, timeout (cosmic-ray counts a timeout as killed; shown
apart), other (incompetent or no test) and the score = (killed + timeout) / (killed + timeout
+ survived), for the "before" sessions too when there are.
"""

from __future__ import annotations

import argparse
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


def cmd_run(args) -> None:
    args.out.mkdir(parents=True, exist_ok=True)
    for name in names(args.names):
        execute(name, args.out / f"{name}.sqlite", fresh=True, mutants=args.mutants)
    cmd_report(args)


def cmd_rerun(args) -> None:
    for name in names(args.names):
        session = args.out / f"{name}.sqlite"
        before = args.out / f"{name}.before.sqlite"
        if not session.exists():
            raise SystemExit(f"{session}: no session to rerun; `run {name}` first")
        if not before.exists():
            shutil.copy2(session, before)
        execute(name, session, fresh=False)
    cmd_report(args)


def tally(session: Path) -> dict:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    row = dict.fromkeys(("left", "run", "killed", "survived", "timeout", "other", "pending"), 0)
    with use_db(str(session), WorkDB.Mode.open) as db:
        done = {w.job_id: r for w, r in db.completed_work_items}
        for item in db.work_items:
            result = done.get(item.job_id)
            if result is None:
                row["pending"] += 1
                row["left"] += 1
                continue
            if result.worker_outcome == WorkerOutcome.SKIPPED and \
                    result.output != SKIPPED_OUTPUT:
                continue  # the operators filter's or in an annotation: not counted at all
            row["left"] += 1
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                continue
            row["run"] += 1
            if result.test_outcome == TestOutcome.SURVIVED:
                row["survived"] += 1
            elif result.test_outcome == TestOutcome.KILLED:
                row["timeout" if result.output == "timeout" else "killed"] += 1
            else:
                row["other"] += 1
    return row


def table(title: str, sessions: dict[str, Path]) -> None:
    print(f"\n{title}")
    print(f"{'session':12s} {'mutants':>8s} {'of':>5s} {'killed':>7s} {'survived':>9s} "
          f"{'timeout':>8s} {'other':>6s} {'pending':>8s} {'score':>7s}")
    total = dict.fromkeys(("left", "run", "killed", "survived", "timeout", "other", "pending"),
                          0)
    for name, path in sessions.items():
        row = tally(path)
        total = {k: total[k] + row[k] for k in total}
        print(line(name, row))
    if len(sessions) > 1:
        print(line("all", total))


def line(name: str, r: dict) -> str:
    decided = r["killed"] + r["timeout"] + r["survived"]
    score = f"{(r['killed'] + r['timeout']) / decided:7.1%}" if decided else f"{'-':>7s}"
    return (f"{name:12s} {r['run']:8d} {r['left']:5d} {r['killed']:7d} {r['survived']:9d} "
            f"{r['timeout']:8d} {r['other']:6d} {r['pending']:8d} {score}")


def cmd_report(args) -> None:
    have = [n for n in names([]) if (args.out / f"{n}.sqlite").exists()]
    if not have:
        raise SystemExit(f"no sessions in {args.out}; `bench/mutation.py run` first")
    before = {n: args.out / f"{n}.before.sqlite" for n in have
              if (args.out / f"{n}.before.sqlite").exists()}
    if before:
        table("before (first run)", before)
    table("after (survivors run again)" if before else "results",
          {n: args.out / f"{n}.sqlite" for n in have})


def cmd_survivors(args) -> None:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome

    with use_db(str(args.out / f"{args.name}.sqlite"), WorkDB.Mode.open) as db:
        for item, result in sorted(db.completed_work_items, key=lambda p: [
                (str(m.module_path), m.start_pos) for m in p[0].mutations]):
            if result.test_outcome == TestOutcome.SURVIVED:
                m = item.mutations[0]
                print(f"# {m.module_path}:{m.start_pos[0]} {m.operator_name} "
                      f"in {m.definition_name} (job {item.job_id})\n{result.diff}")


def cmd_kills(args) -> None:
    """Each survivor of session NAME, applied in a scratch copy, against only `tests`: which
    of them fail on it (the proof that a new test kills the mutant it was written for)."""
    import re

    from cosmic_ray.work_item import TestOutcome

    session = args.out / f"{args.name}.before.sqlite"
    if not session.exists():
        session = args.out / f"{args.name}.sqlite"
    work = scratch_copy()
    for test in args.tests:  # as they are now, committed or not
        shutil.copy2(ROOT / test, work / test)
    command = (f"{BIN / 'python'} -m pytest -p no:xdist -p no:cacheprovider -q -rf "
               f"--hypothesis-seed=0 {' '.join(args.tests)}")
    try:
        for item, diff in survivors_of(session):
            m = item.mutations[0]
            try:
                result = test_with(item, diff, work, command, config(args.name)["timeout"])
            except LookupError as gone:
                print(gone, flush=True)
                continue
            failed = sorted(set(re.findall(r"^FAILED \S+::(\w+)", result.output or "", re.M)))
            verdict = "killed" if result.test_outcome == TestOutcome.KILLED else "SURVIVED"
            print(f"{m.module_path}:{m.start_pos[0]} {m.operator_name} {verdict}"
                  f"{': ' + ', '.join(failed) if failed else ''}", flush=True)
    finally:
        shutil.rmtree(work.parent, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "mutation-out",
                    help="folder of the sqlite sessions")
    sub = ap.add_subparsers(dest="cmd", required=True)
    for cmd, fn in (("run", cmd_run), ("rerun", cmd_rerun)):
        p = sub.add_parser(cmd)
        p.add_argument("names", nargs="*", help="sessions (config stems); all by default")
        p.set_defaults(fn=fn, mutants=None)
    sub.choices["run"].add_argument("--mutants", type=int,
                                    help="sample this many per session instead (a quick look)")
    sub.add_parser("report").set_defaults(fn=cmd_report)
    p = sub.add_parser("survivors")
    p.add_argument("name")
    p.set_defaults(fn=cmd_survivors)
    p = sub.add_parser("kills", help="which of TESTS fail on each survivor of NAME")
    p.add_argument("name")
    p.add_argument("tests", nargs="+")
    p.set_defaults(fn=cmd_kills)
    args = ap.parse_args()
    args.out = args.out.resolve()
    args.fn(args)


if __name__ == "__main__":
    main()
