"""`pimc search`: co-search of architecture and hardware with compiled-cost feedback.

    pimc search --space nasrec --data movielens:DIR --target isaac \
        --objectives logloss,latency --strategy evolution --budget 2048 --workers 2 -o out/
    pimc search --resume -o out/

Every input is checked before any training starts (space, data, target, hardware space,
objectives, strategy); a bad one is a one-line error and exit 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ir.errors import PimcError

__all__ = ["add_command", "run"]

DEFAULT_BUDGET = 256


def _say(text: str) -> None:
    print(text, flush=True)


def _options(args):
    from search.evaluate import EvalOptions

    return EvalOptions(batch=args.batch, objective=args.place_objective,
                       placement=args.placement, time_limit=args.time_limit, seed=args.seed,
                       finetune_steps=args.finetune_steps, eval_rows=args.eval_rows,
                       finetune_what=args.finetune_what, check=args.loop_check)


def _check_inputs(args):
    """Everything that can be wrong with the command line, checked without training."""
    from frontend.data import load_splits
    from frontend.space import get_space
    from search.hardware import load_hw_space
    from search.strategies import Strategy
    from targets import load_target

    get_space(args.space)
    load_target(args.target)
    hw = load_hw_space(args.hw_space, args.target)
    strategy = Strategy(args.strategy, args.seed, args.population, args.sample_size,
                        args.crossover)
    opts = _options(args)
    splits = load_splits(args.data, rows=args.rows, max_table=args.max_table, seed=args.seed)
    if len(splits.val) == 0:
        raise PimcError(f"data '{args.data}' has no validation rows; accepted: data with "
                        "enough rows to split, or TRAIN,VAL files")
    return hw, strategy, opts


def _new_config(args, out: Path):
    from search.evaluate import Setup, digest_file
    from search.study import SearchConfig

    objectives = tuple(o.strip() for o in args.objectives.split(",") if o.strip())
    budget = args.budget or DEFAULT_BUDGET
    hw, strategy, opts = _check_inputs(args)
    SearchConfig(args.space, args.target, objectives, strategy, budget, args.workers,
                 Setup("", "", args.data), hw.fields)  # objectives and budget, before training
    checkpoint = Path(args.supernet) if args.supernet else out / "supernet.pt"
    from search import _final

    if not args.supernet:
        _say(f"no --supernet given: training one for {args.supernet_steps} steps first "
             f"({checkpoint})")
        _final.train_quick(args.space, args.data, args.supernet_steps, checkpoint, args.seed,
                           args.rows, args.max_table)
    _final.check_supernet(checkpoint, args.space, args.data, args.rows, args.max_table,
                          args.seed)
    setup = Setup(str(checkpoint.resolve()), digest_file(checkpoint), args.data, args.rows,
                  args.max_table, args.seed, opts)
    return SearchConfig(args.space, args.target, objectives, strategy, budget, args.workers,
                        setup, hw.fields)


def _config(args, out: Path):
    from dataclasses import replace

    from search.study import SearchConfig

    for name in ("supernet_steps", "finetune_steps", "zoo_steps", "final_train_steps"):
        value = getattr(args, name)
        if value is not None and value < 0:
            flag = "--" + name.replace("_", "-")
            raise PimcError(f"{flag} {value}; accepted: a number of training steps >= 0")
    path = out / "config.json"
    if args.resume:
        cfg = SearchConfig.load(path)
        return replace(cfg, budget=args.budget) if args.budget else cfg
    if path.exists():
        raise PimcError(f"{out}: already holds a study; accepted: --resume to continue it, "
                        "or another -o folder")
    for name in ("space", "data", "target"):
        if getattr(args, name) is None:
            raise PimcError(f"--{name} is needed to start a study (or --resume -o FOLDER)")
    out.mkdir(parents=True, exist_ok=True)
    cfg = _new_config(args, out)
    cfg.save(path)
    return cfg


def _outputs(cfg, out: Path, study, args) -> None:
    from search import _final, outputs
    from search.study import open_study

    members = outputs.front_members(study, cfg.objectives)
    train_steps = args.zoo_steps if args.final_train_steps is None else args.final_train_steps
    if not args.no_final:
        _final.finalise(members, cfg.setup, cfg.hw_space(), out, _say, train_steps)
    zoo = _final.zoo_points(cfg.setup, cfg.target, args.zoo_steps, out, _say) \
        if args.zoo_steps else []
    if cfg.objectives[:2] == ("logloss", "latency"):
        _final.zoo_dominance(members, zoo)
        for z in zoo:
            if z.get("dominated_by"):
                by = ", ".join(f"trial {t}" for t in z["dominated_by"])
                _say(f"zoo {z['model']} is dominated on (logloss, latency) by {by}")
            elif "dominated_by" in z:
                _say(f"zoo {z['model']} is not dominated on (logloss, latency) by the front")
    outputs.write_trials_csv(study, out / "trials.csv")
    outputs.write_pareto_json(members, cfg.objectives, out / "pareto.json", zoo)
    series = {"trials": outputs.points_of(study)}
    if (out / "random" / "config.json").exists():
        from search.study import SearchConfig

        rcfg = SearchConfig.load(out / "random" / "config.json")
        series["random search"] = outputs.points_of(open_study(rcfg, out / "random"))
    front = {m["trial"] for m in members}
    series["front"] = [p for p in series["trials"] if p["trial"] in front]
    series["zoo"] = [{**z, "label": z["model"], "title": z["model"]} for z in zoo]
    outputs.write_pareto_html(series, cfg.objectives, out / "pareto.html")
    _say(f"{len(members)} designs on the front; wrote {out / 'pareto.json'}, "
         f"{out / 'trials.csv'}, {out / 'pareto.html'}")


def _random_baseline(cfg, out: Path, budget: int, executor) -> None:
    from dataclasses import replace

    from search.strategies import Strategy
    from search.study import run_study

    sub = out / "random"
    sub.mkdir(exist_ok=True)
    rcfg = replace(cfg, strategy=Strategy("random", cfg.strategy.seed), budget=budget)
    rcfg.save(sub / "config.json")
    _say(f"random-search control: {budget} candidates in {sub}")
    run_study(rcfg, sub, executor, _say, cache=out / "cache")  # shared: same evaluator


def run(args: argparse.Namespace) -> int:
    from search.parallel import make_executor
    from search.study import run_study

    out = Path(args.output)
    cfg = _config(args, out)
    executor = make_executor(args.workers, args.ray)
    try:
        study = run_study(cfg, out, executor, _say)
        if args.random_baseline:
            _random_baseline(cfg, out, args.random_baseline, executor)
    finally:
        executor.close()
    _outputs(cfg, out, study, args)
    return 0


def add_command(sub) -> None:
    """Register `pimc search` (arguments only: nothing heavy is imported here)."""
    p = sub.add_parser("search", help="search architectures and hardware with compiled cost")
    p.add_argument("-o", "--output", required=True, help="the study folder")
    p.add_argument("--resume", action="store_true", help="continue the study in -o")
    p.add_argument("--space", help="search space (nasrec, nasrec-float, tiny, tiny-float)")
    p.add_argument("--data", help="data spec, e.g. movielens:DIR (docs/data.md)")
    p.add_argument("--target", help="base target: preset name or .yaml")
    p.add_argument("--hw-space", help="YAML: target field paths -> choices (docs/search.md)")
    p.add_argument("--objectives", default="logloss,latency",
                   help="comma-separated: logloss, auc, latency, throughput, energy, area, "
                   "chip-area, efficiency")
    p.add_argument("--strategy", default="evolution", help="evolution | nsga2 | random")
    p.add_argument("--budget", type=int, default=0, help="trials (default 256; on --resume: "
                   "the study's own unless given)")
    p.add_argument("--workers", type=int, default=1, help="evaluations at a time")
    p.add_argument("--ray", help="evaluate on Ray: auto | ADDRESS | local")
    p.add_argument("--seed", type=int, default=0, help="sampler seed")
    p.add_argument("--population", type=int, default=20, help="population size")
    p.add_argument("--sample-size", type=int, default=5,
                   help="tournament size of regularized evolution")
    p.add_argument("--crossover", type=float, default=0.3, help="crossover probability")
    p.add_argument("--supernet", help="a trained supernet checkpoint (pimc train-supernet)")
    p.add_argument("--supernet-steps", type=int, default=1500,
                   help="training steps when no --supernet is given")
    p.add_argument("--finetune-steps", type=int, default=100,
                   help="fine-tune steps per candidate before it is scored (0: inherited "
                   "weights as they are)")
    p.add_argument("--finetune-what", default="all",
                   help="what the per-candidate fine-tune trains: all | head")
    p.add_argument("--eval-rows", type=int, default=20_000, help="validation rows per candidate")
    p.add_argument("--batch", type=int, default=64, help="compile batch size")
    p.add_argument("--placement", default="greedy", help="placement solver in the loop")
    p.add_argument("--place-objective", default="latency", help="what placement optimises")
    p.add_argument("--loop-check", default="none",
                   help="the checks on every candidate's compile: none | final (its output) | "
                   "full (after every pass); a candidate that fails one fails its trial")
    p.add_argument("--time-limit", type=float, default=1.0, help="CP-SAT seconds")
    p.add_argument("--rows", type=int, default=50_000, help="rows of synthetic data")
    p.add_argument("--max-table", type=int, default=10_000, help="bound on table sizes")
    p.add_argument("--zoo-steps", type=int, default=1000,
                   help="training steps of each zoo model for the plot (0: no zoo)")
    p.add_argument("--random-baseline", type=int, default=0,
                   help="also run this many random candidates, drawn on the plot")
    p.add_argument("--final-train-steps", type=int, default=None,
                   help="train each front member this many steps from its inherited weights "
                   "before its full compile (default: --zoo-steps; 0: inherited weights)")
    p.add_argument("--no-final", action="store_true",
                   help="skip the full compile of the front members (best/)")
    p.set_defaults(func=run)
