"""``pimc targets list`` and ``pimc targets show NAME|PATH``.

The main CLI calls ``add_commands(subparsers)``; each handler takes the parsed ``args`` and
returns an exit code (2 for a bad target, with a one-line message on stderr).
"""

from __future__ import annotations

import argparse
import sys

from targets.errors import TargetError
from targets.hardware import Target
from targets.loader import list_targets, load_sources, load_target
from targets.rollup import capacity, components, rollup
from targets.sources import Sourced

__all__ = ["add_commands", "describe", "describe_sources", "run_list", "run_show"]

_PRECISIONS = (4, 8, 16)
_NONE = "(no source)"


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``targets list`` and ``targets show NAME`` on an argparse subparsers object."""
    targets = subparsers.add_parser("targets", help="list and inspect PIM hardware targets")
    sub = targets.add_subparsers(dest="targets_command", required=True)
    listing = sub.add_parser("list", help="list the shipped presets")
    listing.set_defaults(func=run_list)
    show = sub.add_parser("show", help="show a preset (or a target YAML file)")
    show.add_argument("name", help="preset name or path to a target .yaml")
    show.set_defaults(func=run_show)


def run_list(args: argparse.Namespace) -> int:
    for name in list_targets():
        target = load_target(name)
        print(f"{name:14s} {target.description}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    try:
        target = load_target(args.name)
        numbers = load_sources(args.name)
    except TargetError as err:
        print(f"pimc: error: {err}", file=sys.stderr)
        return 2
    print(describe(target))
    print(describe_sources(numbers))
    return 0


def describe(target: Target) -> str:
    """The text ``targets show`` prints: hierarchy, capacities, peak throughput, roll-up."""
    node = f"{target.technology * 1e9:g} nm" if target.technology else "unknown node"
    lines = [f"{target.name}: {target.description}",
             f"  technology {node}, clock {target.clock / 1e6:g} MHz, "
             f"weights {target.weights}, default precision "
             f"w{target.precision.weights}/a{target.precision.activations}"]
    lines += _hierarchy(target)
    lines.append("  capacity (weights that fit):")
    for bits in _PRECISIONS:
        fits = ", ".join(f"{k} {v:,}" for k, v in capacity(target, bits).items())
        lines.append(f"    {bits:2d}-bit: {fits}")
    roll = rollup(target)
    peaks = ", ".join(f"{k} {v / 1e12:.3f} TOPS" for k, v in roll.peak_ops.items())
    lines.append(f"  peak throughput: {peaks}")
    lines.append(f"  area {roll.area:.4f} mm2, peak power {roll.power:.4f} W, "
                 f"leakage {roll.leakage:.4f} W")
    for row in components(target):
        area, power = row.count * row.part.area, row.count * row.part.power
        if area or power:
            lines.append(f"    {row.name:34s} x{row.count:<7d} {area:10.4f} mm2 {power:10.4f} W")
    return "\n".join(lines)


def describe_sources(numbers: tuple[Sourced, ...]) -> str:
    """Every number of the file, as written, with its source; '(no source)' where the file
    gives neither a comment nor a component `source:`, and a closing count of those."""
    lines = ["  numbers and their sources (the YAML comment beside each number; [component]: "
             "the component's `source:` field; D: derived by the arithmetic shown):"]
    field = max((len(n.field) for n in numbers), default=0)
    value = max((len(n.value) for n in numbers), default=0)
    for number in numbers:
        source = number.source or _NONE
        if number.inherited:
            source = f"[component] {source}"
        lines.append(f"    {number.field:{field}s}  {number.value:{value}s}  {source}")
    missing = [n.field for n in numbers if not n.source]
    if missing:
        lines.append(f"  {len(missing)} of {len(numbers)} numbers have {_NONE}: "
                     f"{', '.join(missing)}")
    else:
        lines.append(f"  all {len(numbers)} numbers cite a source or state an ASSUMPTION")
    return "\n".join(lines)


def _hierarchy(target: Target) -> list[str]:
    lines = []
    chip = target.chip
    if chip is not None:
        pe, array = chip.tile.pe, chip.tile.pe.array
        lines.append(f"  chip: {chip.tiles} tiles x {chip.tile.pes} PEs x {pe.arrays} arrays of "
                     f"{array.rows}x{array.columns} {array.technology} {array.imc_type}, "
                     f"{array.cell_bits} bit/cell, signed: {array.signed_weights}")
        if pe.adc is not None:
            lines.append(f"    ADC {pe.adc.resolution} bit x{pe.adc.per_array} per array, "
                         f"{pe.adc.rate / 1e9:g} GS/s")
        if pe.dac is not None:
            lines.append(f"    DAC {pe.dac.resolution} bit x{pe.dac.per_array} per array")
    if target.dram is not None:
        near = target.dram.near_bank
        lines.append(f"  dram: {target.dram.banks} banks, {near.count} near-bank units x "
                     f"{near.lanes} lanes {'/'.join(near.dtypes)} @ {near.clock / 1e6:g} MHz")
    return lines
