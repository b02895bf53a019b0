"""Build ``data/lane_segments.csv``: the share of each lane's km in each country / grid region.

Electric trains and battery trucks on a lane crossing several grids are charged per grid for
the km in each (``routing.network.segments``). No published per-country km split of the
China-Europe corridors was found, so the shares are **derived** (data_quality DER):

- rail corridors: the route is the chain of towns the trains are reported to pass (the
  ``ROUTES`` below, each town with its source in ``TOWN_SOURCE``); each hop between towns is a
  great circle, cut every ``STEP_KM`` and each piece assigned to the country whose polygon
  holds its midpoint (Natural Earth 1:110m admin-0 countries, public domain, as shipped in
  the ``pyogrio`` test fixtures of this environment). Inside China, where the 1:110m layer has
  no provinces, a hop's km go to the MEE grid region of its first town; towns at the
  boundaries between regions are in the chain so that a hop never spans two regions.
- road lanes with battery trucks: the lane's own great-circle line, cut the same way (only
  lanes crossing more than one country, outside China).

Share = km in the country / km of the whole chain; the lane's own length
(``lanes.csv``/rule) is then split by these shares. Offline and deterministic::

    /work/main/.venv/bin/python data/build/build_lane_segments.py   # writes data/lane_segments.csv
"""

from __future__ import annotations

import csv
import itertools
import math
import sys
from collections import defaultdict
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent
STEP_KM = 5.0
"""Length of the pieces a hop is cut into [km]."""
COLUMNS = (
    "lane_id",
    "country",
    "grid_region",
    "share_km",
    "method",
    "data_quality",
    "source",
    "date",
    "licence",
    "note",
)
NE_SOURCE = "Natural Earth 1:110m admin-0 countries (public domain), pyogrio test fixture"
LICENCE = "derived (project data); Natural Earth: public domain"
DATE = "2026-12-06"

