"""The `pimc` command line's parser: every command, its options and their checks, built lazily
(a command's handler and the modules behind it load only when it runs; the search and
training commands are registered only when asked for, see `build_parser`)."""

from __future__ import annotations

import argparse
import math

from compiler import __version__

__all__ = ["DEFAULT_DEADLINE", "EXIT_USER", "build_parser", "command_of"]

EXIT_USER = 2  # bad input: an error of the arguments is one

DEFAULT_DEADLINE = 600.0  # seconds; ASSUMPTION: well past any fixture compile (a few s)


class _Parser(argparse.ArgumentParser):
    """argparse with its errors as one line (no usage block) and exit code 2."""

    def error(self, message: str):
        self.exit(EXIT_USER, f"pimc: error: {self.prog}: {message}\n")


def _number(kind, low: float, strict: bool, what: str):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not {what}") from None
        if not math.isfinite(value) or value < low or (strict and value == low):
            raise argparse.ArgumentTypeError(f"{text}; accepted: {what}")
        return value

    parse.__name__ = what  # argparse names the type in its messages
    return parse


_count = _number(int, 1, False, "an integer >= 1")
_natural = _number(int, 0, False, "an integer >= 0")
_seconds = _number(float, 0.0, True, "a finite number of seconds > 0")


def _add_import(sub) -> None:
    p = sub.add_parser("import", help="import an ONNX model into pimc IR")
    p.add_argument("model", help="the .onnx file")
    p.add_argument("--batch", type=_count, help="bind the symbolic batch dimension (axis 0)")
    p.add_argument("--dim", action="append", default=[], metavar="NAME=N",
                   help="bind a named symbolic dimension (repeatable)")
    p.add_argument("--no-fold", action="store_true",
                   help="fold only what shape attributes need (leave the rest to canonicalize)")
    p.add_argument("-o", "--output", help="the .pir file to write (weights go beside it, .npz)")
    p.set_defaults(func=_lazy("compiler.commands", "cmd_import"))


def _add_opt(sub) -> None:
    p = sub.add_parser("opt", help="run a pass pipeline over pimc IR")
    p.add_argument("input", help="the .pir file ('-' for standard input)")
    p.add_argument("-p", "--pipeline", default="",
                   help="passes, e.g. 'canonicalize,fuse-interactions'")
    p.add_argument("-o", "--output", help="the .pir file to write (default: print)")
    p.add_argument("--print-ir-after-all", action="store_true", help="print IR after each pass")
    p.add_argument("--time-passes", action="store_true", help="print the time of each pass")
    p.add_argument("--no-verify", action="store_true", help="do not verify after each pass")
    p.add_argument("--split-input-file", action="store_true",
                   help="treat '// -----' separated chunks as independent inputs")
    p.set_defaults(func=_lazy("compiler.commands", "cmd_opt"))


def _add_run(sub) -> None:
    p = sub.add_parser("run", help="interpret pimc IR on inputs")
    p.add_argument("input", help="the .pir file")
    p.add_argument("--inputs", required=True, help=".npz with one array per graph argument")
    p.add_argument("-o", "--output", help="save the outputs to this .npz instead of printing")
    p.set_defaults(func=_lazy("compiler.commands", "cmd_run"))


def _add_demo(sub) -> None:
    p = sub.add_parser("demo", help="run the whole flow on the built-in model and data")
    p.add_argument("-o", "--output", default="demo-out", help="folder for what it writes")
    p.add_argument("--batch", type=_count, default=64, help="rows in the synthetic batch")
    p.add_argument("-p", "--pipeline", default=None, help="passes after import")
    p.add_argument("--target", default="hetero", help="the PIM target to compile for")
    p.set_defaults(func=_lazy("compiler.commands", "cmd_demo"))


