"""Every number of a target file is shown with its source; a number without one is named."""

import argparse
import re
from pathlib import Path

import pytest
import yaml

from targets import list_targets
from targets.cli import add_commands
from targets.hardware import Target
from targets.loader import load_sources
from targets.sources import line_comments, read_sources

PRESET_DIR = Path(__file__).resolve().parents[2] / "targets" / "presets"


def _show(name: str, capsys) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="pimc")
    add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["targets", "show", name])
    code = args.func(args)
    return code, capsys.readouterr().out


@pytest.mark.parametrize("preset", list_targets())
def test_every_preset_number_has_a_source(preset):
    numbers = load_sources(preset)
    assert len(numbers) > 10
    assert [n.field for n in numbers if not n.source] == []


def test_show_prints_each_number_with_its_source(capsys):
    code, out = _show("isaac", capsys)
    assert code == 0
    assert re.search(r"^    chip\.tile\.pe\.adc\.resolution +8 +\[ISAAC-tx\] Table I, §V$", out,
                     re.M)
    assert re.search(r"^    chip\.tile\.units\[max_pool\]\.power +0\.4 mW +\[component\] "
                     r"ISAAC Table I$", out, re.M)
    # a comment continued on the next line is shown whole
    assert "from 4 to 8 b" not in out  # scaling is a word, not a number: not listed
    assert re.search(r"hop_latency +1 ns +ASSUMPTION: .* one cycle of the 1 GHz", out)
    assert re.search(r"all \d+ numbers cite a source or state an ASSUMPTION", out)


def _copy_without(tmp_path, needle: str, replacement: str) -> Path:
    text = (PRESET_DIR / "isaac.yaml").read_text()
    assert text.count(needle) == 1
    path = tmp_path / "isaac-copy.yaml"
    path.write_text(text.replace(needle, replacement))
    return path


def test_a_removed_comment_is_reported(tmp_path, capsys):
    path = _copy_without(tmp_path, "tiles: 168                 # [ISAAC-tx] §VII, Table I (14 x 12)",
                         "tiles: 168")
    missing = [n.field for n in load_sources(path) if not n.source]
    assert missing == ["chip.tiles"]
    code, out = _show(str(path), capsys)
    assert code == 0
    assert re.search(r"^    chip\.tiles +168 +\(no source\)$", out, re.M)
    assert re.search(r"^  1 of \d+ numbers have \(no source\): chip\.tiles$", out, re.M)


def test_without_its_comment_a_number_falls_back_to_its_component_source(tmp_path):
    path = _copy_without(tmp_path, "resolution: 8        # [ISAAC-tx] Table I, §V",
                         "resolution: 8")
    numbers = {n.field: n for n in load_sources(path)}
    adc = numbers["chip.tile.pe.adc.resolution"]
    assert adc.inherited and adc.source.startswith("ISAAC Table I (1.56 pJ per conversion)")


def test_a_removed_component_source_is_reported(tmp_path):
    path = _copy_without(tmp_path, ", source: ISAAC Table I}\n      - {name: max_pool", "}\n"
                         "      - {name: max_pool")
    missing = [n.field for n in load_sources(path) if not n.source]
    assert missing == ["chip.tile.units[tile_shift_add].count",
                       "chip.tile.units[tile_shift_add].area",
                       "chip.tile.units[tile_shift_add].power"]


def test_a_file_without_comments_shows_no_source(tmp_path, capsys):
    data = yaml.safe_load((PRESET_DIR / "puma.yaml").read_text())
    path = tmp_path / "plain.yaml"
    path.write_text(yaml.safe_dump(data))
    numbers = load_sources(path)
    components = [n for n in numbers if n.inherited]  # puma's `source:` fields still count
    assert numbers and components
    assert all(n.source == "" for n in numbers if not n.inherited)
    code, out = _show(str(path), capsys)
    assert code == 0
    assert re.search(r"^    clock +1 GHz +\(no source\)$", out, re.M)


def test_hash_inside_a_quoted_value_is_not_a_comment():
    text = ('name: "x # not a comment"\nclock: "1 GHz"   # the real one\n'
            'weights: resident\nprecision: {weights: 8, activations: 8}\n'
            'dram: {banks: 2, bank_size: 1 MiB, row_size: 8 bit, column_width: 8 bit,\n'
            '       row_cycle: 1 ns, column_cycle: 1 ns, access_energy: 1 pJ/bit,\n'
            '       near_bank: {count: 1, lanes: 1, clock: 1 GHz, energy: 1 pJ,\n'
            '                   source: "table # 3"}}')  # no newline at the end
    numbers = {n.field: n for n in read_sources(text, Target)}
    assert numbers["clock"].source == "the real one"
    assert numbers["dram.near_bank.energy"].source == "table # 3"
    assert numbers["dram.near_bank.energy"].inherited
    assert numbers["dram.banks"].source == ""
    assert line_comments(text + "  # last") == {1: "the real one", 7: "last"}


def test_continuation_lines_join_but_headings_do_not():
    text = ("a:\n"
            "  b: 1   # first part\n"
            "         # second part\n"
            "  # a heading, not a continuation\n"
            "  c: 2\n"
            "  d: 3   # alone\n"
            "\n"
            "         # after a blank line: not a continuation\n")
    assert line_comments(text) == {1: "first part second part", 5: "alone"}
