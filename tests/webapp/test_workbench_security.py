"""Holes an attacker or a typo could use: deep JSON, odd shipment ids in report names and
URLs, formulas in CSV cells."""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import quote, unquote

import pytest
from webapp_helpers import close_app, make_app, shipment

ODD_IDS = ("漢-1", "PO/2026/0042", '=HYPERLINK("http://x.example","y")', "+1-555", "@SUM(A1)")


@pytest.fixture
def app(tmp_path: Any) -> Any:
    """The conftest app, planning five-shipment books at once (no job)."""
    app = make_app(f"sqlite:///{tmp_path / 'greenlane.sqlite'}", ASYNC_THRESHOLD_SHIPMENTS=20)
    yield app
    close_app(app)


@pytest.fixture
def odd_plan(client: Any, auth: Any) -> dict[str, Any]:
    """A plan whose shipment ids are Chinese, hold slashes or start like a formula."""
    pairs = [
        ("F-NANJING", "C-MADRID"),
        ("F-SHENZHEN", "C-FRANKFURT"),
        ("F-XIAN", "C-WARSAW"),
        ("F-CHANGSHA", "C-MILAN"),
        ("F-NANJING", "C-FRANKFURT"),
    ]
    ships = [shipment(sid, o, d, 5) for sid, (o, d) in zip(ODD_IDS, pairs, strict=True)]
    resp = client.post(
        "/api/v1/plans",
        json={"shipments": ships, "name": "odd ids"},
        headers=auth("planner"),
    )
    assert resp.status_code == 201, resp.get_json()
    plan = resp.get_json()
    assert {s["shipment_id"] for s in plan["shipments"]} == set(ODD_IDS)
    return plan


# ----------------------------------------------------------------------------- deep JSON


@pytest.mark.parametrize("path", ["/api/v1/footprints", "/api/v1/plans", "/api/v1/pareto"])
def test_deeply_nested_json_is_a_400_naming_the_body(client: Any, auth: Any, path: str) -> None:
    resp = client.post(
        path, data="[" * 5000 + "]" * 5000, content_type="application/json", headers=auth()
    )
    assert resp.status_code == 400
    assert resp.mimetype == "application/problem+json"
    doc = resp.get_json()
    assert doc["field"] == "$" and "nesting deeper than the limit of 32 levels" in doc["detail"]


def test_brackets_inside_strings_do_not_count_as_nesting(client: Any, auth: Any) -> None:
    from greenlane.webapp.jsonlimits import json_depth

    assert json_depth(b'{"a": "[[[[[[[[[[", "b": [[1], {"c": "\\"]]]"}]}') == 3
    assert json_depth(b"[" * 5000 + b"]" * 5000, stop_above=64) == 65
    # A name full of brackets passes the guard and fails only the schema (422, not 400).
    resp = client.post("/api/v1/plans", json={"shipments": [], "name": "[" * 300}, headers=auth())
    assert resp.status_code == 422


def test_nesting_at_the_limit_reaches_the_validator(client: Any, auth: Any) -> None:
    body = '{"shipments": ' + "[" * 30 + "]" * 30 + "}"  # 31 levels, the limit is 32
    resp = client.post("/api/v1/plans", data=body, content_type="application/json", headers=auth())
    assert resp.status_code == 422


def test_recursion_while_decoding_is_a_400_not_a_500(app: Any) -> None:
    from greenlane.webapp.jsonlimits import GuardedRequest

    assert app.request_class is GuardedRequest
    app.config["MAX_JSON_DEPTH"] = 100_000  # the measuring guard off: the decoder recurses
    resp = app.test_client().post(
        "/api/v1/footprints",
        data="[" * 100_000 + "]" * 100_000,
        content_type="application/json",
    )
    assert resp.status_code in (400, 401)  # anonymous: refused before or at decoding


# ----------------------------------------------------------------------------- report names


