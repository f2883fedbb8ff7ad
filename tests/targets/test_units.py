import pytest

from targets._units import UnitError, parse_quantity


@pytest.mark.parametrize("text, dim, value", [
    ("2.0 pJ", "energy", 2e-12), ("64 KiB", "size", 64 * 1024 * 8), ("1.2 GHz", "frequency", 1.2e9),
    ("0.0012 mm2", "area", 0.0012), ("1200 um2", "area", 0.0012), ("700 pJ/B", "energy_per_bit",
    87.5e-12), ("25.6 GB/s", "bandwidth", 204.8e9), ("1e-3 W", "power", 1e-3), ("100ns", "time",
    1e-7),
])
def test_parse(text, dim, value):
    assert parse_quantity(text, dim) == pytest.approx(value)


@pytest.mark.parametrize("text, message", [
    ("2 parsecs", "unknown unit 'parsecs'"), ("pJ", "cannot read 'pJ'"), (2, "missing unit"),
    ([1], "got list"),
])
def test_errors_list_accepted_units(text, message):
    with pytest.raises(UnitError, match=message) as info:
        parse_quantity(text, "energy")
    assert "accepted units: fJ, pJ, nJ" in str(info.value)