# Towns (lon, lat) [deg]; CN towns carry the MEE grid region of their province.
T: dict[str, tuple[float, float, str]] = {
    # China
    "Chongqing": (106.54, 29.53, "CN-Southwest"),
    "Dazhou": (107.47, 31.21, "CN-Southwest"),
    "Wanyuan": (108.04, 32.07, "CN-Southwest"),
    "Ankang": (109.03, 32.68, "CN-Northwest"),
    "Xi'an": (108.94, 34.34, "CN-Northwest"),
    "Baoji": (107.14, 34.36, "CN-Northwest"),
    "Lanzhou": (103.83, 36.06, "CN-Northwest"),
    "Wuwei": (102.64, 37.93, "CN-Northwest"),
    "Jiayuguan": (98.29, 39.77, "CN-Northwest"),
    "Hami": (93.51, 42.82, "CN-Northwest"),
    "Turpan": (89.19, 42.95, "CN-Northwest"),
    "Urumqi": (87.62, 43.83, "CN-Northwest"),
    "Jinghe": (82.90, 44.60, "CN-Northwest"),
    "Alashankou": (82.56, 45.17, "CN-Northwest"),
    "Yining": (81.30, 43.90, "CN-Northwest"),
    "Khorgos": (80.41, 44.21, "CN-Northwest"),
    "Yiwu": (120.08, 29.31, "CN-East"),
    "Hangzhou": (120.16, 30.27, "CN-East"),
    "Hefei": (117.23, 31.82, "CN-East"),
    "Fuyang": (115.81, 32.89, "CN-East"),
    "Zhoukou": (114.65, 33.62, "CN-Central"),
    "Zhengzhou": (113.62, 34.75, "CN-Central"),
    "Sanmenxia": (111.20, 34.77, "CN-Central"),
    "Tongguan": (110.25, 34.54, "CN-Northwest"),
    "Changsha": (112.97, 28.19, "CN-Central"),
    "Wuhan": (114.30, 30.59, "CN-Central"),
    "Anyang": (114.35, 36.10, "CN-North"),
    "Shijiazhuang": (114.51, 38.04, "CN-North"),
    "Beijing": (116.40, 39.90, "CN-North"),
    "Zhangjiakou": (114.88, 40.82, "CN-North"),
    "Jining (Ulanqab)": (113.10, 41.03, "CN-North"),
    "Erenhot": (111.98, 43.65, "CN-North"),
    "Nanjing": (118.80, 32.06, "CN-East"),
    "Xuzhou": (117.18, 34.26, "CN-East"),
    "Jinan": (117.00, 36.65, "CN-North"),
    # Kazakhstan, Mongolia, Russia, Belarus
    "Dostyk": (82.50, 45.25, ""),
    "Altynkol": (80.30, 44.20, ""),
    "Zhetygen": (77.20, 43.60, ""),
    "Ushtobe": (77.98, 45.25, ""),
    "Aktogay": (79.98, 46.95, ""),
    "Karaganda": (73.10, 49.80, ""),
    "Astana": (71.43, 51.13, ""),
    "Kokshetau": (69.39, 53.28, ""),
    "Petropavl": (69.15, 54.87, ""),
    "Kurgan": (65.34, 55.44, ""),
    "Chelyabinsk": (61.40, 55.16, ""),
    "Ufa": (55.96, 54.73, ""),
    "Samara": (50.10, 53.20, ""),
    "Penza": (45.00, 53.20, ""),
    "Ryazan": (39.70, 54.63, ""),
    "Moscow": (37.62, 55.75, ""),
    "Smolensk": (32.05, 54.78, ""),
    "Orsha": (30.40, 54.50, ""),
    "Minsk": (27.56, 53.90, ""),
    "Baranovichi": (26.00, 53.13, ""),
    "Brest": (23.69, 52.10, ""),
    "Zamyn-Uud": (111.90, 43.72, ""),
    "Sainshand": (110.15, 44.89, ""),
    "Choir": (108.36, 46.36, ""),
    "Ulaanbaatar": (106.92, 47.92, ""),
    "Darkhan": (105.97, 49.47, ""),
    "Sukhbaatar": (106.20, 50.23, ""),
    "Naushki": (106.12, 50.38, ""),
    "Ulan-Ude": (107.60, 51.83, ""),
    "Irkutsk": (104.30, 52.29, ""),
    "Tayshet": (98.00, 55.94, ""),
    "Krasnoyarsk": (92.87, 56.01, ""),
    "Novosibirsk": (82.92, 55.03, ""),
    "Omsk": (73.37, 54.99, ""),
    "Ishim": (69.48, 56.11, ""),
    "Tyumen": (65.53, 57.15, ""),
    "Yekaterinburg": (60.60, 56.84, ""),
    "Kazan": (49.10, 55.80, ""),
    "Nizhny Novgorod": (44.00, 56.33, ""),
    # EU
    "Malaszewicze": (23.53, 52.03, ""),
    "Warsaw": (21.01, 52.23, ""),
    "Poznan": (16.93, 52.41, ""),
    "Frankfurt (Oder)": (14.55, 52.35, ""),
    "Berlin": (13.40, 52.52, ""),
    "Magdeburg": (11.63, 52.13, ""),
    "Hannover": (9.73, 52.37, ""),
    "Dortmund": (7.47, 51.51, ""),
    "Duisburg": (6.72, 51.43, ""),
    "Hamburg": (9.99, 53.55, ""),
    "Cologne": (6.96, 50.94, ""),
    "Aachen": (6.08, 50.78, ""),
    "Liege": (5.57, 50.63, ""),
    "Aulnoye": (3.85, 50.20, ""),
    "Paris": (2.35, 48.86, ""),
    "Orleans": (1.90, 47.90, ""),
    "Bordeaux": (-0.58, 44.84, ""),
    "Irun": (-1.79, 43.34, ""),
    "Burgos": (-3.70, 42.34, ""),
    "Valladolid": (-4.72, 41.65, ""),
    "Madrid": (-3.70, 40.42, ""),
}

