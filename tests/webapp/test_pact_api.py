"""The PACT v2 host under /pact: OAuth2 client credentials, footprints shared with the
client's partner, pagination, $filter, errors, events and their answers."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from pact_receiver import RECEIVER_CLIENT, RECEIVER_TOKEN, Receiver
from pact_tool import component_validator
from sqlalchemy import select
from webapp_helpers import bearer, close_app, make_app

from greenlane.webapp.db import engine_of, reading
from greenlane.webapp.pact import events, keys
from greenlane.webapp.pact.clients import create_client, revoke_client, rotate_client
from greenlane.webapp.pact.partners import register_host
from greenlane.webapp.tables import pact_events

HTTPS = "https://localhost"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    """The app with its instance (signing key) in tmp_path and quick callback retries."""
    app = make_app(
        f"sqlite:///{tmp_path / 'greenlane.sqlite'}",
        INSTANCE_PATH=str(tmp_path / "instance"),
        PACT_CALLBACK_ATTEMPTS=2,
        PACT_CALLBACK_BACKOFF_S=0.05,
    )
    yield app
    events.wait_answers(app)
    close_app(app)


@pytest.fixture
def shared(client: Any, auth: Any, planned: dict[str, Any]) -> str:
    """The two-shipment plan shared whole with carrier-a, and only S2 with carrier-b."""
    pid = planned["id"]
    for body in ({"partner_id": "carrier-a"}, {"partner_id": "carrier-b", "shipment_ids": ["S2"]}):
        resp = client.post(f"/api/v1/plans/{pid}/shares", json=body, headers=auth())
        assert resp.status_code == 201, resp.get_json()
    return pid


@pytest.fixture
def creds(app: Any) -> dict[str, tuple[str, str]]:
    """One client per partner: carrier-a, carrier-b and carrier-c (nothing shared)."""
    return {p: create_client(engine_of(app), p) for p in ("carrier-a", "carrier-b", "carrier-c")}


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def token_of(client: Any, pair: tuple[str, str]) -> str:
    resp = client.post(
        "/pact/auth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(*pair),
        base_url=HTTPS,
    )
    assert resp.status_code == 200, resp.get_json()
    return str(resp.get_json()["access_token"])


def pact_get(client: Any, url: str, token: str) -> Any:
    return client.get(url, headers=bearer(token), base_url=HTTPS)


# ----------------------------------------------------------------------------- OAuth2


def test_token_is_an_rs256_jwt_verifiable_with_the_jwks(client, creds):
    resp = client.post(
        "/pact/auth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(*creds["carrier-a"]),
        base_url=HTTPS,
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"] == "PACT.read"
    assert resp.headers["Cache-Control"] == "no-store"
    discovery = client.get("/pact/.well-known/openid-configuration", base_url=HTTPS).get_json()
    assert discovery["token_endpoint"] == "https://localhost/pact/auth/token"
    assert discovery["jwks_uri"] == "https://localhost/pact/jwks"
    assert discovery["grant_types_supported"] == ["client_credentials"]
    jwks = client.get("/pact/jwks", base_url=HTTPS).get_json()
    assert [k["kty"] for k in jwks["keys"]] == ["RSA"]
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "RS256" and header["kid"] == jwks["keys"][0]["kid"]
    key = jwt.PyJWKSet.from_dict(jwks).keys[0].key
    claims = jwt.decode(body["access_token"], key, algorithms=["RS256"], audience="greenlane-pact")
    assert claims["sub"] == creds["carrier-a"][0]
    assert claims["partner_id"] == "carrier-a"
    assert claims["exp"] - claims["iat"] == 3600


def test_signing_key_is_kept_in_the_instance_folder(app, client, creds):
    token_of(client, creds["carrier-a"])
    pem = Path(app.instance_path) / "pact_jwt_rsa.pem"
    assert pem.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert pem.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("headers", "data", "status", "error"),
    [
        ("wrong-secret", {"grant_type": "client_credentials"}, 401, "invalid_client"),
        ("unknown", {"grant_type": "client_credentials"}, 401, "invalid_client"),
        ("none", {"grant_type": "client_credentials"}, 401, "invalid_client"),
        ("good", {"grant_type": "password"}, 400, "unsupported_grant_type"),
        ("good", {}, 400, "invalid_request"),
    ],
)
def test_token_errors_are_rfc6749_bodies(client, creds, headers, data, status, error):
    cid, secret = creds["carrier-a"]
    sent = {
        "wrong-secret": basic(cid, secret + "x"),
        "unknown": basic("pact_0000000000000000", secret),
        "none": {},
        "good": basic(cid, secret),
    }[headers]
    resp = client.post("/pact/auth/token", data=data, headers=sent, base_url=HTTPS)
    assert resp.status_code == status
    body = resp.get_json()
    assert body["error"] == error and body["error_description"]
    assert "access_token" not in body
    if status == 401:
        assert resp.headers["WWW-Authenticate"].startswith("Basic")


def test_token_needs_a_form_body_and_https(client, creds):
    cid, secret = creds["carrier-a"]
    as_json = client.post(
        "/pact/auth/token",
        json={"grant_type": "client_credentials"},
        headers=basic(cid, secret),
        base_url=HTTPS,
    )
    assert as_json.status_code == 400 and as_json.get_json()["error"] == "invalid_request"
    plain = client.post(
        "/pact/auth/token", data={"grant_type": "client_credentials"}, headers=basic(cid, secret)
    )
    assert plain.status_code == 400
    assert plain.get_json()["error"] == "invalid_request"
    assert "access_token" not in plain.get_json()


def test_rotation_and_revocation_end_the_client_and_its_tokens(app, client, shared, creds):
    cid, old_secret = creds["carrier-a"]
    old_token = token_of(client, (cid, old_secret))
    assert pact_get(client, "/pact/2/footprints", old_token).status_code == 200
    new_secret = rotate_client(engine_of(app), cid)
    assert new_secret != old_secret
    stale = pact_get(client, "/pact/2/footprints", old_token)
    assert stale.status_code == 400 and stale.get_json()["code"] == "BadRequest"
    refused = client.post(
        "/pact/auth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(cid, old_secret),
        base_url=HTTPS,
    )
    assert refused.status_code == 401
    new_token = token_of(client, (cid, new_secret))
    assert len(pact_get(client, "/pact/2/footprints", new_token).get_json()["data"]) == 2
    revoke_client(engine_of(app), cid)
    assert pact_get(client, "/pact/2/footprints", new_token).status_code == 400
    again = client.post(
        "/pact/auth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(cid, new_secret),
        base_url=HTTPS,
    )
    assert again.status_code == 401


# ----------------------------------------------------------------------------- footprints


def test_a_client_sees_exactly_what_was_shared_with_its_partner(
    client, auth, shared, creds, ileap_schema
):
    report = client.get(f"/api/v1/plans/{shared}/report.ileap.json", headers=auth()).get_json()
    a = pact_get(client, "/pact/2/footprints", token_of(client, creds["carrier-a"]))
    assert a.status_code == 200 and a.mimetype == "application/json"
    assert "Link" not in a.headers
    a_docs = a.get_json()["data"]
    # the whole plan: the same ProductFootprints as the plan's iLEAP/PACT report
    assert sorted(a_docs, key=lambda d: d["id"]) == sorted(report["data"], key=lambda d: d["id"])
    assert len(a_docs) == 2
    for doc in a_docs:
        assert list(ileap_schema("pcf-shipment-footprint.json").iter_errors(doc)) == []
        assert doc["extensions"][0]["data"]["shipmentId"] in ("S1", "S2")
        assert doc["created"].endswith("Z")
    b_docs = pact_get(client, "/pact/2/footprints", token_of(client, creds["carrier-b"]))
    b_docs = b_docs.get_json()["data"]
    assert [d["productIds"] for d in b_docs] == [
        ["urn:pathfinder:product:customcode:vendor-assigned:shipment:S2"]
    ]
    c = pact_get(client, "/pact/2/footprints", token_of(client, creds["carrier-c"]))
    assert c.status_code == 200 and c.get_json() == {"data": []}


def test_footprints_validate_against_the_conformance_tools_v21_schema(client, shared, creds):
    validator = component_validator("2.1", "ProductFootprint")
    if validator is None:
        pytest.skip("the PACT conformance tool (its OpenAPI schemas) is not on this machine")
    docs = pact_get(client, "/pact/2/footprints", token_of(client, creds["carrier-a"]))
    for doc in docs.get_json()["data"]:
        assert [e.message for e in validator.iter_errors(doc)] == []


def test_get_footprint_by_id_is_scoped_to_the_partner(client, shared, creds):
    a_token = token_of(client, creds["carrier-a"])
    docs = pact_get(client, "/pact/2/footprints", a_token).get_json()["data"]
    s1 = next(d for d in docs if d["productIds"][0].endswith(":S1"))
    one = pact_get(client, f"/pact/2/footprints/{s1['id']}", a_token)
    assert one.status_code == 200 and one.get_json() == {"data": s1}
    # carrier-b was given S2 only: S1 does not exist for it
    b = pact_get(client, f"/pact/2/footprints/{s1['id']}", token_of(client, creds["carrier-b"]))
    assert b.status_code == 404
    assert b.get_json() == {
        "code": "NoSuchFootprint",
        "message": f"Footprint with ID '{s1['id']}' does not exist",
    }
    bad = pact_get(client, "/pact/2/footprints/not-a-uuid", a_token)
    assert bad.status_code == 400 and bad.get_json()["code"] == "BadRequest"


def test_pagination_by_link_header(client, shared, creds):
    token = token_of(client, creds["carrier-a"])
    everything = pact_get(client, "/pact/2/footprints", token).get_json()["data"]
    first = pact_get(client, "/pact/2/footprints?limit=1", token)
    assert first.get_json()["data"] == everything[:1]
    link = first.headers["Link"]
    assert link == '<https://localhost/pact/2/footprints?limit=1&offset=1>; rel="next"'
    second = pact_get(client, link[1 : link.index(">")].removeprefix(HTTPS), token)
    assert second.get_json()["data"] == everything[1:2]
    assert "Link" not in second.headers
    for bad in ("limit=0", "limit=abc", "limit=-1", "offset=x"):
        resp = pact_get(client, f"/pact/2/footprints?{bad}", token)
        assert resp.status_code == 400 and resp.get_json()["code"] == "BadRequest", bad


def test_filter(client, shared, creds):
    token = token_of(client, creds["carrier-a"])
    docs = pact_get(client, "/pact/2/footprints", token).get_json()["data"]
    created = docs[0]["created"]
    s2 = "urn:pathfinder:product:customcode:vendor-assigned:shipment:S2"

    def ids(expr: str) -> list[str]:
        resp = client.get(
            "/pact/2/footprints",
            query_string={"$filter": expr},
            headers=bearer(token),
            base_url=HTTPS,
        )
        assert resp.status_code == 200, resp.get_json()
        return [d["id"] for d in resp.get_json()["data"]]

    assert ids(f"created ge '{created}'") == [d["id"] for d in docs]
    assert ids("created lt '2000-01-01T00:00:00Z'") == []
    assert ids(f"productIds/any(productId:(productId eq '{s2}'))") == [
        d["id"] for d in docs if d["productIds"] == [s2]
    ]
    assert ids(f"productCategoryCpc eq '83117' and productIds/any(p:(p eq '{s2}'))") == [
        d["id"] for d in docs if d["productIds"] == [s2]
    ]
    assert len(ids("pcf/declaredUnit eq 'ton kilometer'")) == 2
    paged = client.get(
        "/pact/2/footprints",
        query_string={"$filter": "pcf/declaredUnit eq 'ton kilometer'", "limit": 1},
        headers=bearer(token),
        base_url=HTTPS,
    )
    assert "%24filter=pcf%2FdeclaredUnit+eq+%27ton+kilometer%27" in paged.headers["Link"]
    unsupported = client.get(
        "/pact/2/footprints",
        query_string={"$filter": "created ge '2020-01-01T00:00:00Z' or version eq '1'"},
        headers=bearer(token),
        base_url=HTTPS,
    )
    assert unsupported.status_code == 400
    assert unsupported.get_json()["code"] == "NotImplemented"


def test_ileap_tad_lists_the_shared_legs(client, auth, shared, creds, ileap_schema):
    plan = client.get(f"/api/v1/plans/{shared}", headers=auth()).get_json()
    a = pact_get(client, "/pact/2/ileap/tad", token_of(client, creds["carrier-a"]))
    assert a.status_code == 200
    tads = a.get_json()["data"]
    assert tads, "the planned legs have times and located end points"
    for tad in tads:
        assert list(ileap_schema("tad.json").iter_errors(tad)) == []
        assert tad["activityId"].startswith(f"{shared}/")
        assert tad["departureAt"].endswith("Z") and tad["arrivalAt"].endswith("Z")
    modes = {"road": "Road", "rail": "Rail", "sea": "Sea", "inland_water": "InlandWaterway"}
    for shipment in plan["shipments"]:  # one TAD per planned leg, in chain order
        mine = [t for t in tads if t["consignmentIds"] == [shipment["shipment_id"]]]
        assert [t["mode"] for t in mine] == [modes[leg["mode"]] for leg in shipment["legs"]]
        assert [float(next(iter(t["distance"].values()))) for t in mine] == pytest.approx(
            [leg["distance_km"] for leg in shipment["legs"]], abs=0.0005
        )
    assert len(tads) == sum(len(s["legs"]) for s in plan["shipments"])
    b = pact_get(client, "/pact/2/ileap/tad?limit=1", token_of(client, creds["carrier-b"]))
    b_tads = b.get_json()["data"]
    assert len(b_tads) == 1 and b_tads[0]["consignmentIds"] == ["S2"]
    b_all = pact_get(client, "/pact/2/ileap/tad", token_of(client, creds["carrier-b"]))
    assert [t["consignmentIds"] for t in b_all.get_json()["data"]] == [["S2"]] * len(
        b_all.get_json()["data"]
    )
    if len(b_all.get_json()["data"]) > 1:
        assert b.headers["Link"].startswith("<https://localhost/pact/2/ileap/tad?limit=1&offset=1>")
    assert pact_get(client, "/pact/2/ileap/tad", "bad").status_code == 400


def _signed(app: Any, **claims: Any) -> str:
    with app.app_context():
        key = keys.signing_key()
    now = datetime.now(UTC)
    body = {"sub": "x", "aud": "greenlane-pact", "iat": now, "exp": now + timedelta(hours=1)}
    return jwt.encode({**body, **claims}, key.private, algorithm="RS256")


def test_bad_tokens_get_pact_error_bodies(app, client, shared, creds):
    cid = creds["carrier-a"][0]
    good = token_of(client, creds["carrier-a"])
    sfp = jwt.decode(good, options={"verify_signature": False})["sfp"]
    invalid = {"code": "BadRequest", "message": "Invalid token provided"}
    for headers in ({}, bearer("very-invalid-access-token"), {"Authorization": "Basic eDp5"}):
        resp = client.get("/pact/2/footprints", headers=headers, base_url=HTTPS)
        assert resp.status_code == 400 and resp.get_json() == invalid
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    past = datetime.now(UTC) - timedelta(hours=2)
    expired = _signed(app, sub=cid, sfp=sfp, iat=past, exp=past + timedelta(hours=1))
    resp = pact_get(client, "/pact/2/footprints", expired)
    assert resp.status_code == 401 and resp.get_json()["code"] == "TokenExpired"
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        {"sub": cid, "sfp": sfp, "aud": "greenlane-pact", "iat": 0, "exp": 4102444800},
        other,
        algorithm="RS256",
    )
    assert pact_get(client, "/pact/2/footprints", forged).get_json() == invalid


def test_plain_http_never_answers_with_data(client, shared, creds):
    token = token_of(client, creds["carrier-a"])
    for url in ("/pact/2/footprints", f"/pact/2/footprints/{uuid.uuid4()}"):
        resp = client.get(url, headers=bearer(token))
        assert resp.status_code == 403
        assert resp.get_json() == {
            "code": "AccessDenied",
            "message": "PACT calls are served over HTTPS only",
        }


# ----------------------------------------------------------------------------- events


def _event(kind: str, data: dict[str, Any], source: str = "https://recipient.example") -> dict:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": source,
        "time": "2026-12-06T10:30:00Z",
        "type": kind,
        "data": data,
    }


def post_event(client: Any, token: str, body: Any) -> Any:
    return client.post(
        "/pact/2/events",
        json=body,
        headers=bearer(token, **{"Content-Type": "application/cloudevents+json; charset=UTF-8"}),
        base_url=HTTPS,
    )


def test_published_event_is_logged_and_malformed_events_are_400(app, client, creds):
    token = token_of(client, creds["carrier-a"])
    pf = str(uuid.uuid4())
    ok = post_event(client, token, _event(events.PUBLISHED, {"pfIds": [pf]}))
    assert ok.status_code == 200 and ok.get_data() == b""
    with reading(engine_of(app)) as conn:
        row = conn.execute(select(pact_events)).one()
    assert row.event_type == events.PUBLISHED and row.body["data"]["pfIds"] == [pf]
    assert row.client_id == creds["carrier-a"][0] and row.answer_type is None
    bad_bodies = {
        "data.pfIds: not a UUID: 'urn:gtin:4712345060507'": _event(
            events.PUBLISHED, {"pfIds": ["urn:gtin:4712345060507"]}
        ),
        "specversion: must be '1.0'": {
            **_event(events.PUBLISHED, {"pfIds": [pf]}),
            "specversion": "0.3",
        },
        "type: 'org.example.Other' is not a PACT v2 event type": _event("org.example.Other", {}),
        "data.pf: a non-empty ProductFootprint fragment is required": _event(events.CREATED, {}),
        "time: not an RFC 3339 date-time": {
            **_event(events.PUBLISHED, {"pfIds": [pf]}),
            "time": "noon",
        },
        "the body must be a JSON object (a CloudEvent)": [1, 2],
    }
    for message, body in bad_bodies.items():
        resp = post_event(client, token, body)
        assert resp.status_code == 400
        assert resp.get_json() == {"code": "BadRequest", "message": message}
    invalid = post_event(
        client, "very-invalid-access-token", _event(events.PUBLISHED, {"pfIds": [pf]})
    )
    assert invalid.status_code == 400 and invalid.get_json()["code"] == "BadRequest"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def test_request_created_is_answered_at_the_recipients_events_endpoint(
    app, client, shared, creds, receiver
):
    """RequestCreated -> RequestFulfilled (a shared shipment) or RequestRejected (unknown
    product, or a shipment not shared with the caller's partner), POSTed to the recipient's
    ``/2/events`` with a bearer token from its own token endpoint."""
    register_host(app, "carrier-a", receiver.url, *RECEIVER_CLIENT)
    register_host(app, "carrier-b", receiver.url, *RECEIVER_CLIENT)
    a_token = token_of(client, creds["carrier-a"])
    s1 = next(
        d
        for d in pact_get(client, "/pact/2/footprints", a_token).get_json()["data"]
        if d["productIds"][0].endswith(":S1")
    )
    asks = [
        (a_token, _event(events.CREATED, {"pf": {"productIds": s1["productIds"]}}, receiver.url)),
        (a_token, _event(events.CREATED, {"pf": {"productIds": ["urn:pact:null"]}}, receiver.url)),
        (
            token_of(client, creds["carrier-b"]),
            _event(events.CREATED, {"pf": {"productIds": s1["productIds"]}}, receiver.url),
        ),
    ]
    for token, ask in asks:
        resp = post_event(client, token, ask)
        assert resp.status_code == 200 and resp.get_data() == b""
        events.wait_answers(app)  # one at a time: the calls arrive in order
    calls = receiver.wait(3)
    assert [c["path"] for c in calls] == ["/2/events"] * 3
    for call in calls:
        assert call["headers"]["Authorization"] == f"Bearer {RECEIVER_TOKEN}"
        assert call["headers"]["Content-Type"] == "application/cloudevents+json; charset=UTF-8"
    fulfilled, rejected, not_shared = (c["body"] for c in calls)
    assert fulfilled["type"] == events.FULFILLED
    assert fulfilled["specversion"] == "1.0" and fulfilled["source"] == "https://localhost/pact"
    assert fulfilled["data"] == {"requestEventId": asks[0][1]["id"], "pfs": [s1]}
    for answer, ask in ((rejected, asks[1][1]), (not_shared, asks[2][1])):
        assert answer["type"] == events.REJECTED
        assert answer["data"] == {
            "requestEventId": ask["id"],
            "error": {"code": "NotFound", "message": "The requested footprint could not be found."},
        }
    validators = {
        events.FULFILLED: component_validator("2.2", "RequestFulfilledEvent"),
        events.REJECTED: component_validator("2.2", "RequestRejectedEvent"),
    }
    for answer in (fulfilled, rejected, not_shared):
        validator = validators[answer["type"]]
        if validator is not None:  # the spec's schema, from the conformance tool
            assert [e.message for e in validator.iter_errors(answer)] == []
    with reading(engine_of(app)) as conn:
        rows = list(conn.execute(select(pact_events).order_by(pact_events.c.id)))
    assert [r.answer_status for r in rows] == ["delivered"] * 3
    assert rows[0].answer_url == f"{receiver.url}/2/events"


def test_answers_only_go_to_https_or_loopback_sources(app, client, shared, creds):
    token = token_of(client, creds["carrier-a"])
    ask = _event(events.CREATED, {"pf": {"productIds": ["urn:pact:null"]}}, "http://10.1.2.3:80")
    assert post_event(client, token, ask).status_code == 200
    events.wait_answers(app)
    with reading(engine_of(app)) as conn:
        row = conn.execute(select(pact_events)).one()
    assert row.answer_type == events.REJECTED
    assert (row.answer_status, row.answer_url) == ("undeliverable", None)


def test_undelivered_answers_are_retried_and_logged(app, client, shared, creds, receiver):
    token = token_of(client, creds["carrier-a"])
    url = receiver.url
    receiver.close()  # nobody listens any more
    ask = _event(events.CREATED, {"pf": {"productIds": ["urn:pact:null"]}}, url)
    assert post_event(client, token, ask).status_code == 200
    events.wait_answers(app)
    with reading(engine_of(app)) as conn:
        row = conn.execute(select(pact_events)).one()
    assert row.answer_status == "failed" and "Connection refused" in row.answer_error


def test_unknown_paths_and_methods_under_pact_get_pact_bodies(client, creds):
    token = token_of(client, creds["carrier-a"])
    missing = pact_get(client, "/pact/3/footprints", token)
    assert missing.status_code == 404 and missing.get_json()["code"] == "NotFound"
    wrong = client.get("/pact/auth/token", base_url=HTTPS)
    assert wrong.status_code == 405 and wrong.get_json()["code"] == "NotImplemented"
    assert wrong.headers["Allow"] == "OPTIONS, POST"


# ----------------------------------------------------------------------------- CLI


def test_create_rotate_revoke_client_commands(app, client, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from greenlane.webapp.cli import main

    monkeypatch.setenv("GREENLANE_INSTANCE_PATH", app.instance_path)
    url = app.config["DATABASE_URL"]
    runner = CliRunner()
    made = runner.invoke(main, ["create-client", "--partner", "carrier-a", "--database-url", url])
    assert made.exit_code == 0, made.output
    line = made.output.strip()
    assert "\n" not in line
    cid, secret = line.split(" ")
    assert cid.startswith("pact_") and len(secret) == 43
    token_of(client, (cid, secret))
    rotated = runner.invoke(main, ["rotate-client", cid, "--database-url", url])
    assert rotated.exit_code == 0
    rid, new_secret = rotated.output.split()
    assert rid == cid and new_secret != secret
    token_of(client, (cid, new_secret))
    revoked = runner.invoke(main, ["revoke-client", cid, "--database-url", url])
    assert revoked.exit_code == 0 and revoked.output == f"client {cid} revoked\n"
    again = runner.invoke(main, ["rotate-client", cid, "--database-url", url])
    assert again.exit_code == 2 and f"no live client '{cid}'" in again.output
    empty = runner.invoke(main, ["create-client", "--partner", " ", "--database-url", url])
    assert empty.exit_code == 2 and "partner_id" in empty.output
    host = runner.invoke(
        main,
        [
            "add-partner-host",
            "--partner",
            "carrier-x",
            "--url",
            "ftp://carrier.example/pact",
            "--client-id",
            "c",
            "--client-secret",
            "s",
            "--database-url",
            url,
        ],
    )
    assert host.exit_code == 2 and "base_url" in host.output


def test_serve_needs_both_certfile_and_keyfile(tmp_path):
    from click.testing import CliRunner

    from greenlane.webapp.cli import main

    cert = tmp_path / "cert.pem"
    cert.write_text("not a certificate")
    only_cert = CliRunner().invoke(main, ["serve", "--certfile", str(cert)])
    assert only_cert.exit_code == 2
    assert "--certfile and --keyfile go together" in only_cert.output
    bad_pair = CliRunner().invoke(main, ["serve", "--certfile", str(cert), "--keyfile", str(cert)])
    assert bad_pair.exit_code == 2 and "cannot load the pair" in bad_pair.output


def test_pact_posts_need_no_form_token(app, client, creds):
    """/pact is a machine API (Basic/Bearer, no session cookie): exempt from the CSRF guard."""
    with client.session_transaction() as sess:  # even with a browser session around
        sess["csrf_token"] = "x"
    token = token_of(client, creds["carrier-a"])
    resp = post_event(client, token, _event(events.PUBLISHED, {"pfIds": [str(uuid.uuid4())]}))
    assert resp.status_code == 200