def _add_compile(sub) -> None:
    from compiler.pipelines import EMIT_CHOICES

    p = sub.add_parser("compile", help="compile an ONNX model to a checked PIM schedule")
    p.add_argument("model", help="the .onnx file")
    p.add_argument("--target", required=True, help="preset name (pimc targets list) or .yaml")
    p.add_argument("--batch", type=_count, help="bind the symbolic batch dimension")
    p.add_argument("--dim", action="append", default=[], metavar="NAME=N",
                   help="bind a named symbolic dimension (repeatable), as pimc import does")
    p.add_argument("--objective", default="throughput", metavar="OBJECTIVE",
                   choices=_Choices("compiler.driver", "OBJECTIVES"),
                   help="what placement optimises: %(choices)s (default: pipelined throughput)")
    p.add_argument("-p", "--pipeline", help="replace the default stages after import")
    p.add_argument("--precision", help="assign-precision options, e.g. 'default=8'")
    p.add_argument("--inputs", help=".npz inputs for the functional check (default: generated)")
    p.add_argument("--profile", metavar="FILE.npz",
                   help="lookup counts per table row (pimc profile): tables are sharded by load "
                   "and their hot rows replicated over the banks (default: uniform lookups)")
    p.add_argument("--emit", choices=EMIT_CHOICES, help="stop after this stage")
    p.add_argument("--time-limit", type=_seconds, default=1.0, help="CP-SAT seconds")
    p.add_argument("--deadline", type=_seconds, default=DEFAULT_DEADLINE,
                   help=f"seconds for the whole compile (default {DEFAULT_DEADLINE:g})")
    p.add_argument("--seed", type=_natural, default=0,
                   help="seed of the placer and of the generated check inputs")
    p.add_argument("--no-check", action="store_true", help="skip the functional check")
    p.add_argument("--compare", default="naive", metavar="naive|none|TARGET,...",
                   help="compile again in the same call for the report's comparison table: "
                   "the naive mapping (cheap), other targets (a full compile each), or none")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.set_defaults(func=_lazy("compiler.commands", "cmd_compile"))


def _add_simulate(sub) -> None:
    p = sub.add_parser("simulate", help="re-simulate and re-check a compiled output folder")
    p.add_argument("input", help="a `pimc compile` output folder (or its mapped.pir)")
    p.set_defaults(func=_lazy("compiler.commands", "cmd_simulate"))


def _add_supernet(sub) -> None:
    from frontend.supernet.cli import add_commands  # registers only; torch loads when run

    add_commands(sub)


def _add_search(sub) -> None:
    from search.cli import add_command  # registers only; optuna and torch load when run

    add_command(sub)


class _Choices:
    """Choices read from their module when first asked for, so that building the parser (for
    `pimc --version` too) does not import the driver and numpy; a metavar keeps argparse
    from listing them before then."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def _items(self) -> tuple:
        import importlib

        return tuple(getattr(importlib.import_module(self.module), self.name))

    def __contains__(self, value: object) -> bool:
        return value in self._items()

    def __iter__(self):
        return iter(self._items())


def _lazy(module: str, name: str):
    """A handler imported only when its command runs (keeps start-up light, torch-free)."""

    def handler(args: argparse.Namespace) -> int:
        import importlib

        return getattr(importlib.import_module(module), name)(args)

    return handler


def _add_targets(sub) -> None:
    p = sub.add_parser("targets", help="list and inspect PIM hardware targets")
    tsub = p.add_subparsers(dest="targets_command", required=True)
    tsub.add_parser("list", help="list the shipped presets").set_defaults(
        func=_lazy("targets.cli", "run_list"))
    show = tsub.add_parser("show", help="show a preset (or a target YAML file)")
    show.add_argument("name", help="preset name or path to a target .yaml")
    show.set_defaults(func=_lazy("targets.cli", "run_show"))


# Registered from their own modules, which cost a few ms to import (10 ms together, of a
# 0.5 s whole-process compile): left out when another command is asked for.
_IMPORTED = (_add_supernet, _add_search)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or (`command`: the one asked for) enough to run it."""
    parser = _Parser(
        prog="pimc", description="Compile recommender models to processing-in-memory hardware.")
    parser.add_argument("--version", action="version", version=f"pimc {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in (_add_import, _add_opt, _add_run, _add_compile, _add_simulate, _add_demo,
                _add_targets, _add_supernet, _add_inputs, _add_profile, _add_zoo,
                _add_export_subnet, _add_search):
        if command is None or add not in _IMPORTED:
            add(sub)
    if command is not None and command not in sub.choices:
        return build_parser()  # one of those, or a typo whose message lists every command
    _show_defaults(parser)
    return parser