def test_content_disposition_has_an_ascii_fallback_and_utf8_name() -> None:
    from greenlane.webapp.reports import content_disposition

    assert content_disposition("greenlane-p1.csv") == 'attachment; filename="greenlane-p1.csv"'
    value = content_disposition("greenlane-p1-漢-1.csv")
    assert value == (
        'attachment; filename="greenlane-p1-_-1.csv"; '
        "filename*=UTF-8''greenlane-p1-%E6%BC%A2-1.csv"
    )
    value.encode("latin-1")  # a WSGI header must be Latin-1
    assert content_disposition("Kraków.pdf").startswith('attachment; filename="Krakow.pdf"; ')


@pytest.mark.parametrize("sid", ["漢-1", "PO/2026/0042"])
def test_per_shipment_reports_of_odd_ids_answer_200(
    client: Any, auth: Any, odd_plan: dict[str, Any], sid: str
) -> None:
    for fmt in ("csv", "pdf", "geojson", "ileap.json"):
        _check_reports(client, auth, odd_plan, sid, fmt)


def _check_reports(client: Any, auth: Any, odd_plan: dict[str, Any], sid: str, fmt: str) -> None:
    for url in (
        f"/api/v1/plans/{odd_plan['id']}/shipments/{sid}/report.{fmt}",
        f"/api/v1/plans/{odd_plan['id']}/shipments/{quote(sid, safe='')}/report.{fmt}",
    ):
        resp = client.get(url, headers=auth())
        assert resp.status_code == 200, (url, resp.data[:200])
        disposition = resp.headers["Content-Disposition"]
        disposition.encode("ascii")
        if sid == "漢-1":
            assert "filename*=UTF-8''" in disposition
            assert unquote(disposition.split("''", 1)[1]).endswith("-漢-1." + fmt)
        else:
            assert disposition.endswith(f'-PO_2026_0042.{fmt}"')
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(resp.data.decode("utf-8-sig"))))
        assert rows and {r["shipment_id"] for r in rows} == {sid}


def test_ui_links_of_odd_ids_download(client: Any, tokens: dict[str, str], odd_plan: Any) -> None:
    import re

    from test_ui import login

    login(client, tokens["planner"])
    page = client.get(f"/plans/{odd_plan['id']}").get_data(as_text=True)
    links = re.findall(r'href="(/plans/[^"]+/shipments/[^"]+/report\.csv)"', page)
    assert len(links) == len(ODD_IDS)
    for link in links:
        resp = client.get(link.replace("&amp;", "&"))
        assert resp.status_code == 200, link
        resp.headers["Content-Disposition"].encode("ascii")


def test_partner_share_links_of_odd_ids_work(
    client: Any, auth: Any, odd_plan: dict[str, Any]
) -> None:
    plan_id = odd_plan["id"]
    resp = client.post(
        f"/api/v1/plans/{plan_id}/shares",
        json={"partner_id": "carrier-a", "shipment_ids": ["PO/2026/0042", "漢-1"]},
        headers=auth(),
    )
    assert resp.status_code == 201
    items = client.get("/api/v1/shared", headers=auth("partner_a")).get_json()["items"]
    assert len(items) == 2
    for item in items:
        resp = client.get(item["reports"]["csv"], headers=auth("partner_a"))
        assert resp.status_code == 200, item


# ----------------------------------------------------------------------------- CSV injection


def test_spreadsheet_safe_prefixes_formula_triggers_only() -> None:
    from greenlane.emissions.report.tables import spreadsheet_safe

    for text in ("=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert spreadsheet_safe(text) == "'" + text
    for text in ("S-1", "漢-1", "", "'=already"):
        assert spreadsheet_safe(text) == text


def test_csv_reports_carry_no_formula_cells(
    client: Any, auth: Any, odd_plan: dict[str, Any]
) -> None:
    resp = client.get(f"/api/v1/plans/{odd_plan['id']}/report.csv", headers=auth())
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    cells = [c for row in body for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]
    ids = {row[header.index("shipment_id")] for row in body}
    assert ids == {
        "漢-1",
        "PO/2026/0042",
        '\'=HYPERLINK("http://x.example","y")',
        "'+1-555",
        "'@SUM(A1)",
    }
    # Numbers stay numbers: a plain decimal parses as a float.
    co2 = [float(row[header.index("co2e_wtw_kg")]) for row in body]
    assert all(v >= 0 for v in co2) and sum(co2) > 0
