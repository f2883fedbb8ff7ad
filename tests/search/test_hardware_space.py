"""The hardware space: field paths into a preset, validated values, candidate targets."""

import random
from pathlib import Path

import pytest

import targets
from ir.errors import PimcError
from search.hardware import hardware_figures, load_hw_space, target_file
from targets import load_target


def _space(tmp_path, text):
    path = tmp_path / "hw.yaml"
    path.write_text(text)
    return load_hw_space(path, "isaac")


def test_a_candidate_target_is_the_preset_with_the_chosen_values(tmp_path):
    space = _space(tmp_path, "chip.tile.pe.array.rows: [64, 128]\nchip.tiles: [84, 168]\n"
                             "chip.tile.buffers.edram.size: [32 KiB, 64 KiB]\n")
    hw = {"chip.tile.pe.array.rows": 64, "chip.tiles": 84, "chip.tile.buffers.edram.size": "32 KiB"}
    tgt = load_target(target_file(space, hw, tmp_path / "t"))
    assert tgt.chip.tile.pe.array.rows == 64 and tgt.chip.tiles == 84
    assert tgt.chip.tile.buffers[0].size == 32 * 1024 * 8
    assert tgt.name.startswith("isaac-hw")
    # half the tiles: about half the chip (the HyperTransport links do not scale)
    base = hardware_figures(target_file(space, {}, tmp_path / "t"))
    small = hardware_figures(target_file(space, hw, tmp_path / "t"))
    assert small["chip_area_mm2"] < base["chip_area_mm2"] - 20
    assert space.digest(hw) != space.digest({**hw, "chip.tiles": 168})


def test_sampling_mutation_and_crossover_stay_in_the_space(tmp_path):
    space = _space(tmp_path, "chip.tile.pe.adc.resolution: [4, 6, 8]\nchip.tiles: [84, 168]\n")
    rng = random.Random(0)
    for _ in range(20):
        a, b = space.sample(rng), space.sample(rng)
        for hw in (space.mutate(a, rng), space.crossover(a, b, rng)):
            assert all(hw[p] in values for p, values in space.fields)


@pytest.mark.parametrize("text, expect", [
    ("chip.tile.pe.array.rowz: [64]\n", "no field 'rowz'"),
    ("chip.tile.buffers.sram.size: [1 KiB]\n", "no item named 'sram'"),
    ("chip.tile.pe: [1]\n", "is a group of fields"),
    ("chip.tile.pe.array.rows: [0]\n", "rows = 0"),
    ("chip.tile.pe.array.rows: [128, 99999]\n", "rows = 99999"),
    ("chip.tile.pe.adc.resolution: []\n", "non-empty lists"),
    ("chip.tiles: [1\n", "not valid YAML"),
])
def test_bad_hardware_spaces_are_one_line_errors(tmp_path, text, expect):
    with pytest.raises(PimcError) as err:
        _space(tmp_path, text)
    assert expect in str(err.value) and "\n" not in str(err.value)
    assert "pimc-hw-" not in str(err.value)  # no scratch file names


def test_the_near_miss_valid_value_is_accepted(tmp_path):
    space = _space(tmp_path, "chip.tile.pe.array.rows: [1, 4096]\n")
    assert space.choices["chip.tile.pe.array.rows"] == (1, 4096)


def test_unreadable_hardware_space(tmp_path):
    with pytest.raises(PimcError, match="cannot read"):
        load_hw_space(tmp_path / "missing.yaml", "isaac")


def test_the_base_target_is_parsed_once_and_each_caller_gets_its_own_copy(tmp_path):
    """Parsed once per text (every trial names its target from the base), yet a caller that
    changes what it got does not change what the next caller gets."""
    from search.hardware import _parsed, base_yaml

    _parsed.cache_clear()
    first = base_yaml("isaac")
    first["chip"]["tiles"] = -1
    second = base_yaml("isaac")
    assert second["chip"]["tiles"] == load_target("isaac").chip.tiles
    assert _parsed.cache_info().hits >= 1
    path = tmp_path / "t.yaml"  # a target file edited between calls is parsed again
    path.write_text((Path(targets.__file__).parent / "presets" / "isaac.yaml").read_text())
    tiles = base_yaml(str(path))["chip"]["tiles"]
    path.write_text(path.read_text().replace(f"tiles: {tiles}", "tiles: 12", 1))
    assert base_yaml(str(path))["chip"]["tiles"] == 12
