"""Presets load; bad target files fail with one line naming the file and the field."""

import argparse
from pathlib import Path

import pytest
import yaml

from ir.errors import PimcError
from targets import PRESETS, TargetError, list_targets, load_target
from targets.cli import add_commands
from targets.loader import safe_load

PRESET_DIR = Path(__file__).resolve().parents[2] / "targets" / "presets"
EXPECTED = {"aim", "hbm-pim", "hetero", "isaac", "puma", "zigzag-aimc", "zigzag-dimc"}


def test_registry_keys_equal_preset_names():
    assert set(list_targets()) == EXPECTED
    for key in PRESETS:
        assert PRESETS[key]().name == key


@pytest.mark.parametrize("preset", sorted(EXPECTED))
def test_loader_parses_as_pyyaml_safe_load(preset):
    """The loader's parser (libyaml where PyYAML has it) reads every preset as PyYAML's own
    safe_load does, and a YAML scalar libyaml and the Python parser could read differently."""
    text = (PRESET_DIR / f"{preset}.yaml").read_text()
    assert safe_load(text) == yaml.safe_load(text)
    odd = "a: 0x1f\nb: 1_000\nc: .5e3\nd: yes\ne: ~\nf: 2024-01-01\n"
    assert safe_load(odd) == yaml.safe_load(odd)


def test_unknown_name_lists_presets():
    with pytest.raises(TargetError, match="known presets: aim, hbm-pim"):
        load_target("tpu")


def _bad(tmp_path, edit) -> Path:
    data = yaml.safe_load((PRESET_DIR / "isaac.yaml").read_text())
    edit(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _pe(data):
    return data["chip"]["tile"]["pe"]


CASES = {
    "missing": (lambda d: _pe(d)["array"].pop("rows"),
                "field 'chip.tile.pe.array.rows': missing required field"),
    "negative": (lambda d: d["chip"]["tile"]["buffers"][0].update(size="-64 KiB"),
                 "field 'chip.tile.buffers[0].size': negative size"),
    "unit": (lambda d: _pe(d)["adc"].update(energy="1.5 pj"),
             "field 'chip.tile.pe.adc.energy': unknown unit 'pj' for a energy; accepted units: fJ, pJ"),
    "no_unit": (lambda d: d.update(clock=1.2),
                "field 'clock': missing unit on 1.2; accepted units: Hz, kHz, MHz, GHz"),
    "type": (lambda d: _pe(d).update(arrays="eight"),
             "field 'chip.tile.pe.arrays': expected a whole number, got str 'eight'"),
    "choice": (lambda d: _pe(d)["array"].update(technology="pcm"),
               "field 'chip.tile.pe.array.technology': 'pcm' is not accepted; accepted values: "
               "reram, sram"),
    "unknown_field": (lambda d: d.update(colour="red"), "field 'colour': unknown field"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_file_names_file_and_field(tmp_path, case):
    edit, message = CASES[case]
    path = _bad(tmp_path, edit)
    with pytest.raises(PimcError) as info:
        load_target(path)
    text = str(info.value)
    assert text.startswith(f"{path}: ")
    assert message in text
    assert "\n" not in text


def test_yaml_syntax_error_has_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nchip: [1, 2\n")
    with pytest.raises(TargetError, match=r"broken.yaml:\d+:\d+: not valid YAML"):
        load_target(path)


def _parse(argv):
    parser = argparse.ArgumentParser(prog="pimc")
    add_commands(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_cli_show_bad_file_exits_2(tmp_path, capsys):
    path = _bad(tmp_path, CASES["unit"][0])
    args = _parse(["targets", "show", str(path)])
    assert args.func(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "chip.tile.pe.adc.energy" in err and str(path) in err


def test_cli_show_preset(capsys):
    args = _parse(["targets", "show", "isaac"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "168 tiles x 12 PEs x 8 arrays of 128x128 reram analog" in out
    assert "16-bit: crossbar 33,030,144" in out
    # ISAAC's Table I components plus the assumed PUMA VFU per tile (isaac.yaml).
    assert "area 86.1017 mm2, peak power 66.1271 W" in out
    assert "crossbar 40.968 TOPS" in out


def test_cli_show_accepts_a_path(capsys):
    args = _parse(["targets", "show", str(PRESET_DIR / "puma.yaml")])
    assert args.func(args) == 0
    assert capsys.readouterr().out.startswith("puma: ")


def test_cli_list(capsys):
    args = _parse(["targets", "list"])
    assert args.func(args) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names == sorted(EXPECTED)
