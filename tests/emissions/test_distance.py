"""Distance rules of ISO 14083 / GLEC v3 as stated in data/distance_rules.csv."""

from __future__ import annotations

import pytest

from greenlane.emissions.distance import convert_distance_km, gcd_km, sea_route
from greenlane.emissions.errors import InputError
from greenlane.emissions.model import DistanceBasis as B
from greenlane.emissions.model import Mode


def test_gcd_on_wgs84_nanjing_madrid():
    # Nanjing Lukou (NKG) -> Madrid Barajas (MAD): 10,063.7 km on WGS84 (pyproj, CONVENTIONS §4)
    assert gcd_km(31.742, 118.862, 40.472, -3.561) == pytest.approx(10063.7, abs=2.0)


@pytest.mark.parametrize(
    ("mode", "src", "dst", "km", "expected"),
    [
        (Mode.AIR, B.GCD, B.SFD, 1000, 1095),  # GCD + 95 km
        (Mode.ROAD, B.SFD, B.ACTUAL, 100, 105),  # x 1.05
        (Mode.ROAD, B.ACTUAL, B.SFD, 105, 100),
        (Mode.SEA, B.SFD, B.ACTUAL, 1000, 1150),  # x 1.15
        (Mode.RAIL, B.SFD, B.ACTUAL, 700, 700),  # x 1.0
        (Mode.INLAND_WATER, B.SFD, B.ACTUAL, 300, 300),
        (Mode.ROAD, B.GCD, B.ACTUAL, 100, 100 * 1.2 * 1.05),  # detour then DAF
    ],
)
def test_adjustment_rules(mode, src, dst, km, expected):
    out, rules = convert_distance_km(km, mode, src, dst)
    assert out == pytest.approx(expected)
    assert len(rules) == abs(
        [B.GCD, B.SFD, B.ACTUAL].index(dst) - [B.GCD, B.SFD, B.ACTUAL].index(src)
    )


def test_sea_gcd_conversion_is_refused():
    with pytest.raises(InputError):
        convert_distance_km(100, Mode.SEA, B.GCD, B.SFD)


def test_sea_route_round_the_cape_when_suez_closed():
    open_ = sea_route((121.47, 31.23), (-0.32, 39.45))
    closed = sea_route((121.47, 31.23), (-0.32, 39.45), ("northwest", "suez"))
    assert "suez" in open_.passages and "suez" not in closed.passages
    assert closed.distance_km > open_.distance_km + 5000