CN_XAN_ALA = ["Xi'an", "Baoji", "Lanzhou", "Wuwei", "Jiayuguan", "Hami", "Turpan", "Urumqi"]
CN_CKG_XAN = ["Chongqing", "Dazhou", "Wanyuan", "Ankang", "Xi'an"]
CN_YIWU_XAN = ["Yiwu", "Hangzhou", "Hefei", "Fuyang", "Zhoukou", "Zhengzhou", "Sanmenxia"]
CN_CSX_ZZ = ["Changsha", "Wuhan", "Zhengzhou"]
TO_ALA = ["Jinghe", "Alashankou"]
TO_KHO = ["Jinghe", "Yining", "Khorgos"]
TO_ERE_FROM_ZZ = ["Anyang", "Shijiazhuang", "Beijing", "Zhangjiakou", "Jining (Ulanqab)", "Erenhot"]
KZ_RU_BY = [
    "Aktogay",
    "Karaganda",
    "Astana",
    "Kokshetau",
    "Petropavl",
    "Kurgan",
    "Chelyabinsk",
    "Ufa",
    "Samara",
    "Penza",
    "Ryazan",
    "Moscow",
    "Smolensk",
    "Orsha",
    "Minsk",
    "Baranovichi",
    "Brest",
    "Malaszewicze",
]
ALA_MAL = ["Alashankou", "Dostyk", *KZ_RU_BY]
KHO_MAL = ["Khorgos", "Altynkol", "Zhetygen", "Ushtobe", *KZ_RU_BY]
ERE_MAL = [
    "Erenhot",
    "Zamyn-Uud",
    "Sainshand",
    "Choir",
    "Ulaanbaatar",
    "Darkhan",
    "Sukhbaatar",
    "Naushki",
    "Ulan-Ude",
    "Irkutsk",
    "Tayshet",
    "Krasnoyarsk",
    "Novosibirsk",
    "Omsk",
    "Ishim",
    "Tyumen",
    "Yekaterinburg",
    "Kazan",
    "Nizhny Novgorod",
    "Moscow",
    "Smolensk",
    "Orsha",
    "Minsk",
    "Baranovichi",
    "Brest",
    "Malaszewicze",
]
MAL_BER = ["Malaszewicze", "Warsaw", "Poznan", "Frankfurt (Oder)", "Berlin"]
BER_DUI = ["Berlin", "Magdeburg", "Hannover", "Dortmund", "Duisburg"]
DUI_MAD = [
    "Duisburg",
    "Cologne",
    "Aachen",
    "Liege",
    "Aulnoye",
    "Paris",
    "Orleans",
    "Bordeaux",
    "Irun",
    "Burgos",
    "Valladolid",
    "Madrid",
]


def _join(*parts: list[str]) -> list[str]:
    out: list[str] = []
    for p in parts:
        out += p if not out or out[-1] != p[0] else p[1:]
    return out


