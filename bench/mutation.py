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
import shutil
from pathlib import Path

from _mutation_session import (
    BIN,
    ROOT,
    SKIPPED_OUTPUT,
    config,
    execute,
    names,
    scratch_copy,
    survivors_of,
    test_with,
)


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
