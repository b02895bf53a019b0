"""A real browser uploads a dataset, reviews what it changes, activates it and plans on it.

Headless Chromium via Playwright on the system's /usr/bin/chromium (skipped when absent), the
app on a free loopback port in a thread. Screenshots go to ``tests/artifacts/``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_browser import ARTIFACTS, CHROMIUM, page  # noqa: F401  (the page fixture)
from test_datasets_api import AIR_LANE_IDS, lanes_without_air
from webapp_helpers import close_app, make_app

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Chromium at /usr/bin/chromium (apt-get install -y chromium)",
)

BOOK = (
    "shipment_id,origin,destination,mass_t,volume_m3,teu,ready_at,due_at,allowed_modes,"
    "max_co2e_kg\n"
    "SZX-FRA-URGENT,F-SHENZHEN,C-FRANKFURT,2,,,2026-12-01,2026-12-12,,\n"
    "NKG-MAD-1,F-NANJING,C-MADRID,10,60,1,2026-12-01,2027-01-20,,\n"
)
"""Shenzhen -> Frankfurt in 11 days needs air on the shipped network (test_datasets_api)."""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The app on 127.0.0.1:<free port> in a thread, with a planner token of ``acme``."""
    from werkzeug.serving import make_server

    from greenlane.webapp.auth import create_token
    from greenlane.webapp.db import engine_of

    app = make_app(f"sqlite:///{tmp_path / 'browser.sqlite'}", TESTING=False)
    token = create_token(engine_of(app), "planner", organisation="acme")[1]
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"base": f"http://127.0.0.1:{httpd.server_port}", "token": token, "app": app}
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()
        close_app(app)


def test_upload_review_activate_and_plan_on_a_dataset(server, page, tmp_path):  # noqa: F811
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    lanes = tmp_path / "lanes.csv"
    lanes.write_bytes(lanes_without_air())
    book = tmp_path / "urgent.csv"
    book.write_text(BOOK, encoding="utf-8")
    base = server["base"]

    page.goto(f"{base}/login")
    page.fill("#token", server["token"])
    page.click("button[type=submit]")
    page.wait_for_selector("#plan-form")
    page.click("nav >> text=Datasets")
    page.wait_for_selector("#dataset-form")
    assert page.inner_text("#in-force") == "default"

    page.set_input_files("#files", [str(lanes)])
    page.fill("#ds-name", "no air")
    page.click("#upload-run")
    page.wait_for_url(re.compile(r".*/datasets/ds_[0-9a-f]+$"))
    dataset_id = page.url.rsplit("/", 1)[1]
    removed = page.locator("#changes-lanes tr.removed")
    assert removed.get_attribute("data-count") == "32"  # the 32 air lanes of data/lanes.csv
    assert all(lane in removed.inner_text() for lane in AIR_LANE_IDS)
    assert page.locator("#changes-lanes tr.added").get_attribute("data-count") == "0"
    assert page.inner_text("#changes-hubs") == "No change."
    page.screenshot(path=str(ARTIFACTS / "datasets-01-review.png"), full_page=True)

    page.click("#activate")
    page.wait_for_selector("#dataset-form")
    assert page.inner_text("#in-force") == dataset_id
    page.screenshot(path=str(ARTIFACTS / "datasets-02-in-force.png"), full_page=True)

    page.goto(f"{base}/")
    assert dataset_id in page.inner_text("#dataset_id option[value='']")
    page.set_input_files("#book", str(book))
    page.check("input[name=due_dates][value=soft]")
    page.fill("#name", "no-air plan")
    page.click("#run")
    page.wait_for_url(re.compile(r".*/plans/pl_[0-9a-f]+$"), timeout=90_000)
    page.wait_for_selector("#map[data-basemap=loaded]", timeout=20_000)
    assert dataset_id in page.inner_text("#plan-dataset")
    page.screenshot(path=str(ARTIFACTS / "datasets-03-plan.png"), full_page=True)

    from greenlane.webapp import store
    from greenlane.webapp.db import engine_of, transaction

    plan_id = page.url.rsplit("/", 1)[1]
    with transaction(engine_of(server["app"])) as conn:
        row = store.get_plan(conn, plan_id)
    assert row.dataset_id == dataset_id
    modes = {leg["mode"] for s in row.result["shipments"] for leg in s["legs"]}
    assert row.result["summary"]["shipments_planned"] == 2
    assert modes and "air" not in modes
    assert page.errors == []
    assert page.outside == []