ROUTES: dict[str, tuple[list[str], str]] = {
    "RAIL-CNXAN-X-ALASHANKOU": (_join(CN_XAN_ALA, TO_ALA), "Lanxin/Northern Xinjiang lines"),
    "RAIL-CNXAN-X-KHORGOS": (_join(CN_XAN_ALA, TO_KHO), "Lanxin line, Jinghe-Khorgos line"),
    "RAIL-CNCKG-X-ALASHANKOU": (_join(CN_CKG_XAN, CN_XAN_ALA, TO_ALA), "Yuxinou via Xi'an"),
    "RAIL-CNCKG-X-KHORGOS": (_join(CN_CKG_XAN, CN_XAN_ALA, TO_KHO), "Yuxinou via Xi'an"),
    "RAIL-R-YIWU-X-ALASHANKOU": (
        _join(CN_YIWU_XAN, ["Sanmenxia", "Tongguan", "Xi'an"], CN_XAN_ALA, TO_ALA),
        "assumed: Yiwu-Hefei-Zhengzhou-Xi'an, then the Lanxin line",
    ),
    "RAIL-R-YIWU-X-KHORGOS": (
        _join(CN_YIWU_XAN, ["Sanmenxia", "Tongguan", "Xi'an"], CN_XAN_ALA, TO_KHO),
        "assumed: Yiwu-Hefei-Zhengzhou-Xi'an, then the Lanxin line",
    ),
    "RAIL-R-YIWU-X-ERENHOT": (
        _join(
            ["Yiwu", "Hangzhou", "Nanjing", "Xuzhou", "Jinan", "Beijing"],
            ["Beijing", "Zhangjiakou", "Jining (Ulanqab)", "Erenhot"],
        ),
        "assumed: Yiwu-Nanjing-Jinan-Beijing-Jining-Erenhot",
    ),
    "RAIL-CNCSX-X-ERENHOT": (
        _join(CN_CSX_ZZ, ["Zhengzhou", *TO_ERE_FROM_ZZ]),
        "assumed: Beijing-Guangzhou line to Beijing, then Jining-Erenhot",
    ),
    "RAIL-CNCSX-X-ALASHANKOU": (
        _join(CN_CSX_ZZ, ["Zhengzhou", "Sanmenxia", "Tongguan", "Xi'an"], CN_XAN_ALA, TO_ALA),
        "assumed: Changsha-Wuhan-Zhengzhou-Xi'an, then the Lanxin line",
    ),
    "RAIL-X-ALASHANKOU-X-MALASZEWICZE": (ALA_MAL, "Dostyk-Astana-Petropavl-Moscow-Minsk-Brest"),
    "RAIL-X-KHORGOS-X-MALASZEWICZE": (KHO_MAL, "Altynkol-Aktogay-Astana-Moscow-Minsk-Brest"),
    "RAIL-X-ERENHOT-X-MALASZEWICZE": (ERE_MAL, "Trans-Mongolian, Trans-Siberian, Moscow-Brest"),
    "RAIL-X-MALASZEWICZE-DEDUI": (_join(MAL_BER, BER_DUI), "Warsaw-Berlin-Duisburg"),
    "RAIL-X-MALASZEWICZE-DEHAM": (_join(MAL_BER, ["Berlin", "Hamburg"]), "Warsaw-Berlin-Hamburg"),
    "RAIL-CNXAN-DEDUI": (
        _join(CN_XAN_ALA, TO_ALA, ALA_MAL, MAL_BER, BER_DUI),
        "X8155 via Alashankou (shiphub.co, lanes.csv source)",
    ),
    "RAIL-CNCKG-DEDUI": (
        _join(CN_CKG_XAN, CN_XAN_ALA, TO_ALA, ALA_MAL, MAL_BER, BER_DUI),
        "Yuxinou: Chongqing, Xi'an, Lanzhou, Urumqi, Alataw Pass, Kazakhstan, Russia, Belarus, "
        "Poland, Duisburg (China Daily 2013-09-13; Wikipedia 'Chongqing-Xinjiang-Europe railway')",
    ),
    "RAIL-R-YIWU-ESMAD": (
        _join(
            CN_YIWU_XAN,
            ["Sanmenxia", "Tongguan", "Xi'an"],
            CN_XAN_ALA,
            TO_ALA,
            ALA_MAL,
            MAL_BER,
            BER_DUI,
            DUI_MAD,
        ),
        "Yiwu-Madrid via Kazakhstan, Russia, Belarus, Poland, Germany, France, Spain "
        "(Wikipedia 'Yiwu-Madrid railway line'); route inside China assumed",
    ),
    "RAIL-DEDUI-ESMAD": (DUI_MAD, "assumed: Cologne-Liege-Paris-Bordeaux-Irun-Madrid"),
}


def _countries():  # type: ignore[no-untyped-def]
    import geopandas
    import pyogrio
    from shapely import STRtree

    path = Path(pyogrio.__file__).parent / "tests/fixtures/naturalearth_lowres"
    gdf = geopandas.read_file(path / "naturalearth_lowres.shp")
    iso2 = {
        "CHN": "CN",
        "KAZ": "KZ",
        "RUS": "RU",
        "BLR": "BY",
        "MNG": "MN",
        "POL": "PL",
        "DEU": "DE",
        "BEL": "BE",
        "NLD": "NL",
        "LUX": "LU",
        "ESP": "ES",
        "ITA": "IT",
        "CHE": "CH",
        "AUT": "AT",
        "CZE": "CZ",
        "DNK": "DK",
        "PRT": "PT",
        "SVK": "SK",
        "HUN": "HU",
        "SVN": "SI",
        "HRV": "HR",
        "UKR": "UA",
        "LTU": "LT",
        "TUR": "TR",
        "GBR": "GB",
        "GRC": "GR",
        "ROU": "RO",
        "BGR": "BG",
        "SRB": "RS",
    }
    codes = [
        "FR" if n == "France" else "NO" if n == "Norway" else iso2.get(a, a)
        for n, a in zip(gdf["name"], gdf["iso_a3"], strict=True)
    ]
    geoms = list(gdf.geometry)
    return STRtree(geoms), geoms, codes


