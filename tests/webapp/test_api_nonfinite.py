"""Non-finite and out-of-range numbers in plan requests: ``NaN``, ``Infinity`` and overflowing
literals are refused with a 422 naming the field, and nothing is stored."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from webapp_helpers import shipment

# JSON as clients send it: Python's parser reads NaN/Infinity tokens and 1e400 as float inf.
BAD = ["NaN", "Infinity", "-Infinity", "1e400"]
SHIPMENT_FIELDS = {
    "mass_t": 1e5 + 1,
    "volume_m3": 1e6 + 1,
    "teu": 30_001,
    "max_co2e_kg": 1e10 * 1.5,
}
OPTION_FIELDS = ["carbon_price_cny_per_t", "late_penalty_cny_per_t_day", "time_limit_s"]


def _post(client, auth, path: str, doc: dict, field: str, literal: str):
    body = json.dumps(doc).replace('"@@"', literal)
    return client.post(
        path, data=body, content_type="application/json", headers=auth("integration")
    )


def _plans(app) -> int:
    from greenlane.webapp.db import engine_of
    from greenlane.webapp.tables import plans

    with engine_of(app).connect() as conn:
        return int(conn.execute(select(func.count()).select_from(plans)).scalar_one())


@pytest.mark.parametrize("literal", BAD)
@pytest.mark.parametrize("field", list(SHIPMENT_FIELDS))
def test_non_finite_shipment_numbers_are_422_naming_the_field(app, client, auth, field, literal):
    doc = {"shipments": [shipment("S1"), shipment("S2", **{field: "@@"})]}
    resp = _post(client, auth, "/api/v1/plans", doc, field, literal)
    assert resp.status_code == 422, resp.get_json()
    problem = resp.get_json()
    assert problem["field"] == f"shipments[1].{field}"
    assert _plans(app) == 0


@pytest.mark.parametrize("literal", BAD)
@pytest.mark.parametrize("field", OPTION_FIELDS)
def test_non_finite_options_are_422_naming_the_field(app, client, auth, field, literal):
    doc = {"shipments": [shipment("S1")], "options": {field: "@@"}}
    for path in ("/api/v1/plans", "/api/v1/pareto"):
        resp = _post(client, auth, path, doc, field, literal)
        assert resp.status_code == 422, resp.get_json()
        assert resp.get_json()["field"] == f"options.{field}"
    assert _plans(app) == 0


@pytest.mark.parametrize(("field", "value"), list(SHIPMENT_FIELDS.items()))
def test_upper_bounds(client, auth, field, value):
    resp = client.post(
        "/api/v1/plans",
        json={"shipments": [shipment("S1", **{field: value})]},
        headers=auth("integration"),
    )
    assert resp.status_code == 422
    assert resp.get_json()["field"] == f"shipments[0].{field}"
    assert "less than or equal" in resp.get_json()["detail"]


def test_finite_values_in_range_are_planned_and_stored_as_given(client, auth):
    extra = {"volume_m3": 33.0, "teu": 2.0, "max_co2e_kg": 5000.0}
    resp = client.post(
        "/api/v1/plans", json={"shipments": [shipment("S1", **extra)]}, headers=auth("integration")
    )
    assert resp.status_code == 201, resp.get_json()
    from greenlane.webapp.db import engine_of
    from greenlane.webapp.tables import plans

    with engine_of(client.application).connect() as conn:
        stored = conn.execute(select(plans.c.request)).scalar_one()
    assert {k: stored["shipments"][0][k] for k in extra} == extra


def test_every_request_float_is_finite_and_bounded():
    """No float field of a request model accepts infinity (every one is bounded above or
    refuses non-finite values)."""
    from pydantic import BaseModel, ValidationError

    from greenlane.webapp import schemas

    models = [
        m
        for m in vars(schemas).values()
        if (
            isinstance(m, type)
            and issubclass(m, BaseModel)
            and m.__module__ == "greenlane.webapp.schemas"
            and issubclass(m, schemas._In)
        )
        or m is schemas.ShipmentIn
    ]
    checked = 0
    for model in models:
        for name, info in model.model_fields.items():
            if info.annotation not in (float, float | None):
                continue
            adapter_input = {name: float("inf")}
            with pytest.raises(ValidationError) as err:
                model.model_validate(adapter_input)
            assert any(e["loc"] == (name,) for e in err.value.errors()), (model, name)
            checked += 1
    assert checked >= 7


def test_ui_upload_with_infinite_volume_is_refused(client, tokens):
    """The UI answers a bad book with its form again and the error (post/redirect/get)."""
    import io
    import re

    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    client.post("/login", data={"token": tokens["planner"], "csrf_token": csrf})
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").get_data(as_text=True))[
        1
    ]
    csv = (
        "shipment_id,origin,destination,mass_t,volume_m3,ready_at,due_at\n"
        "S1,F-NANJING,C-MADRID,10,inf,2026-12-01T00:00:00Z,2027-01-20T00:00:00Z\n"
    )
    resp = client.post(
        "/plans",
        data={
            "csrf_token": csrf,
            "objective": "cheapest",
            "book": (io.BytesIO(csv.encode()), "book.csv"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302 and "/jobs/" not in resp.headers["Location"]  # no job
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "line[2].volume_m3" in page  # the flashed error names the line and field
    assert _plans(client.application) == 0
