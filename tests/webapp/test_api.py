"""The JSON API: plans (201/202), jobs, auth and roles, problem documents, idempotency."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from webapp_helpers import book, make_app, shipment, wait_job

PROBLEM = "application/problem+json"


def assert_problem(resp: Any, status: int, field: str | None = None) -> dict[str, Any]:
    """A problem+json answer with this status (and field)."""
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == PROBLEM
    doc = resp.get_json()
    assert doc["status"] == status
    assert doc["title"]
    if field is not None:
        assert doc["field"] == field, doc
    return doc


def count(app: Any, table: Any) -> int:
    from greenlane.webapp.db import engine_of

    with engine_of(app).connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


# ----------------------------------------------------------------------------- docs


def test_openapi_document_lists_every_endpoint(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for path in (
        "/api/v1/plans",
        "/api/v1/plans/{plan_id}",
        "/api/v1/jobs/{job_id}",
        "/api/v1/footprints",
        "/api/v1/network",
        "/api/v1/pareto",
        "/api/v1/plans/{plan_id}/report.{fmt}",
        "/api/v1/plans/{plan_id}/shipments/{shipment_id}/report.{fmt}",
        "/api/v1/plans/{plan_id}/shares",
    ):
        assert path in paths, path
    post = paths["/api/v1/plans"]["post"]
    assert {"201", "202", "401", "422"} <= set(post["responses"])
    assert post["security"] == [{"bearerAuth": []}]
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    schemas = doc["components"]["schemas"]
    assert {"PlanRequest", "ShipmentIn", "PlanOut", "JobOut", "Problem", "ChainIn"} <= set(schemas)
    assert "mass_t" in schemas["ShipmentIn"]["properties"]
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_docs_page_is_served_offline(client):
    page = client.get("/api/v1/swagger")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "swagger-ui-bundle.js" in html
    assert "http://" not in html and "https://" not in html.replace("https://swagger.io", "")
    bundle = client.get("/api/v1/swagger/js/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    bundle.close()


# ----------------------------------------------------------------------------- auth


def test_no_token_is_401_with_challenge(client):
    resp = client.get("/api/v1/network")
    assert_problem(resp, 401)
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer nope", "Basic abc", "Bearer ", "gl_x"])
def test_bad_token_is_401(client, tokens, header):
    assert_problem(client.get("/api/v1/network", headers={"Authorization": header}), 401)


def test_tokens_are_stored_hashed(app, tokens):
    from greenlane.webapp.db import engine_of
    from greenlane.webapp.tables import api_tokens

    with engine_of(app).connect() as conn:
        stored = [r.token_sha256 for r in conn.execute(select(api_tokens))]
    for token in tokens.values():
        assert token not in stored
    assert all(len(h) == 64 for h in stored)


def test_partner_may_not_plan_and_integration_accepts_only_its_own(client, auth, planned):
    resp = client.post("/api/v1/plans", json={"shipments": book(1)}, headers=auth("partner_a"))
    assert_problem(resp, 403)
    resp = client.post(f"/api/v1/plans/{planned['id']}/accept", headers=auth("partner_a"))
    assert_problem(resp, 403)
    other = client.post("/api/v1/plans", json={"shipments": book(1)}, headers=auth()).get_json()
    resp = client.post(f"/api/v1/plans/{other['id']}/accept", headers=auth("integration"))
    assert_problem(resp, 404)  # a planner's plan does not exist for the integration
    resp = client.post(f"/api/v1/plans/{planned['id']}/accept", headers=auth("integration"))
    assert resp.status_code == 200 and resp.get_json()["state"] == "accepted"


def test_partner_sees_the_network(client, auth):
    resp = client.get("/api/v1/network", headers=auth("partner_a"))
    assert resp.status_code == 200
    assert resp.mimetype == "application/geo+json"
    doc = resp.get_json()
    assert doc["type"] == "FeatureCollection"
    kinds = {f["geometry"]["type"] for f in doc["features"]}
    assert {"Point", "LineString"} <= kinds


# ----------------------------------------------------------------------------- plans


def test_small_book_is_planned_at_once(client, auth, planned):
    assert planned["id"].startswith("pl_")
    assert planned["state"] == "proposed"
    assert planned["status"] in ("optimal", "feasible")
    assert planned["summary"]["shipments_planned"] == 2
    assert planned["summary"]["co2e_wtw_kg"] > planned["summary"]["co2e_ttw_kg"] > 0
    assert planned["data_sha256"]["network"] and planned["data_sha256"]["factors"]
    ship = planned["shipments"][0]
    assert ship["legs"] and ship["footprint"]["totals"]["co2e_wtw_kg"] == ship["co2e_wtw_kg"]
    assert planned["solver"]["seed"] == 0 and planned["solver"]["workers"] == 1
    assert planned["links"]["report_pdf"].endswith("/report.pdf")
    again = client.get(f"/api/v1/plans/{planned['id']}", headers=auth())
    assert again.status_code == 200
    assert again.get_json()["summary"] == planned["summary"]


def test_post_plan_sets_location(client, auth):
    resp = client.post("/api/v1/plans", json={"shipments": book(1)}, headers=auth())
    assert resp.status_code == 201
    assert resp.headers["Location"] == f"/api/v1/plans/{resp.get_json()['id']}"


def test_options_reach_the_planner(client, auth):
    body = {
        "shipments": book(2),
        "options": {"objective": "co2e", "time_limit_s": 3, "seed": 0, "deterministic_time": 2.5},
    }
    green = client.post("/api/v1/plans", json=body, headers=auth()).get_json()
    cheap = client.post("/api/v1/plans", json={"shipments": book(2)}, headers=auth()).get_json()
    assert green["options"]["objective"] == "co2e"
    assert green["options"]["time_limit_s"] == 3
    assert green["options"]["deterministic_time"] == 2.5
    assert green["summary"]["co2e_wtw_kg"] <= cheap["summary"]["co2e_wtw_kg"]
    assert green["summary"]["cost_cny"] >= cheap["summary"]["cost_cny"]


def test_async_flag_gives_202_and_a_job(client, auth):
    resp = client.post("/api/v1/plans", json={"shipments": book(1), "async": True}, headers=auth())
    assert resp.status_code == 202
    location = resp.headers["Location"]
    assert location.startswith("/api/v1/jobs/job_")
    assert resp.get_json()["status"] in ("queued", "running", "done")
    job = wait_job(client, location, auth())
    assert job["status"] == "done", job
    assert job["progress"] == 1.0
    plan = client.get(job["result_url"], headers=auth())
    assert plan.status_code == 200
    assert plan.get_json()["summary"]["shipments_planned"] == 1


def test_large_book_becomes_a_job(client, auth):
    resp = client.post("/api/v1/plans", json={"shipments": book(4)}, headers=auth("integration"))
    assert resp.status_code == 202  # threshold is 3 shipments in the tests
    job = wait_job(client, resp.headers["Location"], auth("integration"))
    assert job["status"] == "done"
    assert client.get(job["result_url"], headers=auth("integration")).status_code == 200


def test_jobs_are_private_to_their_creator(client, auth, tokens):
    resp = client.post(
        "/api/v1/plans", json={"shipments": book(1), "async": True}, headers=auth("integration")
    )
    location = resp.headers["Location"]
    from webapp_helpers import bearer

    from greenlane.webapp.auth import create_token
    from greenlane.webapp.db import engine_of

    other = create_token(engine_of(client.application), "integration")[1]
    assert_problem(client.get(location, headers=bearer(other)), 404)
    assert client.get(location, headers=auth("planner")).status_code == 200
    wait_job(client, location, auth("integration"))


def test_startup_fails_jobs_left_running(tmp_path):
    from webapp_helpers import close_app

    from greenlane.webapp import store
    from greenlane.webapp.db import engine_of, transaction

    url = f"sqlite:///{tmp_path / 'g.sqlite'}"
    first = make_app(url)
    with transaction(engine_of(first)) as conn:
        job_id = store.insert_job(conn, "plan", {"shipments": []}, None)
        store.set_job(conn, job_id, status="running")
    close_app(first)
    second = make_app(url)
    try:
        with transaction(engine_of(second)) as conn:
            row = store.get_job(conn, job_id)
        assert row.status == "failed"
        assert "server stopped" in row.error["detail"]
    finally:
        close_app(second)


def test_unknown_plan_and_job_are_404(client, auth):
    assert_problem(client.get("/api/v1/plans/pl_nope", headers=auth()), 404)
    assert_problem(client.get("/api/v1/jobs/job_nope", headers=auth()), 404)
    assert_problem(client.get("/api/v1/nothing-here", headers=auth()), 404)


def test_wrong_method_is_405_problem(client, auth):
    resp = client.delete("/api/v1/plans", headers=auth())
    assert_problem(resp, 405)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"shipments": []}, "shipments"),
        ({}, "shipments"),
        ({"shipments": [shipment(mass_t=-1)]}, "shipments[0].mass_t"),
        ({"shipments": [shipment(mass_t="heavy")]}, "shipments[0].mass_t"),
        (
            {"shipments": [shipment(), shipment("S2", ready_at="yesterday")]},
            "shipments[1].ready_at",
        ),
        ({"shipments": [shipment(colour="green")]}, "shipments[0].colour"),
        ({"shipments": [shipment(allowed_modes=["teleport"])]}, "shipments[0].allowed_modes[0]"),
        ({"shipments": [shipment(origin="NOWHERE")]}, "shipments[0].origin"),
        ({"shipments": [shipment(destination="99;999")]}, "shipments[0].destination"),
        ({"shipments": [shipment(), shipment()]}, "shipments[1].shipment_id"),
        ({"shipments": [shipment(due_at="2026-11-01T00:00:00Z")]}, "shipments[0].due_at"),
        ({"shipments": book(1), "options": {"objective": "fastest"}}, "options.objective"),
        (
            {"shipments": book(1), "options": {"carbon_price_cny_per_t": -5}},
            "options.carbon_price_cny_per_t",
        ),
        ({"shipments": book(1), "options": {"time_limit_s": 500}}, "options.time_limit_s"),
        ({"shipments": book(1), "options": {"k_paths": 0}}, "options.k_paths"),
        ({"shipments": book(1), "options": {"target_year": 2050}}, "options.target_year"),
        (
            {"shipments": book(1), "options": {"deterministic_time": 0}},
            "options.deterministic_time",
        ),
        ({"shipments": book(1), "async": "maybe"}, "async"),
        ({"shipments": "S1"}, "shipments"),
    ],
)
def test_bad_plan_input_is_422_naming_the_field(client, auth, body, field):
    resp = client.post("/api/v1/plans", json=body, headers=auth())
    doc = assert_problem(resp, 422, field)
    assert doc["detail"]


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("not json", "application/json"),
        ("[1, 2, 3]", "application/json"),
        ("null", "application/json"),
        ('"text"', "application/json"),
        ("shipments=1", "application/x-www-form-urlencoded"),
        ("\xff\xfe", "application/json"),
        ('{"shipments": [', "application/json"),
    ],
)
def test_garbage_bodies_are_4xx_never_500(client, auth, data, content_type):
    for path in ("/api/v1/plans", "/api/v1/pareto", "/api/v1/footprints"):
        resp = client.post(path, data=data, content_type=content_type, headers=auth())
        assert 400 <= resp.status_code < 500, (path, resp.get_data(as_text=True))
        assert resp.mimetype == PROBLEM


def test_oversized_body_is_413(app, client, auth):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    resp = client.post(
        "/api/v1/plans", data="x" * 5000, content_type="application/json", headers=auth()
    )
    assert_problem(resp, 413)


# ----------------------------------------------------------------------------- idempotency


def test_idempotent_retry_returns_the_first_plan(app, client, auth):
    from greenlane.webapp.tables import plans

    body = {"shipments": book(1)}
    first = client.post("/api/v1/plans", json=body, headers=auth(**{"Idempotency-Key": "k-1"}))
    second = client.post("/api/v1/plans", json=body, headers=auth(**{"Idempotency-Key": "k-1"}))
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] == second.get_json()["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["Location"] == first.headers["Location"]
    assert count(app, plans) == 1


def test_idempotency_key_with_another_body_is_rejected(client, auth):
    h = auth(**{"Idempotency-Key": "k-2"})
    assert client.post("/api/v1/plans", json={"shipments": book(1)}, headers=h).status_code == 201
    resp = client.post("/api/v1/plans", json={"shipments": book(2)}, headers=h)
    assert_problem(resp, 422, "Idempotency-Key")


def test_idempotent_retry_of_a_job_returns_the_same_job(app, client, auth):
    from greenlane.webapp.tables import jobs

    body = {"shipments": book(1), "async": True}
    h = auth(**{"Idempotency-Key": "job-key"})
    first = client.post("/api/v1/plans", json=body, headers=h)
    second = client.post("/api/v1/plans", json=body, headers=h)
    assert first.status_code == second.status_code == 202
    assert first.headers["Location"] == second.headers["Location"]
    assert count(app, jobs) == 1
    wait_job(client, first.headers["Location"], auth())


def test_idempotency_keys_are_per_token(client, auth):
    body = {"shipments": book(1)}
    a = client.post("/api/v1/plans", json=body, headers=auth("planner", **{"Idempotency-Key": "k"}))
    b = client.post(
        "/api/v1/plans", json=body, headers=auth("integration", **{"Idempotency-Key": "k"})
    )
    assert a.get_json()["id"] != b.get_json()["id"]


def test_failed_request_is_replayed_too(client, auth):
    h = auth(**{"Idempotency-Key": "bad"})
    body = {"shipments": [shipment(origin="NOWHERE")]}
    first = client.post("/api/v1/plans", json=body, headers=h)
    second = client.post("/api/v1/plans", json=body, headers=h)
    assert first.status_code == second.status_code == 422
    assert first.get_json() == second.get_json()


def test_overlong_idempotency_key_is_400(client, auth):
    resp = client.post(
        "/api/v1/plans", json={"shipments": book(1)}, headers=auth(**{"Idempotency-Key": "k" * 300})
    )
    assert_problem(resp, 400, "Idempotency-Key")


# ----------------------------------------------------------------------------- footprints, pareto


def test_footprint_of_the_demo_chain(client, auth, example_chain):
    resp = client.post("/api/v1/footprints", json=example_chain, headers=auth("integration"))
    assert resp.status_code == 200
    doc = resp.get_json()
    assert doc["shipment_id"] == example_chain["shipment_id"]
    t = doc["totals"]
    assert t["co2e_wtw_kg"] == pytest.approx(t["co2e_wtt_kg"] + t["co2e_ttw_kg"], abs=0.002)
    assert len(doc["legs"]) == len(example_chain["legs"])


def test_footprint_as_ileap_validates(client, auth, example_chain, ileap_schema):
    resp = client.post("/api/v1/footprints?format=ileap", json=example_chain, headers=auth())
    assert resp.status_code == 200
    ileap_schema("shipment-footprint.json").validate(resp.get_json())


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda c: c.pop("legs"), "legs"),
        (lambda c: c["legs"][0].update(mode="teleport"), "legs[0].mode"),
        (
            lambda c: c["legs"][1]["hoc"].update(co2e_wtw_kg_per_t="x"),
            "legs[1].hoc.co2e_wtw_kg_per_t",
        ),
        (lambda c: c.update(mass_t=0), "mass_t"),
    ],
)
def test_bad_chain_is_422_naming_the_field(client, auth, example_chain, mutate, field):
    chain = json.loads(json.dumps(example_chain))
    mutate(chain)
    assert_problem(client.post("/api/v1/footprints", json=chain, headers=auth()), 422, field)


def test_pareto_gives_a_frontier(client, auth):
    resp = client.post(
        "/api/v1/pareto", json={"shipments": book(2), "points": 3}, headers=auth("integration")
    )
    assert resp.status_code == 200, resp.get_json()
    points = resp.get_json()["points"]
    assert 1 <= len(points) <= 3
    costs = [p["cost_cny"] for p in points]
    co2e = [p["co2e_wtw_kg"] for p in points]
    assert costs == sorted(costs)
    assert co2e == sorted(co2e, reverse=True)
    assert set(points[0]["paths"]) == {"S1", "S2"}


def test_pareto_bad_points_is_422(client, auth):
    resp = client.post("/api/v1/pareto", json={"shipments": book(1), "points": 1}, headers=auth())
    assert_problem(resp, 422, "points")


# ----------------------------------------------------------------------------- accept


def test_planner_accepts_a_plan(client, auth, planned):
    resp = client.post(f"/api/v1/plans/{planned['id']}/accept", headers=auth("planner"))
    assert resp.status_code == 200
    doc = resp.get_json()
    assert doc["state"] == "accepted" and doc["accepted_at"]
    again = client.post(f"/api/v1/plans/{planned['id']}/accept", headers=auth("planner"))
    assert again.get_json()["accepted_at"] == doc["accepted_at"]


def test_a_time_before_year_1_in_utc_is_a_422(client, auth):
    # 0001-01-01T00:00+03:04 is 0000-12-31T20:56Z: no such year (found by the fuzz run)
    resp = client.post(
        "/api/v1/plans",
        json={"shipments": [shipment(ready_at="0001-01-01T00:00:00+03:04")]},
        headers=auth(),
    )
    assert_problem(resp, 422, "shipments[0].ready_at")