def _country_km(line: list[tuple[float, float]], tree, geoms, codes) -> list[tuple[str, float]]:  # type: ignore[no-untyped-def]
    """(country, km) of each piece of a polyline of great-circle hops."""
    from pyproj import Geod
    from shapely.geometry import Point

    geod = Geod(ellps="WGS84")
    out: list[tuple[str, float]] = []
    last = ""
    for (x0, y0), (x1, y1) in itertools.pairwise(line):
        km = geod.inv(x0, y0, x1, y1)[2] / 1000.0
        n = max(2, math.ceil(km / STEP_KM))
        pts = [(x0, y0), *geod.npts(x0, y0, x1, y1, n - 1), (x1, y1)]
        for (a, b), (c, d) in itertools.pairwise(pts):
            piece = geod.inv(a, b, c, d)[2] / 1000.0
            mid = Point((a + c) / 2, (b + d) / 2)
            hit = [codes[i] for i in tree.query(mid, predicate="within")]
            last = hit[0] if hit else last  # a gap of the 1:110m layer: the previous country
            out.append((last, piece))
    return out


def rail_rows(tree, geoms, codes) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    rows = []
    for lane_id, (towns, route_source) in ROUTES.items():
        km: dict[tuple[str, str], float] = defaultdict(float)
        # km the 1:110m layer puts in China on a hop from a town abroad: the grid of the
        # nearest Chinese town of the chain
        grid = next((T[t][2] for t in towns if T[t][2]), "")
        for a, b in itertools.pairwise(towns):
            grid = T[a][2] or grid
            for country, piece in _country_km([T[a][:2], T[b][:2]], tree, geoms, codes):
                region = grid if country == "CN" and grid else ""
                km[(country, region)] += piece
        rows += _rows(
            lane_id,
            km,
            f"route towns {' - '.join(towns)} as great-circle hops x {NE_SOURCE}",
            f"route: {route_source}",
        )
    return rows


def road_rows(tree, geoms, codes) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    with open(DATA_DIR / "hubs.csv", encoding="utf-8") as fh:
        hubs = {r["hub_id"]: r for r in csv.DictReader(fh)}
    with open(DATA_DIR / "lanes.csv", encoding="utf-8") as fh:
        lanes = list(csv.DictReader(fh))
    rows = []
    for lane in lanes:
        if lane["mode"] != "road" or "bev" not in lane["vehicle_types"]:
            continue
        a, b = hubs[lane["origin"]], hubs[lane["destination"]]
        if "CN" in (a["country"], b["country"]):
            continue
        line = [(float(a["lon"]), float(a["lat"])), (float(b["lon"]), float(b["lat"]))]
        km: dict[tuple[str, str], float] = defaultdict(float)
        for country, piece in _country_km(line, tree, geoms, codes):
            km[(country, "")] += piece
        if len(km) > 1:
            rows += _rows(lane["lane_id"], km, f"lane great-circle line x {NE_SOURCE}", "road lane")
    return rows


def _rows(
    lane_id: str, km: dict[tuple[str, str], float], method: str, note: str
) -> list[dict[str, str]]:
    total = sum(km.values())
    shares = {k: round(v / total, 4) for k, v in km.items() if v / total >= 0.0005}
    # the rounded shares add up to 1 exactly: the largest takes the rounding rest
    big = max(shares, key=lambda k: shares[k])
    shares[big] = round(1.0 - sum(v for k, v in shares.items() if k != big), 4)
    return [
        {
            "lane_id": lane_id,
            "country": country,
            "grid_region": region,
            "share_km": f"{share:.4f}",
            "method": method,
            "data_quality": "DER",
            "source": f"derived: {note}; {NE_SOURCE}",
            "date": DATE,
            "licence": LICENCE,
            "note": f"{km[(country, region)]:.0f} km of {total:.0f} km along the chain",
        }
        for (country, region), share in sorted(shares.items(), key=lambda kv: -kv[1])
    ]


def main() -> int:
    tree, geoms, codes = _countries()
    rows = rail_rows(tree, geoms, codes) + road_rows(tree, geoms, codes)
    out = DATA_DIR / "lane_segments.csv"
    with open(out, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"{len(rows)} rows -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
