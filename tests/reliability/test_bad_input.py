"""Hostile input: hypothesis properties on the chain JSON and the shipment book readers.

Whatever arrives -- malformed numbers, wrong encodings, huge files, zero or negative masses,
unknown LOCODEs, dates out of order -- the answer is a result or an ``InputError`` naming the
field at fault, never another exception. Oversized uploads are a 413. Examples are bounded
and derandomised.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greenlane.emissions.errors import DataError, InputError

ROOT = Path(__file__).resolve().parents[2]
CHAIN = json.loads((ROOT / "data" / "examples" / "clecat_case_a_de_580km.json").read_text())
BOUNDED = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def assert_names_a_field(exc: InputError) -> None:
    assert not isinstance(exc, DataError), f"a data error from user input: {exc}"
    assert exc.field, f"no field named: {exc!r}"
    assert exc.message


# ----------------------------------------------------------------------------- chain JSON

NASTY_NUMBERS = st.sampled_from(
    [
        0,
        -1,
        -0.0,
        1e-320,
        1e308,
        10**30,
        float("nan"),
        float("inf"),
        float("-inf"),
        "12",
        "1,5",
        "12 kg",
        "",
        "１２",
        None,
        True,
        [],
        {},
        [1],
        {"a": 1},
    ]
)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(CHAIN)


@st.composite
def mutated_chains(draw: st.DrawFn) -> Any:
    doc = copy.deepcopy(CHAIN)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        parent: Any = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            action = draw(st.sampled_from(["number", "json", "delete", "extra"]))
            if action == "number":
                parent[path[-1]] = draw(NASTY_NUMBERS)
            elif action == "json":
                parent[path[-1]] = draw(JSONISH)
            elif action == "delete":
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[draw(st.sampled_from(["distance_m", "mass_kg", "x"]))] = 1
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the path
    return doc


def _finite_totals(fp: Any) -> bool:
    t = fp.totals
    return all(math.isfinite(v) for v in (t.co2e_wtw_kg, t.co2e_ttw_kg, t.tkm))


@BOUNDED
@given(doc=mutated_chains())
def test_chain_gives_a_footprint_or_an_input_error(doc: Any) -> None:
    from greenlane.emissions.chain import footprint_from_chain
    from greenlane.fleet import resolve_vehicle

    try:
        footprint_from_chain(doc, resolver=resolve_vehicle)
    except InputError as exc:
        assert_names_a_field(exc)


@BOUNDED
@given(doc=mutated_chains())
def test_accepted_chains_have_finite_totals(doc: Any) -> None:
    from greenlane.emissions.chain import footprint_from_chain
    from greenlane.fleet import resolve_vehicle

    try:
        fp = footprint_from_chain(doc, resolver=resolve_vehicle)
    except InputError:
        return
    assert _finite_totals(fp), f"accepted a chain with non-finite totals: {doc}"


@BOUNDED
@given(doc=JSONISH)
def test_any_json_value_is_an_input_error(doc: Any) -> None:
    from greenlane.emissions.chain import footprint_from_chain
    from greenlane.emissions.schema import parse_chain

    for fn in (parse_chain, footprint_from_chain):
        with pytest.raises(InputError) as err:
            fn(doc)
        assert_names_a_field(err.value)


# ----------------------------------------------------------------------------- shipment books

HEADER = "shipment_id,origin,destination,mass_t,volume_m3,teu,ready_at,due_at,allowed_modes"
GOOD = ["S1", "F-NANJING", "CNSHA", "10", "", "", "2026-12-01", "2027-01-20", "road;sea"]
CELLS = {
    0: st.sampled_from(["S1", "", "x" * 300, "S,1", 'S"1', "S\n1", "南京-1"]),
    1: st.sampled_from(
        [
            "F-NANJING",
            "CNNKG",
            "PVG",
            "ZZZZZ",
            "XXNOPE",
            "31.9;118.8",
            "91;0",
            "abc;def",
            "",
            "南京",
        ]
    ),
    2: st.sampled_from(["C-MADRID", "ESMAD", "MAD", "QQQQQ", "0;0", "-90;-180", " ", "\t"]),
    3: st.sampled_from(
        [
            "10",
            "0",
            "-5",
            "1e999",
            "nan",
            "inf",
            "1,5",
            "1.5.5",
            "10 t",
            "",
            "１２",
            "0x10",
            "1e-9",
            "100001",
            "  7  ",
        ]
    ),
    4: st.sampled_from(["", "0", "-1", "abc", "12.5", "nan"]),
    5: st.sampled_from(["", "1", "0", "-2", "x"]),
    6: st.sampled_from(
        [
            "2026-12-01",
            "2026-13-01",
            "2026-02-30",
            "01/12/2026",
            "yesterday",
            "2026-12-01T10:00:00+08:00",
            "2027-01-20",
            "",
            "99999-01-01",
        ]
    ),
    7: st.sampled_from(
        [
            "2027-01-20",
            "2026-11-01",
            "2026-12-01",
            "2026-12-01T00:00:00",
            "not a date",
            "",
            "2026-12-01T00:00:00Z",
        ]
    ),
    8: st.sampled_from(["", "road;sea", "road", "teleport", ";;", "ROAD", "road;;rail"]),
}
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16", "cp1252", "gb18030"])


@st.composite
def books(draw: st.DrawFn) -> tuple[bytes, str]:
    rows = []
    for _ in range(draw(st.integers(1, 4))):
        row = list(GOOD)
        for col in draw(st.sets(st.sampled_from(sorted(CELLS)), max_size=3)):
            row[col] = draw(CELLS[col])
        rows.append(
            ",".join(f'"{c}"' if any(x in c for x in ',"\n') and '"' not in c else c for c in row)
        )
        if draw(st.booleans()):
            rows[-1] += draw(st.sampled_from([",extra", "", ",", "\x00", ";"]))
    header = draw(
        st.sampled_from(
            [
                HEADER,
                HEADER.replace("mass_t", "mass"),
                "a,b",
                "",
                HEADER.upper(),
                HEADER + ",extra_col",
            ]
        )
    )
    text = "\n".join([header, *rows]) + "\n"
    encoding = draw(ENCODINGS)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]  # truncated mid-character/row
    return data, draw(st.sampled_from([".csv", ".json"]))


@BOUNDED
@given(book=books())
def test_book_gives_shipments_or_an_input_error(tmp_path_factory, book) -> None:
    from greenlane.routing import load_network, read_book
    from greenlane.routing.planner.candidates import resolve_place

    data, suffix = book
    path = tmp_path_factory.mktemp("book") / f"book{suffix}"
    path.write_bytes(data)
    try:
        shipments = read_book(path)
    except InputError as exc:
        assert_names_a_field(exc)
        return
    net = load_network()
    for i, s in enumerate(shipments):
        assert s.mass_t > 0 and math.isfinite(s.mass_t)
        assert s.ready_at.tzinfo is not None and s.due_at > s.ready_at
        for ref, where in (
            (s.origin, f"shipments[{i}].origin"),
            (s.destination, f"shipments[{i}].destination"),
        ):
            try:
                resolve_place(net, ref, where)
            except InputError as exc:
                assert exc.field == where
                assert_names_a_field(exc)


@BOUNDED
@given(book=books(), name=st.sampled_from(["b.csv", "b.json", "b.xlsx", "b.txt", "", "b"]))
def test_ui_upload_gives_rows_or_an_input_error(book, name) -> None:
    from greenlane.webapp.books import from_upload

    data, _ = book
    try:
        from_upload(name, data)
    except InputError as exc:
        assert_names_a_field(exc)


@pytest.mark.parametrize(
    ("cells", "field"),
    [
        ({3: "0"}, "line[2].mass_t"),
        ({3: "-5"}, "line[2].mass_t"),
        ({3: '"1,5"'}, "line[2].mass_t"),
        ({3: "1,5"}, "line[2]"),
        ({3: "nan"}, "line[2].mass_t"),
        ({6: "2027-02-01"}, "line[2].due_at"),
        ({2: "F-NANJING"}, "line[2].destination"),
        ({4: "inf"}, "line[2].volume_m3"),
        ({6: "2026-13-01"}, "line[2].ready_at"),
    ],
)
def test_named_fields(tmp_path: Path, cells: dict[int, str], field: str) -> None:
    from greenlane.routing import read_book

    row = list(GOOD)
    for k, v in cells.items():
        row[k] = v
    path = tmp_path / "b.csv"
    path.write_text(HEADER + "\n" + ",".join(row) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_book(path)
    assert err.value.field == field


def test_unknown_locode_is_named(tmp_path: Path) -> None:
    from greenlane.routing import PlanOptions, load_network, read_book
    from greenlane.routing.planner.problem import build_problem

    row = list(GOOD)
    row[2] = "ZZQQQ"
    path = tmp_path / "b.csv"
    path.write_text(
        HEADER + "\n" + ",".join(GOOD) + "\n" + ",".join(row).replace("S1", "S2") + "\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as err:
        build_problem(read_book(path), load_network(), PlanOptions())
    assert err.value.field == "line[3].destination"


def test_huge_book_is_refused_before_reading(tmp_path: Path) -> None:
    from greenlane.routing import read_book
    from greenlane.routing.planner.shipments import MAX_BOOK_BYTES

    path = tmp_path / "huge.csv"
    with open(path, "wb") as fh:  # sparse: no disk space used
        fh.truncate(MAX_BOOK_BYTES + 1)
    with pytest.raises(InputError) as err:
        read_book(path)
    assert err.value.field == str(path)


# ----------------------------------------------------------------------------- HTTP


@pytest.fixture
def client(tmp_path: Path) -> Any:
    from greenlane.webapp import create_app
    from greenlane.webapp.auth import create_token
    from greenlane.webapp.db import engine_of
    from greenlane.webapp.jobs import runner

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "t",
            "SOLVER_TIME_LIMIT_S": 2.0,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "MAX_CONTENT_LENGTH": 64 * 1024,
        }
    )
    token = create_token(engine_of(app), "planner")[1]
    c = app.test_client()
    c.token = token  # type: ignore[attr-defined]
    yield c
    runner(app).shutdown()
    engine_of(app).dispose()


@pytest.mark.parametrize(
    ("encoding", "ok"),
    [
        ("latin-1", False),
        ("cp1252", False),
        ("gb18030", False),
        ("utf-16", True),
        ("utf-32", True),
        ("utf-8-sig", True),  # RFC 8259 / json.loads detect
    ],
)
def test_footprints_in_other_encodings(client: Any, encoding: str, ok: bool) -> None:
    """Non-UTF JSON is a 4xx; the Unicode encodings json.loads detects are read correctly."""
    body = json.dumps({**CHAIN, "shipment_id": "Nürnberg-ß-南"}, ensure_ascii=False)
    raw = body.encode(encoding, errors="replace")
    resp = client.post(
        "/api/v1/footprints",
        data=raw,
        content_type="application/json",
        headers={"Authorization": f"Bearer {client.token}"},
    )
    if ok:
        assert resp.status_code == 200
        assert resp.get_json()["shipment_id"] == "Nürnberg-ß-南"
    else:
        assert 400 <= resp.status_code < 500, resp.get_data(as_text=True)[:300]


def test_oversized_api_body_is_413(client: Any) -> None:
    resp = client.post(
        "/api/v1/footprints",
        data=b"{" + b" " * 70_000 + b"}",
        content_type="application/json",
        headers={"Authorization": f"Bearer {client.token}"},
    )
    assert resp.status_code == 413
    assert resp.mimetype == "application/problem+json"


def test_oversized_ui_upload_is_413(client: Any) -> None:
    import io
    import re

    from greenlane.webapp.auth import open_session
    from greenlane.webapp.db import engine_of

    page = client.get("/login").get_data(as_text=True)
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    with client.session_transaction() as sess:
        sess["sid"] = open_session(engine_of(client.application), 1)
    resp = client.post(
        "/plans",
        data={"csrf_token": form_token, "book": (io.BytesIO(b"x" * 70_000), "big.csv")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 413


def test_oversized_body_is_413_on_the_live_server(tmp_path: Path) -> None:
    """The real server (not the test client) refuses a body over MAX_CONTENT_LENGTH."""
    from harness import Server, bearer, call, make_tokens

    server = Server(tmp_path / "srv", env={"GREENLANE_MAX_CONTENT_LENGTH": str(64 * 1024)})
    token = make_tokens(server.database_url, [("planner", None)])[0]
    server.start()
    try:
        status, headers, body = call(
            server.base,
            "POST",
            "/api/v1/plans",
            raw=b"[" + b"0," * 100_000 + b"0]",
            headers=bearer(token, **{"Content-Type": "application/json"}),
        )
        assert status == 413, body[:200]
        assert headers["content-type"].startswith("application/problem+json")
    finally:
        server.stop()


# ----------------------------------------------------------------------------- limits, meaning


def _cli(*args: str) -> Any:
    from click.testing import CliRunner

    from greenlane.webapp.cli import main

    return CliRunner().invoke(main, list(args))


def _one_line_error(out: Any, where: str, what: str) -> None:
    assert out.exit_code == 2, out.output
    lines = out.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {where}"), out.output
    assert what in lines[0] and "Traceback" not in out.output


def test_deep_json_is_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    _one_line_error(_cli("footprint", str(path)), str(path), "nesting deeper than the limit of 32")
    nested: Any = []
    for _ in range(40):  # 40 levels: below the recursion limit, above MAX_JSON_DEPTH
        nested = [nested]
    path.write_text(json.dumps({**CHAIN, "legs": nested}))
    _one_line_error(_cli("footprint", str(path)), str(path), "nesting deeper")


def test_long_integer_is_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "digits.json"
    path.write_text(
        json.dumps({**CHAIN, "mass_t": 0}).replace('"mass_t": 0', '"mass_t": ' + "7" * 5000)
    )
    _one_line_error(_cli("footprint", str(path)), str(path), "a number of 5000 characters")


def test_big_chain_file_is_refused_before_reading(tmp_path: Path) -> None:
    from greenlane.emissions.limits import MAX_CHAIN_BYTES

    path = tmp_path / "big.json"
    with open(path, "wb") as fh:  # sparse: 60 MB of zero bytes, never read
        fh.truncate(60 * 1024 * 1024)
    out = _cli("footprint", str(path))
    _one_line_error(out, str(path), f"larger than the limit of {MAX_CHAIN_BYTES} bytes")


def test_non_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.json"
    text = json.dumps({**CHAIN, "shipment_id": "Nürnberg"}, indent=1, ensure_ascii=False)
    path.write_bytes(text.encode("latin-1"))
    line = text[: text.index("ü")].count("\n") + 1  # 2
    _one_line_error(_cli("footprint", str(path)), str(path), f"not UTF-8 text at line {line}")
    book = tmp_path / "b.csv"
    book.write_bytes((HEADER + "\n" + ",".join(GOOD) + "\n").encode() + b"X,\xe9\n")
    _one_line_error(_cli("plan", str(book)), str(book), "not UTF-8 text at line 3 column 3")


@pytest.mark.parametrize(
    ("mutate", "field", "what"),
    [
        (lambda d: d.update(mass_t=True), "mass_t", "not true"),
        (lambda d: d["legs"][0].update(distance_km=False), "legs[0].distance_km", "not false"),
        (lambda d: d["legs"][0].update(distance_km=0), "legs[0].distance_km", "greater than 0"),
        (lambda d: d.update(factor_sets=["glec_v9"]), "factor_sets", "unknown factor set"),
        (lambda d: d.update(gwp_basis="AR4"), "gwp_basis", "AR6"),
        (
            lambda d: d["legs"][2]["toc"].update(co2e_ttw_g_per_tkm=-3),
            "legs[2].toc.co2e_ttw_g_per_tkm",
            "greater than or equal to 0",
        ),
        (
            lambda d: d["legs"][1]["hoc"].update(co2e_ttw_kg_per_t=-0.1),
            "legs[1].hoc.co2e_ttw_kg_per_t",
            "greater than or equal to 0",
        ),
        (
            lambda d: d["legs"].append(
                {
                    "mode": "air",
                    "distance_km": 900,
                    "energy": [{"carrier": "hfo", "amount": 10, "unit": "t"}],
                }
            ),
            "legs[5].energy[0].carrier",
            "hfo is not an energy carrier of air vehicles",
        ),
        (
            lambda d: (
                d["legs"].append(
                    {"mode": "road", "distance_km": 90, "vehicle": {"type": "truck_40t_diesel"}}
                )
                or d.update(mass_t=30)
            ),
            "legs[5].vehicle.type",
            "exceed the payload of truck_40t_diesel (25 t)",
        ),
        (
            lambda d: d["legs"].append(
                {
                    "mode": "road",
                    "distance_km": 90,
                    "vehicle": {"type": "truck_40t_diesel", "load_t": 5},
                }
            ),
            "legs[5].vehicle.load_t",
            "less than the shipment's 10 t",
        ),
        (
            lambda d: d["legs"].append(
                {
                    "mode": "sea",
                    "origin": {"lat": 48.14, "lon": 11.58},  # Munich
                    "destination": {"lat": 30.67, "lon": 104.07},  # Chengdu
                    "toc": {"toc_id": "sea_container_avg_desnz"},
                }
            ),
            "legs[5].origin",
            "no ship reaches (48.14, 11.58)",
        ),
        (
            lambda d: d["legs"].append(
                {
                    "mode": "road",
                    "origin": {"lat": 48.14, "lon": 11.58},
                    "destination": {"lat": 48.14, "lon": 11.58},
                    "toc": {"toc_id": "road_hgv_avg_uk_desnz"},
                }
            ),
            "legs[5].destination",
            "same point",
        ),
        (lambda d: d.update(shipment_id="x" * 201), "shipment_id", "at most 200 characters"),
        (
            lambda d: d["legs"][0].update(sea_restrictions=["atlantis"]),
            "legs[0].sea_restrictions[0]",
            "suez",
        ),
    ],
)
def test_values_are_checked_against_their_meaning(mutate: Any, field: str, what: str) -> None:
    from greenlane.emissions.chain import footprint_from_chain
    from greenlane.fleet import resolve_vehicle

    doc = copy.deepcopy(CHAIN)
    mutate(doc)
    with pytest.raises(InputError) as err:
        footprint_from_chain(doc, resolver=resolve_vehicle)
    assert err.value.field == field
    assert what in err.value.message


def test_csv_limits_name_the_line(tmp_path: Path) -> None:
    from greenlane.emissions.limits import MAX_FIELD_CHARS
    from greenlane.routing import read_book

    path = tmp_path / "b.csv"
    row = list(GOOD)
    row[0] = "S" * 200_000  # past the csv module's own 131,072 limit
    path.write_text(HEADER + "\n" + ",".join(GOOD) + "\n" + ",".join(row) + "\n")
    with pytest.raises(InputError) as err:
        read_book(path)
    assert err.value.field == "line[3]"
    row[0] = "S" * (MAX_FIELD_CHARS + 1)
    path.write_text(HEADER + "\n" + ",".join(row) + "\n")
    with pytest.raises(InputError) as err:
        read_book(path)
    assert err.value.field == "line[2].shipment_id"
    rows = [",".join([f"S{i}", *GOOD[1:]]) for i in range(6)]
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputError) as err:
        read_book(path, max_rows=5)
    assert (err.value.field, err.value.message) == ("line[7]", "more than the limit of 5 rows")


def test_api_limits_are_4xx(client: Any) -> None:
    auth = {"Authorization": f"Bearer {client.token}"}
    for body, what in (
        ("[" * 10_000 + "]" * 10_000, "nesting deeper"),
        ('{"mass_t": ' + "9" * 5000 + "}", "a number of 5000 characters"),
        (json.dumps({**CHAIN, "mass_t": True}), "not true"),
    ):
        resp = client.post(
            "/api/v1/footprints", data=body, content_type="application/json", headers=auth
        )
        assert 400 <= resp.status_code < 500, resp.get_data(as_text=True)[:300]
        assert what in resp.get_data(as_text=True)
    resp = client.post(
        "/api/v1/plans",
        data="[" * 10_000 + "]" * 10_000,
        content_type="application/json",
        headers=auth,
    )
    assert 400 <= resp.status_code < 500
