"""Scenario editing in the planner UI: re-plan a copy with another objective, a point of the
cost-vs-CO2e curve, or shipments kept on their modes; compare before accepting."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from test_ui import csrf, login, run_plan
from webapp_helpers import BOOK_CSV


def _wait(client: Any, resp: Any) -> str:
    assert resp.status_code == 302, resp.get_data(as_text=True)
    job_url = resp.headers["Location"]
    assert "/jobs/job_" in job_url, job_url
    deadline = time.monotonic() + 90
    while True:
        job = client.get(job_url + "/status").get_json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert job["status"] == "done", job
    return str(job["plan_id"])


@pytest.fixture
def ui_plan(client: Any, tokens: dict[str, str]) -> dict[str, Any]:
    """A cheapest plan of the small book made in the UI (with its trade-off curve)."""
    login(client, tokens["planner"])
    with BOOK_CSV.open("rb") as fh:
        url = run_plan(client, {"book": (fh, "book.csv"), "objective": "cheapest"})
    plan_id = url.rsplit("/", 1)[1]
    return {"id": plan_id, "url": url}


def _plan(client: Any, auth: Any, plan_id: str) -> dict[str, Any]:
    resp = client.get(f"/api/v1/plans/{plan_id}", headers=auth())
    assert resp.status_code == 200
    return resp.get_json()  # type: ignore[no-any-return]


def test_pick_a_point_of_the_curve_as_the_plan(
    client: Any, auth: Any, ui_plan: dict[str, Any]
) -> None:
    page = client.get(ui_plan["url"]).get_data(as_text=True)
    assert 'id="scenario-form"' in page
    points = [float(v) for v in re.findall(r'<option value="([0-9.]+)">[^<]* kg CO2e', page)]
    assert len(points) >= 2
    base = _plan(client, auth, ui_plan["id"])
    greener = min(points)  # the greenest point of the curve
    assert greener < base["summary"]["co2e_wtw_kg"]
    form = {
        "csrf_token": csrf(client, ui_plan["url"]),
        "objective": "tradeoff",
        "co2e_cap_kg": str(greener),
    }
    new_id = _wait(client, client.post(f"/plans/{ui_plan['id']}/scenario", data=form))
    new = _plan(client, auth, new_id)
    assert new["options"]["co2e_cap_kg"] == pytest.approx(greener + 0.001)
    assert new["summary"]["co2e_wtw_kg"] <= greener + 0.001
    assert new["summary"]["cost_cny"] >= base["summary"]["cost_cny"]  # greener costs more
    page = client.get(f"/plans/{new_id}").get_data(as_text=True)
    assert 'id="scenario-of"' in page and "Trade-off point" in page
    link = re.search(r'id="compare-scenario" href="([^"]+)"', page)
    assert link is not None
    cmp = client.get(link.group(1).replace("&amp;", "&"))
    assert cmp.status_code == 200 and 'id="compare"' in cmp.get_data(as_text=True)
    assert base["state"] == "proposed"  # the original is untouched


def test_pin_shipments_to_their_modes_and_replan_the_rest(
    client: Any, auth: Any, ui_plan: dict[str, Any]
) -> None:
    base = _plan(client, auth, ui_plan["id"])
    pin = base["shipments"][0]
    modes = {leg["mode"] for leg in pin["legs"]}
    form = {"csrf_token": csrf(client, ui_plan["url"]), "objective": "greenest"}
    from werkzeug.datastructures import MultiDict

    data = MultiDict([*form.items(), ("pin", pin["shipment_id"])])
    new_id = _wait(client, client.post(f"/plans/{ui_plan['id']}/scenario", data=data))
    new = _plan(client, auth, new_id)
    pinned = next(s for s in new["shipments"] if s["shipment_id"] == pin["shipment_id"])
    assert {leg["mode"] for leg in pinned["legs"]} <= modes
    assert new["options"]["objective"] == "co2e"
    assert new["summary"]["co2e_wtw_kg"] <= base["summary"]["co2e_wtw_kg"] + 1e-6
    assert f"pinned {pin['shipment_id']}" in new["name"]
    page = client.get(f"/plans/{new_id}").get_data(as_text=True)
    assert f"with {pin['shipment_id']} kept on their modes" in page


def test_clone_keeps_the_options_and_bad_edits_name_the_field(
    client: Any, auth: Any, ui_plan: dict[str, Any]
) -> None:
    form = {"csrf_token": csrf(client, ui_plan["url"]), "name": "copy"}
    new_id = _wait(client, client.post(f"/plans/{ui_plan['id']}/scenario", data=form))
    base, copy = _plan(client, auth, ui_plan["id"]), _plan(client, auth, new_id)
    assert copy["name"] == "copy" and copy["options"] == base["options"]
    assert copy["summary"]["cost_cny"] == pytest.approx(base["summary"]["cost_cny"])
    bad = {**form, "objective": "tradeoff", "co2e_cap_kg": "lots"}
    page = client.post(
        f"/plans/{ui_plan['id']}/scenario", data=bad, follow_redirects=True
    ).get_data(as_text=True)
    assert "co2e_cap_kg: pick a point of the curve" in page
    page = client.post(
        f"/plans/{ui_plan['id']}/scenario", data={**form, "pin": "NOPE"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "pin[0]: no planned shipment" in page


def test_market_scenario_eua_and_bunker_recorded_in_the_plan(
    client: Any, auth: Any, ui_plan: dict[str, Any]
) -> None:
    form = {
        "csrf_token": csrf(client, ui_plan["url"]),
        "eua_eur_per_t": "120",
        "bunker_change_pct": "30",
    }
    new_id = _wait(client, client.post(f"/plans/{ui_plan['id']}/scenario", data=form))
    base, new = _plan(client, auth, ui_plan["id"]), _plan(client, auth, new_id)
    scenario = new["options"]["scenario"]  # the plan JSON records the scenario's values
    assert scenario["eua_eur_per_t"] == 120
    assert scenario["bunker_price_factor"] == pytest.approx(1.3)
    assert scenario["jet_price_factor"] == 1.0 and scenario["rate_card_index"] == 1.0
    assert new["options"]["energy_prices"] == "bunker x1.3"
    assert "EUA at 120 EUR/t · bunker +30 %" in new["name"]
    assert base["options"]["scenario"]["bunker_price_factor"] == 1.0
    # dearer bunkers and EUAs: the same book costs more
    assert new["summary"]["cost_cny"] > base["summary"]["cost_cny"]
    page = client.get(f"/plans/{new_id}").get_data(as_text=True)
    assert "EUA at 120 EUR/t · bunker +30 %" in page
    page = client.post(
        f"/plans/{ui_plan['id']}/scenario",
        data={**form, "bunker_change_pct": "-100"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "bunker_change_pct: must lie above -100 %" in page
