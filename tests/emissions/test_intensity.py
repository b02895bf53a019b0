"""The straight glide path from the 2023 baseline to -20 % in 2030."""

import pytest

from greenlane.emissions.errors import InputError
from greenlane.emissions.intensity import default_target, make_target


def test_glide_path_is_linear():
    t = make_target(2023, 100.0, 2030, 0.20)
    assert t.intensity_g_per_tkm(2023) == 100.0
    assert t.intensity_g_per_tkm(2030) == pytest.approx(80.0)
    assert t.intensity_g_per_tkm(2026) == pytest.approx(100 * (1 - 0.2 * 3 / 7))  # 91.43
    assert t.intensity_g_per_tkm(2035) == pytest.approx(80.0)
    assert len(t.trajectory()) == 8


def test_default_target_from_data():
    t = default_target()
    assert (t.baseline_year, t.target_year, t.reduction_share) == (2023, 2030, 0.20)
    assert t.source


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((2023, -1.0, 2030, 0.2), "baseline_intensity_g_per_tkm"),
        ((2023, 90.0, 2020, 0.2), "target_year"),
        ((2023, 90.0, 2030, 1.5), "reduction_share"),
    ],
)
def test_bad_target(args, field):
    with pytest.raises(InputError) as info:
        make_target(*args)
    assert info.value.field == field
