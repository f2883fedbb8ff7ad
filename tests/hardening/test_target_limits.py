"""Target files: values validated before any work (positive, finite, bounded), and errors that
never echo the contents of a file that is not a target description."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from targets import TargetError, load_target
from targets.hardware import Target

PRESETS = Path(__file__).resolve().parents[2] / "targets" / "presets"


def _write(tmp_path: Path, edit, preset: str = "isaac") -> Path:
    data = yaml.safe_load((PRESETS / f"{preset}.yaml").read_text())
    edit(data)
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _error(path: Path) -> str:
    with pytest.raises(TargetError) as info:
        load_target(path)
    text = str(info.value)
    assert "\n" not in text
    return text


def _chip(d):
    return d["chip"]


BAD = {
    "zero clock": (lambda d: d.update(clock="0 GHz"), "field 'clock': 0 GHz"),
    "infinite clock": (lambda d: d.update(clock="1e999 GHz"), "field 'clock': 1e999 GHz is not finite"),
    "zero adc rate": (lambda d: _chip(d)["tile"]["pe"]["adc"].update(rate="0 GS/s"),
                      "field 'chip.tile.pe.adc.rate': 0 GS/s"),
    "zero buffer width": (lambda d: _chip(d)["tile"]["buffers"][0].update(width="0 bit"),
                          "field 'chip.tile.buffers[0].width': 0 bit"),
    "zero link bandwidth": (lambda d: _chip(d)["network"].update(link_bandwidth="0 GB/s"),
                            "field 'chip.network.link_bandwidth': 0 GB/s"),
    "zero mesh": (lambda d: _chip(d)["network"].update(dims=[0, 6]),
                  "field 'chip.network.dims[0]': 0 is too small; must be >= 1"),
    "no mesh dims": (lambda d: _chip(d)["network"].update(dims=[]),
                     "field 'chip.network.dims': a mesh has 1 or 2 dimensions, got 0"),
    "1e8 tiles": (lambda d: _chip(d).update(tiles=100_000_000),
                  "field 'chip.tiles': 100000000 is too large; must be <= 16384"),
    "too many crossbars": (lambda d: (_chip(d).update(tiles=16384),
                                      _chip(d)["tile"].update(pes=1024)),
                           "crossbars in all; at most 1048576"),
    "huge rows": (lambda d: _chip(d)["tile"]["pe"]["array"].update(rows=10**9),
                  "field 'chip.tile.pe.array.rows': 1000000000 is too large"),
    "huge precision": (lambda d: d["precision"].update(weights=1000),
                       "field 'precision.weights': 1000 is too large; must be <= 32"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_values_are_refused_naming_field_and_limit(tmp_path: Path, case: str) -> None:
    edit, expected = BAD[case]
    text = _error(_write(tmp_path, edit))
    assert expected in text


def test_values_at_the_limits_are_accepted(tmp_path: Path) -> None:
    def edit(d):
        d.update(clock="1 Hz")
        _chip(d).update(tiles=16384)
        _chip(d)["tile"].update(pes=64)  # 16384 x 64 x 1 crossbars = 1048576, the limit
        _chip(d)["tile"]["pe"].update(arrays=1)
        _chip(d)["network"].update(dims=[128])

    target = load_target(_write(tmp_path, edit))
    assert isinstance(target, Target) and target.clock == 1.0 and target.chip.tiles == 16384


SECRET = "hunter2-s3cr3t-line"
PRIVATE = {
    "shadow": f"root:$6$salt${SECRET}:19000:0:99999:7:::\n_apt:*:{SECRET}:0:99999:7:::\n",
    "key value": f"password: {SECRET}\n",
    "key line": f"{SECRET}: 1\n",
    "nested": f"name: x\nchip: {{tiles: {{{SECRET}: 1}}}}\n",
    "tab": f"a: b\n\t{SECRET}\n",
    "nul": f"x\x00{SECRET}\n",
    "alias": f"a: *{SECRET}\n",
    "escape": f'a: "\\q{SECRET}"\n',
    "json": f'{{"auths": {{"x": {{"auth": "{SECRET}"}}}}}}',
    "long value": f"name: x\nclock: {SECRET * 3}\n",
}


@pytest.mark.parametrize("case", sorted(PRIVATE))
def test_errors_never_echo_a_private_file(tmp_path: Path, case: str) -> None:
    path = tmp_path / "private"
    path.write_text(PRIVATE[case])
    text = _error(path)
    assert SECRET not in text and "s3cr3t" not in text
    assert text.startswith(str(path))


def test_binary_and_huge_and_deep_files_are_one_line_errors(tmp_path: Path) -> None:
    binary = tmp_path / "bin"
    binary.write_bytes(b"\xff\xfe\x00" + SECRET.encode())
    assert "not a UTF-8 text file" in _error(binary)
    huge = tmp_path / "huge.yaml"
    huge.write_text("# " + "x" * (2 << 20))
    assert "larger than" in _error(huge)
    deep = tmp_path / "deep.yaml"
    deep.write_text("name: " + "[" * 5000 + "]" * 5000)
    assert "nested too deeply" in _error(deep)


def test_a_short_value_of_a_target_file_is_still_shown(tmp_path: Path) -> None:
    """Near miss of the rule above: in a real target file the bad value helps the user."""
    text = _error(_write(tmp_path, lambda d: d.update(clock="1.2 GHZ")))
    assert "unknown unit 'GHZ'" in text
