"""greenlane as a PACT client: a second greenlane process (a carrier's host, over HTTPS)
shares its plan of a book with us; we pull its ShipmentFootprints and record them in our
ledger as primary data, matched to our planned shipments of the same book."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from pact_live import greenlane, instance_env, self_signed, serving
from webapp_helpers import BOOK_CSV, wait_job

pytestmark = pytest.mark.slow

PARTNER = "carrier-x"


@pytest.fixture(scope="module")
def carrier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The carrier's greenlane (demo plan of the small book shared with ``demo-partner``)
    and a client of ``demo-partner`` it issued to us."""
    tmp = tmp_path_factory.mktemp("pact-carrier")
    certfile, keyfile = self_signed(tmp)
    env = instance_env(tmp / "instance")
    client_id, secret = greenlane(env, "create-client", "--partner", "demo-partner").split()
    with serving(env, certfile, keyfile, tmp / "serve.log", "--book", str(BOOK_CSV)) as base:
        yield {"base": base, "client_id": client_id, "secret": secret, "cert": str(certfile)}


def _plan_small_book(client: Any, auth: Any) -> str:
    from greenlane.webapp.books import from_upload

    shipments = from_upload(BOOK_CSV.name, BOOK_CSV.read_bytes())
    resp = client.post(
        "/api/v1/plans", json={"shipments": shipments, "name": "ours"}, headers=auth("integration")
    )
    assert resp.status_code in (201, 202), resp.get_json()
    body = resp.get_json()
    if resp.status_code == 202:
        job = wait_job(client, body["links"]["self"], auth("integration"), timeout_s=300)
        assert job["status"] == "done", job
        return str(job["result_plan_id"])
    return str(body["id"])


def test_a_second_instance_pulls_footprints_into_its_ledger(
    app, client, auth, carrier, monkeypatch
):
    from click.testing import CliRunner

    from greenlane.webapp.cli import main
    from greenlane.webapp.pact.partners import hosts, register_host
    from greenlane.webapp.pact.pull import pull

    plan_id = _plan_small_book(client, auth)
    accepted = client.post(f"/api/v1/plans/{plan_id}/accept", headers=auth())
    assert accepted.status_code == 200, accepted.get_json()
    app.config["PACT_CA_FILE"] = carrier["cert"]
    register_host(app, PARTNER, carrier["base"], carrier["client_id"], carrier["secret"])
    (host,) = hosts(app, PARTNER)
    items = pull(app, host)
    planned = client.get(f"/api/v1/plans/{plan_id}", headers=auth()).get_json()
    planned_ids = sorted(s["shipment_id"] for s in planned["shipments"])
    assert sorted(i.shipment_id for i in items) == planned_ids  # the carrier planned them all
    assert {(i.status, i.plan_id) for i in items} == {("recorded", plan_id)}
    with app.app_context():
        from greenlane.webapp.db import reading
        from greenlane.webapp.tables import pact_pulled

        with reading() as conn:
            bodies = {r.shipment_id: r.body for r in conn.execute(pact_pulled.select())}
    for item in items:
        actuals = client.get(f"/api/v1/shipments/{item.shipment_id}/actuals", headers=auth())
        assert actuals.status_code == 200, actuals.get_json()
        (actual,) = actuals.get_json()["versions"]
        assert actual["id"] == item.actual_id and actual["carrier"] == PARTNER
        assert actual["plan_id"] == plan_id
        assert {leg["data_type"] for leg in actual["legs"]} == {"primary"}
        pulled = bodies[item.shipment_id]
        tces = pulled["extensions"][0]["data"]["tces"]
        assert [leg["tce_id"] for leg in actual["legs"]] == [t["tceId"] for t in tces]
        assert {leg["carrier"] for leg in actual["legs"] if leg["kind"] == "leg"} == {PARTNER}
        # the ledger holds the carrier's numbers (to the gram: they arrive rounded)
        total = Decimal(pulled["pcf"]["pCfExcludingBiogenic"])
        assert abs(Decimal(str(actual["co2e_wtw_kg"])) - total) <= Decimal("0.01")
        for leg, tce in zip(actual["legs"], tces, strict=True):
            assert abs(Decimal(str(leg["co2e_wtw_kg"])) - Decimal(tce["co2eWTW"])) <= Decimal(
                "0.002"
            )
    # the same versions again (by the CLI): nothing new is recorded
    monkeypatch.setenv("GREENLANE_SECRET_KEY", app.config["SECRET_KEY"])  # decrypts the secret
    url = app.config["DATABASE_URL"]
    args = ["pull-footprints", "--partner", PARTNER, "--ca-file", carrier["cert"]]
    again = CliRunner().invoke(main, [*args, "--database-url", url])
    assert again.exit_code == 0, again.output
    assert re.search(
        rf"{re.escape(carrier['base'])}: {len(items)} footprints, 0 recorded, "
        rf"{len(items)} already pulled, 0 not recorded",
        again.output,
    ), again.output
    for item in items:
        versions = client.get(f"/api/v1/shipments/{item.shipment_id}/actuals", headers=auth())
        assert len(versions.get_json()["versions"]) == 1


def test_pull_refuses_an_untrusted_certificate(app, carrier):
    from greenlane.webapp.pact.partners import hosts, register_host
    from greenlane.webapp.pact.pull import pull
    from greenlane.webapp.pact.remote import RemoteError

    register_host(app, PARTNER, carrier["base"], carrier["client_id"], carrier["secret"])
    with pytest.raises(RemoteError, match="CERTIFICATE_VERIFY_FAILED"):
        pull(app, hosts(app, PARTNER)[0])
