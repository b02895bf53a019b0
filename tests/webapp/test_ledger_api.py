"""The carbon ledger end to end through the API, the CLI and the pages: actuals recomputed
with the plan engine, plan vs actual, the KPI and its exports, the baseline from history,
certificates beside emissions, the carbon-neutral check, reports with entry ids, the audit
trail (edits and deletions detected) and the MACC endpoint."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from webapp_helpers import book

HERE = Path(__file__).resolve().parent
ACTUALS_CSV = HERE / "data" / "ledger_actuals.csv"
LANE = "F-NANJING>C-MADRID"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def legs(diesel_l: float = 120.0, rail: str = "train_electric_container") -> list[dict]:
    """Legs as driven: road with metered diesel, a port, sea by TOC, rail by vehicle model."""
    return [
        {
            "mode": "road",
            "distance_km": 300,
            "energy": [
                {"carrier": "diesel_b7", "amount": diesel_l, "unit": "l", "share_of_vehicle": 0.5}
            ],
            "carrier": "Nanjing Trucking",
        },
        {"hub": "CNSHA", "hoc": {"hoc_id": "maritime_container_terminal_ambient"}},
        {
            "mode": "sea",
            "distance_km": 19000,
            "carrier": "COSCO",
            "toc": {"toc_id": "sea_container_8000plus_teu_desnz"},
        },
        {
            "mode": "rail",
            "distance_km": 350,
            "carrier": "Renfe",
            "vehicle": {"type": rail, "carrier": "electricity_es"},
        },
    ]


def actual(completed: str = "2026-03-10T12:00:00Z", mass_t: float = 10.0, **extra: Any) -> dict:
    return {
        "completed_at": completed,
        "mass_t": mass_t,
        "carrier": "Acme Forwarding",
        "legs": legs(),
        **extra,
    }


@pytest.fixture
def accepted(client: Any, auth: Any) -> dict[str, Any]:
    """An accepted plan of a two-shipment book (S1 Nanjing -> Madrid, S2 Shenzhen -> FRA)."""
    resp = client.post("/api/v1/plans", json={"shipments": book(2), "name": "two"}, headers=auth())
    assert resp.status_code == 201
    plan = resp.get_json()
    assert client.post(f"/api/v1/plans/{plan['id']}/accept", headers=auth()).status_code == 200
    return plan


def post_actual(client: Any, auth: Any, sid: str = "S1", **kw: Any) -> Any:
    return client.post(
        f"/api/v1/shipments/{sid}/actuals", json=actual(**kw), headers=auth("integration")
    )


# ----------------------------------------------------------------------------- actuals


def test_actual_is_recomputed_with_the_plan_engine_and_chained(client, auth, accepted):
    from greenlane.emissions.chain import footprint_from_chain
    from greenlane.fleet import resolve_vehicle

    resp = post_actual(client, auth)
    assert resp.status_code == 201, resp.get_json()
    a = resp.get_json()
    assert a["plan_id"] == accepted["id"]  # linked to the accepted plan
    assert (a["origin"], a["destination"], a["lane"]) == ("F-NANJING", "C-MADRID", LANE)
    doc = {
        "shipment_id": "S1",
        "mass_t": 10.0,
        "legs": [{k: v for k, v in leg.items() if k != "carrier"} for leg in legs()],
    }
    fp = footprint_from_chain(doc, resolver=resolve_vehicle)
    assert a["co2e_wtw_kg"] == pytest.approx(fp.totals.co2e_wtw_kg, rel=1e-6)
    assert [g["data_type"] for g in a["legs"]] == ["primary", "default", "default", "modelled"]
    assert [g["carrier"] for g in a["legs"]] == [
        "Nanjing Trucking",
        "Acme Forwarding",
        "COSCO",
        "Renfe",
    ]
    # the KPI activity is mass x great circle, split over the legs by their tkm
    assert sum(g["tkm_gcd"] for g in a["legs"]) == pytest.approx(a["tkm_gcd"], rel=1e-6)
    assert a["tkm_gcd"] < a["tkm"]
    # entry 1 is the plan acceptance, entry 2 this actual
    assert a["entry"] == 2
    entries = client.get("/api/v1/ledger/entries", headers=auth()).get_json()["entries"]
    assert [e["kind"] for e in entries] == ["plan", "actual"]
    assert entries[1]["prev_hash"] == entries[0]["hash"]


def test_a_second_actual_is_a_new_version_and_the_kpi_uses_the_newest(client, auth, accepted):
    first = post_actual(client, auth).get_json()
    second = client.post(
        "/api/v1/shipments/S1/actuals",
        json={**actual(), "legs": legs(diesel_l=60.0)},
        headers=auth("integration"),
    ).get_json()
    assert (first["version"], second["version"]) == (1, 2)
    versions = client.get("/api/v1/shipments/S1/actuals", headers=auth()).get_json()["versions"]
    assert [v["version"] for v in versions] == [1, 2]
    kpi = client.get("/api/v1/ledger/kpi", headers=auth()).get_json()
    (row,) = kpi["rows"]
    assert row["co2e_wtw_kg"] == pytest.approx(second["co2e_wtw_kg"], abs=1e-3)


def test_plan_vs_actual(client, auth, accepted):
    post_actual(client, auth, mass_t=4.0)  # S1 is planned at 4 t
    c = client.get("/api/v1/shipments/S1/comparison", headers=auth()).get_json()
    planned = next(s for s in accepted["shipments"] if s["shipment_id"] == "S1")
    assert c["planned"]["plan_id"] == accepted["id"]
    assert c["planned"]["co2e_wtw_kg"] == pytest.approx(float(planned["co2e_wtw_kg"]))
    assert c["actual"]["version"] == 1
    assert c["delta"]["co2e_wtw_kg"] == pytest.approx(
        c["actual"]["co2e_wtw_kg"] - c["planned"]["co2e_wtw_kg"], abs=1e-3
    )
    # the same great-circle basis on both sides
    assert c["actual"]["tkm_gcd"] == pytest.approx(c["planned"]["tkm_gcd"], rel=1e-6)
    assert client.get("/api/v1/shipments/NOPE/comparison", headers=auth()).status_code == 404


def test_actual_without_plan_needs_places_and_bad_legs_name_the_field(client, auth):
    resp = post_actual(client, auth, sid="X9")
    assert resp.status_code == 422 and resp.get_json()["field"] == "origin"
    ok = post_actual(client, auth, sid="X9", origin="CNNKG", destination="31.0;121.0")
    assert ok.status_code == 201, ok.get_json()
    assert ok.get_json()["plan_id"] is None and ok.get_json()["destination"] == "31.0000;121.0000"
    bad = actual(origin="F-NANJING", destination="C-MADRID")
    bad["legs"][0]["energy"][0]["unit"] = "gallons"
    resp = client.post("/api/v1/shipments/X8/actuals", json=bad, headers=auth("integration"))
    assert resp.status_code == 422
    assert resp.get_json()["field"] == "legs[0].energy[0].unit"
    bad = actual(origin="F-NANJING", destination="C-MADRID", plan_id="pl_nope")
    resp = client.post("/api/v1/shipments/X8/actuals", json=bad, headers=auth("integration"))
    assert resp.status_code == 422 and resp.get_json()["field"] == "plan_id"
    # nothing half-written: only X9's actual is in the ledger
    entries = client.get("/api/v1/ledger/entries", headers=auth()).get_json()["entries"]
    assert [e["ref"].split(":")[0] for e in entries] == ["actual"]


def test_partners_cannot_record_or_read_the_ledger(client, auth, accepted):
    assert post_actual(client, auth).status_code == 201
    resp = client.post("/api/v1/shipments/S1/actuals", json=actual(), headers=auth("partner_a"))
    assert resp.status_code == 403
    assert client.get("/api/v1/ledger/kpi", headers=auth("partner_a")).status_code == 403
    assert client.get("/api/v1/ledger/kpi").status_code == 401


def test_idempotent_actual(client, auth, accepted):
    h = auth("integration", **{"Idempotency-Key": "actual-1"})
    first = client.post("/api/v1/shipments/S1/actuals", json=actual(), headers=h)
    again = client.post("/api/v1/shipments/S1/actuals", json=actual(), headers=h)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    versions = client.get("/api/v1/shipments/S1/actuals", headers=auth()).get_json()["versions"]
    assert len(versions) == 1


# ----------------------------------------------------------------------------- KPI


def test_kpi_by_period_and_dimension_with_standing(client, auth, accepted):
    post_actual(client, auth, completed="2026-02-01T00:00:00Z")
    post_actual(
        client,
        auth,
        sid="S2",
        completed="2026-05-15T00:00:00Z",
        origin="F-SHENZHEN",
        destination="C-FRANKFURT",
    )
    q = client.get("/api/v1/ledger/kpi?period=quarter&by=mode", headers=auth()).get_json()
    modes = {(r["period"], r["value"]) for r in q["rows"]}
    assert ("2026-Q1", "road") in modes and ("2026-Q2", "sea") in modes
    assert ("2026-Q1", "hub") in modes  # hub operations: emissions, no tkm
    network = client.get("/api/v1/ledger/kpi?period=year", headers=auth()).get_json()
    (year,) = network["rows"]
    by_mode = [r for r in q["rows"]]
    assert sum(r["co2e_wtw_kg"] for r in by_mode) == pytest.approx(year["co2e_wtw_kg"], rel=1e-6)
    assert sum(r["tkm_gcd"] for r in by_mode) == pytest.approx(year["tkm_gcd"], rel=1e-6)
    assert year["intensity_g_per_tkm"] == pytest.approx(
        year["co2e_wtw_kg"] * 1000 / year["tkm_gcd"], rel=1e-6
    )
    for by in ("lane", "carrier", "energy_carrier"):
        rows = client.get(f"/api/v1/ledger/kpi?by={by}", headers=auth()).get_json()["rows"]
        assert sum(r["co2e_wtw_kg"] for r in rows) == pytest.approx(year["co2e_wtw_kg"], rel=1e-6)
    carriers = {
        r["value"]
        for r in client.get("/api/v1/ledger/kpi?by=carrier", headers=auth()).get_json()["rows"]
    }
    assert {"COSCO", "Renfe", "Nanjing Trucking", "Acme Forwarding"} <= carriers
    # the glide path: -20 % in 2030 against the 2023 baseline (data/targets.csv by default)
    traj = {p["year"]: p["target_g_per_tkm"] for p in network["trajectory"]}
    assert traj[2030] == pytest.approx(traj[2023] * 0.8, rel=1e-6)
    st = network["standing"]
    assert st["year"] == 2026 and st["target_g_per_tkm"] == pytest.approx(traj[2026], rel=1e-4)
    assert st["on_track"] == (st["projected_g_per_tkm"] <= st["target_g_per_tkm"])


def test_kpi_exports_csv_and_xlsx(client, auth, accepted):
    from openpyxl import load_workbook

    post_actual(client, auth)
    resp = client.get("/api/v1/ledger/kpi?format=csv&period=month&by=carrier", headers=auth())
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    body = resp.data.decode("utf-8-sig").splitlines()
    assert body[0].startswith("period,dimension,value,co2e_wtw_kg")
    assert any(line.startswith("2026-03,carrier,COSCO,") for line in body)
    resp = client.get("/api/v1/ledger/kpi?format=xlsx&period=quarter", headers=auth())
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == [
        "network",
        "by_mode",
        "by_lane",
        "by_carrier",
        "by_energy_carrier",
        "trajectory",
        "about",
    ]
    about = {r[0]: r[1] for r in wb["about"].iter_rows(values_only=True)}
    assert about["ledger_head_seq"] == 2 and len(about["ledger_head_hash"]) == 64
    assert wb["network"]["A2"].value == "2026-Q1"


def test_baseline_from_imported_2023_history(client, auth, app):
    from click.testing import CliRunner

    from greenlane.webapp.cli_ledger import ledger

    url = app.config["DATABASE_URL"]
    out = CliRunner().invoke(ledger, ["import", str(ACTUALS_CSV), "--database-url", url])
    assert out.exit_code == 0, out.output
    assert "recorded 3 actual shipment(s)" in out.output
    # 2023 history: compute the baseline from it
    resp = client.post("/api/v1/ledger/baseline", json={"baseline_year": 2023}, headers=auth())
    assert resp.status_code == 201, resp.get_json()
    base = resp.get_json()
    assert base["method"] == "history" and base["entry"] == 4
    kpi = client.get("/api/v1/ledger/kpi", headers=auth()).get_json()
    y2023 = next(r for r in kpi["by_year"] if r["year"] == 2023)
    assert base["baseline_intensity_g_per_tkm"] == pytest.approx(
        y2023["intensity_g_per_tkm"], rel=1e-4
    )
    traj = {p["year"]: p["target_g_per_tkm"] for p in kpi["trajectory"]}
    assert traj[2030] == pytest.approx(0.8 * base["baseline_intensity_g_per_tkm"], rel=1e-6)
    # a year without history cannot be a computed baseline
    resp = client.post("/api/v1/ledger/baseline", json={"baseline_year": 2019}, headers=auth())
    assert resp.status_code == 422 and resp.get_json()["field"] == "intensity_g_per_tkm"
    # CLI kpi prints the standing
    out = CliRunner().invoke(ledger, ["kpi", "--by", "mode", "--database-url", url])
    assert out.exit_code == 0 and "year-end projection" in out.output


def test_import_is_all_or_nothing_and_names_the_field(app, tmp_path, client, auth):
    from click.testing import CliRunner

    from greenlane.webapp.cli_ledger import ledger

    bad = tmp_path / "bad.csv"
    lines = ACTUALS_CSV.read_text(encoding="utf-8").splitlines()
    lines[-1] = lines[-1].replace("diesel_b7", "unobtainium")
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = CliRunner().invoke(
        ledger, ["import", str(bad), "--database-url", app.config["DATABASE_URL"]]
    )
    assert out.exit_code == 2
    assert "error:" in out.output and "carrier" in out.output
    assert client.get("/api/v1/ledger/entries", headers=auth()).get_json()["entries"] == []


# ----------------------------------------------------------------------------- certificates


def _register(
    client, auth, serial="CCER-0001", kind="carbon_credit", volume=5.0, unit="tCO2e"
) -> dict:
    resp = client.post(
        "/api/v1/certificates",
        json={
            "registry": "CCER",
            "serial": serial,
            "kind": kind,
            "volume": volume,
            "unit": unit,
            "vintage": 2025,
        },
        headers=auth(),
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_certificate_moves_and_no_double_counting(client, auth, accepted):
    cert = _register(client, auth)
    assert cert["status"] == "held" and cert["entries"] == [2]
    dup = client.post(
        "/api/v1/certificates",
        json={
            "registry": "CCER",
            "serial": "CCER-0001",
            "kind": "carbon_credit",
            "volume": 1,
            "unit": "tCO2e",
            "vintage": 2025,
        },
        headers=auth(),
    )
    assert dup.status_code == 409 and dup.get_json()["field"] == "serial"
    wrong_unit = client.post(
        "/api/v1/certificates",
        json={
            "registry": "I-REC",
            "serial": "IR-1",
            "kind": "green_power",
            "volume": 1,
            "unit": "tCO2e",
            "vintage": 2025,
        },
        headers=auth(),
    )
    assert wrong_unit.status_code == 422 and wrong_unit.get_json()["field"] == "unit"
    url = f"/api/v1/certificates/{cert['id']}"
    r = client.post(url + "/assign", json={"shipment_id": "S1"}, headers=auth())
    assert r.get_json()["assigned_to"] == {"kind": "shipment", "ref": "S1"}
    r = client.post(url + "/assign", json={"shipment_id": "NOPE"}, headers=auth())
    assert r.status_code in (409, 422)
    r = client.post(url + "/release", headers=auth())
    assert r.get_json()["status"] == "held" and r.get_json()["assigned_to"] is None
    r = client.post(
        url + "/retire",
        json={"lane": LANE, "claim_year": 2026, "beneficiary": "Acme"},
        headers=auth(),
    )
    assert r.status_code == 200 and r.get_json()["status"] == "retired"
    assert r.get_json()["entries"] == [2, 3, 4, 5]
    again = client.post(url + "/retire", json={"claim_year": 2027}, headers=auth())
    assert again.status_code == 409
    assert client.post(url + "/assign", json={"lane": LANE}, headers=auth()).status_code == 409
    listed = client.get("/api/v1/certificates?status=retired", headers=auth()).get_json()
    assert [c["serial"] for c in listed["certificates"]] == ["CCER-0001"]
    assert (
        client.post("/api/v1/certificates", json={}, headers=auth("integration")).status_code == 403
    )


def test_certificates_never_net_the_emissions(client, auth, accepted):
    post_actual(client, auth)
    before = client.get("/api/v1/ledger/kpi", headers=auth()).get_json()["rows"][0]
    cert = _register(client, auth, volume=1000.0)
    client.post(
        f"/api/v1/certificates/{cert['id']}/retire",
        json={"lane": LANE, "claim_year": 2026},
        headers=auth(),
    )
    after = client.get("/api/v1/ledger/kpi", headers=auth()).get_json()["rows"][0]
    assert after["co2e_wtw_kg"] == before["co2e_wtw_kg"]
    claim = client.get(
        "/api/v1/ledger/claim", query_string={"lane": LANE, "year": 2026}, headers=auth()
    ).get_json()
    assert claim["emissions"]["co2e_wtw_kg"] == before["co2e_wtw_kg"]
    assert claim["credits"]["retired_kg"] == 1_000_000.0


def _set_baseline(client, auth, value: float) -> None:
    resp = client.post(
        "/api/v1/ledger/baseline",
        json={"baseline_year": 2023, "intensity_g_per_tkm": value, "source": "test"},
        headers=auth(),
    )
    assert resp.status_code == 201


def test_carbon_neutral_claim_only_when_it_holds(client, auth, accepted):
    post_actual(client, auth)
    q = {"lane": LANE, "year": 2026}
    claim = client.get("/api/v1/ledger/claim", query_string=q, headers=auth()).get_json()
    emitted_t = claim["emissions"]["co2e_wtw_kg"] / 1000
    intensity = claim["emissions"]["intensity_g_per_tkm"]
    # 1. baseline below the lane's intensity: no reductions, no claim even with credits
    _set_baseline(client, auth, intensity * 0.9)
    cc = _register(client, auth, serial="CC-1", volume=round(emitted_t * 0.5, 3))
    retire = {"lane": LANE, "claim_year": 2026}
    assert (
        client.post(
            f"/api/v1/certificates/{cc['id']}/retire", json=retire, headers=auth()
        ).status_code
        == 200
    )
    claim = client.get("/api/v1/ledger/claim", query_string=q, headers=auth()).get_json()
    assert not claim["claim"]["carbon_neutral"] and claim["claim"]["statement"] is None
    assert any("no reductions" in r for r in claim["claim"]["reasons"])
    # 2. reductions made, but credits cover only half; SAF book-and-claim does not count
    _set_baseline(client, auth, intensity * 1.5)
    saf = _register(client, auth, serial="RSB-1", kind="saf", volume=emitted_t * 10, unit="tCO2e")
    assert (
        client.post(
            f"/api/v1/certificates/{saf['id']}/retire", json=retire, headers=auth()
        ).status_code
        == 200
    )
    claim = client.get("/api/v1/ledger/claim", query_string=q, headers=auth()).get_json()
    assert claim["reductions"]["reductions_kg"] > 0
    assert not claim["claim"]["carbon_neutral"]
    assert any("do not cover" in r for r in claim["claim"]["reasons"])
    # credits retired for another year do not count for 2026
    other = _register(client, auth, serial="CC-2027", volume=emitted_t * 2)
    client.post(
        f"/api/v1/certificates/{other['id']}/retire",
        json={"lane": LANE, "claim_year": 2027},
        headers=auth(),
    )
    assert not client.get("/api/v1/ledger/claim", query_string=q, headers=auth()).get_json()[
        "claim"
    ]["carbon_neutral"]
    # 3. the rest covered by credits retired on a shipment of the lane: the claim holds
    rest = _register(client, auth, serial="CC-2", volume=round(emitted_t * 0.5 + 0.01, 3))
    assert (
        client.post(
            f"/api/v1/certificates/{rest['id']}/retire",
            json={"shipment_id": "S1", "claim_year": 2026},
            headers=auth(),
        ).status_code
        == 200
    )
    claim = client.get("/api/v1/ledger/claim", query_string=q, headers=auth()).get_json()
    assert claim["claim"]["carbon_neutral"], claim["claim"]
    st = claim["claim"]["statement"]
    assert "carbon neutral" in st and "below the 2023 baseline" in st and "retired" in st
    assert claim["emissions"]["co2e_wtw_kg"] > 0  # gross, never netted
    assert {c["serial"] for c in claim["certificates"]} == {"CC-1", "RSB-1", "CC-2"}
    assert set(claim["entries"]) >= {2}  # the actual's entry and the certificates' entries
    # the PDF shows the claim, the certificates, the entries and the factor version
    pdf = client.get("/api/v1/ledger/claim.pdf", query_string=q, headers=auth())
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    txt = " ".join(pdf_text(pdf.data).split())
    assert f"Lane {LANE} is carbon neutral for 2026" in txt
    assert "RSB-1" in txt and "CC-2" in txt
    assert "ledger entries" in txt and claim["data_sha256"][0][:16] in txt


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def test_claim_pdf_without_the_claim(client, auth, accepted):
    post_actual(client, auth)
    q = {"lane": LANE, "year": 2026}
    txt = pdf_text(client.get("/api/v1/ledger/claim.pdf", query_string=q, headers=auth()).data)
    assert "carbon neutral" not in txt.lower().replace("carbon-neutrality", "")
    assert (
        client.get(
            "/api/v1/ledger/claim.pdf", query_string={"lane": LANE, "year": 2020}, headers=auth()
        ).status_code
        == 404
    )


def test_plan_pdf_lists_certificates_and_ledger_entries(client, auth, accepted):
    cert = _register(client, auth, serial="GEC-77", kind="green_power", volume=12.5, unit="MWh")
    client.post(
        f"/api/v1/certificates/{cert['id']}/assign", json={"shipment_id": "S1"}, headers=auth()
    )
    txt = pdf_text(client.get(f"/api/v1/plans/{accepted['id']}/report.pdf", headers=auth()).data)
    flat = txt.replace("\n", " ")
    assert "GEC-77" in flat and "green_power" in flat
    assert "ledger entries 1-3" in flat  # acceptance (1), registration (2), assignment (3)


# ----------------------------------------------------------------------------- audit


def test_verify_detects_edits_and_deletions(app, client, auth, accepted):
    from click.testing import CliRunner

    from greenlane.webapp.cli_ledger import ledger
    from greenlane.webapp.db import engine_of

    post_actual(client, auth)
    cert = _register(client, auth)
    client.post(f"/api/v1/certificates/{cert['id']}/retire", json={"lane": LANE}, headers=auth())
    url = app.config["DATABASE_URL"]
    runner = CliRunner()
    ok = runner.invoke(ledger, ["verify", "--database-url", url])
    assert ok.exit_code == 0 and "ledger intact: 4 entries" in ok.output
    assert client.get("/api/v1/ledger/verify", headers=auth()).get_json()["intact"]
    engine = engine_of(app)
    # the database itself refuses to edit or delete an entry ...
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE ledger_entries SET kind = 'x' WHERE seq = 2"))
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_entries WHERE seq = 2"))
    # ... and a retired certificate
    with pytest.raises(Exception, match="retired"), engine.begin() as conn:
        conn.execute(text("UPDATE certificates SET status = 'held'"))
    # someone with the keys drops the guards and edits rows around the ledger
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER ledger_entries_no_update"))
        conn.execute(text("DROP TRIGGER ledger_entries_no_delete"))
        conn.execute(text("DROP TRIGGER certificates_retired_final"))
        conn.execute(text("UPDATE actual_shipments SET co2e_wtw_kg = co2e_wtw_kg / 2"))
        conn.execute(text("UPDATE certificates SET volume = 50"))
    bad = runner.invoke(ledger, ["verify", "--database-url", url])
    assert bad.exit_code == 2
    assert "differs from entry 2 (edited)" in bad.output
    assert "volume is 50.0 but the ledger says 5.0" in bad.output
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE ledger_entries SET payload = :p WHERE seq = 3"),
            {"p": '{"event": "registered"}'},
        )
        conn.execute(text("DELETE FROM ledger_entries WHERE seq = 1"))
    doc = client.get("/api/v1/ledger/verify", headers=auth()).get_json()
    assert not doc["intact"]
    problems = "\n".join(doc["problems"])
    assert "entry 1 is missing" in problems
    assert "entry 3: content does not match its hash (edited)" in problems
    assert f"plan {accepted['id']} is accepted without a ledger entry" in problems
    assert "triggers missing: certificates_retired_final, ledger_entries_no_delete" in problems


def test_verify_detects_an_edited_accepted_plan(app, client, auth, accepted):
    from greenlane.webapp.db import engine_of

    with engine_of(app).begin() as conn:
        conn.execute(text("UPDATE plans SET footprints = '[]'"))
    problems = client.get("/api/v1/ledger/verify", headers=auth()).get_json()["problems"]
    assert problems == [f"plan {accepted['id']} differs from entry 1 (edited)"]


# ----------------------------------------------------------------------------- levers


def test_levers_endpoint_computes_the_macc_of_the_recorded_book(client, auth, accepted):
    resp = client.post(
        "/api/v1/ledger/levers",
        json={"max_levers": 3, "time_limit_s": 5, "kinds": ["sea_wind", "road_bev"]},
        headers=auth(),
    )
    assert resp.status_code == 201, resp.get_json()
    run = resp.get_json()
    assert run["status"] == "done", run["error"]
    result = run["result"]
    assert result["reference"]["shipments_planned"] == 2
    assert 1 <= len(result["levers"]) <= 3
    assert {lv["kind"] for lv in result["levers"]} <= {"sea_wind", "road_bev"}
    ok = [lv for lv in result["levers"] if lv["status"] == "ok"]
    assert [lv["cny_per_t_co2e"] for lv in ok] == sorted(lv["cny_per_t_co2e"] for lv in ok)
    assert len(result["curve"]) == len(ok)
    latest = client.get("/api/v1/ledger/levers/latest", headers=auth()).get_json()
    assert latest["id"] == run["id"]


def test_levers_need_a_recorded_book(client, auth):
    resp = client.post("/api/v1/ledger/levers", json={}, headers=auth())
    assert resp.status_code == 422 and resp.get_json()["field"] == "plan_id"


# ----------------------------------------------------------------------------- UI


def _login(client, token):
    page = client.get("/login").get_data(as_text=True)
    tok = CSRF.search(page).group(1)
    assert client.post("/login", data={"token": token, "csrf_token": tok}).status_code == 302


def _csrf(client, path):
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def test_ledger_pages(client, auth, tokens, accepted):
    post_actual(client, auth)
    _login(client, tokens["planner"])
    page = client.get("/ledger/").get_data(as_text=True)
    assert 'id="ledger-trajectory"' in page and 'id="ledger-months"' in page
    assert "chain intact" in page and "F-NANJING&gt;C-MADRID" in page
    assert client.get("/ledger/?period=month&by=carrier").status_code == 200
    assert client.get("/ledger/kpi.csv?by=mode").status_code == 200
    assert client.get("/ledger/kpi.xlsx").status_code == 200
    assert "COSCO" in client.get("/ledger/shipments/S1").get_data(as_text=True)
    assert "S1" in client.get("/ledger/actuals").get_data(as_text=True)
    assert client.get("/ledger/verify").status_code == 200
    lane = client.get("/ledger/lane", query_string={"lane": LANE, "year": 2026})
    assert "may not be called carbon neutral" in lane.get_data(as_text=True)
    assert (
        client.get("/ledger/lane.pdf", query_string={"lane": LANE, "year": 2026}).mimetype
        == "application/pdf"
    )
    # certificates through the forms (CSRF-protected)
    token = _csrf(client, "/ledger/certificates")
    assert (
        client.post(
            "/ledger/certificates",
            data={
                "registry": "CCER",
                "serial": "UI-1",
                "kind": "carbon_credit",
                "volume": "2",
                "unit": "tCO2e",
                "vintage": "2025",
            },
        ).status_code
        == 400
    )  # no CSRF token
    client.post(
        "/ledger/certificates",
        data={
            "csrf_token": token,
            "registry": "CCER",
            "serial": "UI-1",
            "kind": "carbon_credit",
            "volume": "2",
            "unit": "tCO2e",
            "vintage": "2025",
        },
    )
    page = client.get("/ledger/certificates").get_data(as_text=True)
    cid = re.search(r'data-id="(ce_[0-9a-f]+)"', page).group(1)
    client.post(
        f"/ledger/certificates/{cid}/retire",
        data={"csrf_token": token, "target": LANE, "claim_year": "2026"},
    )
    assert ">retired<" in client.get("/ledger/certificates").get_data(as_text=True)
    # baseline form and the levers page
    client.post(
        "/ledger/baseline",
        data={
            "csrf_token": token,
            "baseline_year": "2023",
            "intensity_g_per_tkm": "40",
            "source": "ui",
        },
    )
    assert "40.00" in client.get("/ledger/").get_data(as_text=True)
    assert "No lever run yet" in client.get("/ledger/levers").get_data(as_text=True)


def test_partner_cannot_open_ledger_pages(client, tokens):
    _login(client, tokens["partner_a"])
    assert client.get("/ledger/").status_code == 403