def command_of(argv: list[str]) -> str | None:
    """The command word of `argv` (the options before it take no value), if any; None when
    help is asked for before it (`pimc -h compile` shows every command)."""
    for arg in argv:
        if arg in ("-h", "--help"):
            return None
        if not arg.startswith("-"):
            return arg
    return None


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a default only where there is one (not None, False or an empty list)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, []) or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


def _show_defaults(parser: argparse.ArgumentParser) -> None:
    """Every (sub)command's --help shows the defaults (registered parsers included)."""
    parser.formatter_class = _Help
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _show_defaults(child)


def _add_shape_args(p: argparse.ArgumentParser) -> None:
    """--batch and --dim, for a command that reads an ONNX model or IR text."""
    p.add_argument("--batch", type=_count, help="bind the symbolic batch dimension (ONNX)")
    p.add_argument("--dim", action="append", default=[], metavar="NAME=N",
                   help="bind a named symbolic dimension (ONNX; repeatable)")


def _add_profile(sub) -> None:
    p = sub.add_parser("profile", help="count the table rows a model looks up on given inputs "
                       "(for compile --profile)")
    p.add_argument("model", help="the .onnx model or .pir IR file")
    p.add_argument("--inputs", required=True,
                   help=".npz of real inputs (one array per model input; many rows)")
    p.add_argument("-o", "--output", required=True, help="the .npz file to write")
    _add_shape_args(p)
    p.set_defaults(func=_lazy("compiler.tool_commands", "cmd_profile"))


def _add_inputs(sub) -> None:
    p = sub.add_parser("inputs", help="write valid random inputs (.npz) for a model")
    p.add_argument("model", help="the .onnx model or .pir IR file the inputs are for")
    p.add_argument("-o", "--output", required=True, help="the .npz file to write")
    _add_shape_args(p)
    p.add_argument("--seed", type=_natural, default=0, help="the same seed gives the same inputs")
    p.set_defaults(func=_lazy("compiler.tool_commands", "cmd_inputs"))


def _add_zoo(sub) -> None:
    p = sub.add_parser("zoo", help="list and export the PyTorch model zoo (needs torch)")
    zsub = p.add_subparsers(dest="zoo_command", required=True)
    zsub.add_parser("list", help="list the zoo's models").set_defaults(
        func=_lazy("compiler.tool_commands", "cmd_zoo_list"))
    ex = zsub.add_parser("export", help="export a zoo model (seeded weights) to ONNX")
    ex.add_argument("model", help="a name from `pimc zoo list`")
    ex.add_argument("-o", "--output", required=True, help="the .onnx file to write")
    ex.add_argument("--tables", default="1000,500,100,20",
                    help="rows of each embedding table, comma-separated")
    ex.add_argument("--dense", type=_natural, default=13, help="numeric input features")
    ex.add_argument("--embed-dim", type=_count, default=16, help="embedding width")
    ex.add_argument("--exporter", choices=("legacy", "dynamo"), default="legacy",
                    help="torch.onnx exporter (TorchScript-based or torch.export-based)")
    ex.add_argument("--seed", type=_natural, default=0, help="weight initialisation seed")
    ex.set_defaults(func=_lazy("compiler.tool_commands", "cmd_zoo_export"))


def _add_export_subnet(sub) -> None:
    p = sub.add_parser("export-subnet", help="export one architecture of a trained supernet "
                       "to ONNX with its inherited weights (needs torch)")
    p.add_argument("checkpoint", help="a `pimc train-supernet --out` checkpoint (or .best.pt)")
    p.add_argument("-o", "--output", required=True,
                   help="the .onnx file to write (the architecture JSON goes beside it)")
    p.add_argument("--arch", help="architecture JSON file (Arch.to_json)")
    p.add_argument("--sample", type=_natural,
                   help="instead of --arch: draw one architecture of the space with this seed")
    p.add_argument("--exporter", choices=("legacy", "dynamo"), default="legacy",
                   help="torch.onnx exporter")
    p.set_defaults(func=_lazy("compiler.tool_commands", "cmd_export_subnet"))
