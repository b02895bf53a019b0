"""A real browser (headless Chromium via Playwright) drives upload -> plan -> map -> report.

The app runs on a free loopback port in a thread. Screenshots go to ``tests/artifacts/``.
Needs Debian's ``chromium`` at /usr/bin/chromium (``make test`` installs it); skipped with
the reason when it is absent. No browser is downloaded: Playwright drives the system one.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from webapp_helpers import BOOK_CSV, close_app, make_app

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Chromium at /usr/bin/chromium (apt-get install -y chromium)",
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The app served on 127.0.0.1:<free port> in a thread, with a planner token."""
    from werkzeug.serving import make_server

    from greenlane.webapp.auth import create_token
    from greenlane.webapp.db import engine_of

    app = make_app(f"sqlite:///{tmp_path / 'browser.sqlite'}", TESTING=False)
    token = create_token(engine_of(app), "planner")[1]
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"base": f"http://127.0.0.1:{httpd.server_port}", "token": token}
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()
        close_app(app)


@pytest.fixture
def page() -> Iterator[Any]:
    """A Chromium page (1360 x 900), collecting console errors."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(
            viewport={"width": 1360, "height": 900}, accept_downloads=True
        )
        pg = context.new_page()
        pg.errors = []
        pg.outside = []
        pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
        pg.on(
            "request",
            lambda r: (
                pg.outside.append(r.url)
                if not r.url.startswith(("http://127.0.0.1:", "data:", "blob:"))
                else None
            ),
        )
        pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
        try:
            yield pg
        finally:
            context.close()
            browser.close()


def test_upload_plan_map_and_report_download(server, page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = server["base"]
    page.goto(f"{base}/")
    assert "/login" in page.url
    page.fill("#token", server["token"])
    page.click("button[type=submit]")
    page.wait_for_selector("#plan-form")

    page.set_input_files("#book", str(BOOK_CSV))
    page.check("input[name=objective][value=carbon_price]")
    assert page.is_visible("#carbon_price_cny_per_t")
    page.fill("#carbon_price_cny_per_t", "400")
    page.fill("#name", "browser plan")
    page.screenshot(path=str(ARTIFACTS / "01-new-plan.png"), full_page=True)
    page.click("#run")
    page.wait_for_url(re.compile(r".*/plans/pl_[0-9a-f]+$"), timeout=90_000)

    # The map: basemap loaded offline, every leg drawn as an SVG path.
    page.wait_for_selector("#map[data-basemap=loaded]", timeout=20_000)
    legs = int(page.get_attribute("#map", "data-legs"))
    assert legs >= 3
    paths = page.locator("#map .leaflet-overlay-pane path").count()
    assert paths >= legs  # three world copies of each feature
    assert page.locator("#legend .item").count() >= 2
    assert page.evaluate("() => !!(Chart.getChart('tradeoff') && Chart.getChart('trajectory'))")
    assert page.locator("#shipments tbody.shipment").count() == 3
    assert "browser plan" in page.inner_text("#plan-name")
    page.screenshot(path=str(ARTIFACTS / "02-plan.png"))
    page.screenshot(path=str(ARTIFACTS / "03-plan-full.png"), full_page=True)

    # Report download from the results page.
    with page.expect_download() as info:
        page.click("#downloads a[data-format=csv]")
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    assert text.startswith("shipment_id,tce_id")
    assert {"NKG-MAD-1", "SZX-FRA-1", "XIAN-WAW-1"} <= {
        line.split(",")[0] for line in text.splitlines()[1:]
    }
    with page.expect_download() as info:
        page.click("#downloads a[data-format=pdf]")
    assert Path(info.value.path()).read_bytes().startswith(b"%PDF")

    # Accept it.
    page.click("#accept")
    page.wait_for_selector("#plan-state.accepted")

    # A second, greenest plan of the same book, then both side by side.
    page.goto(f"{base}/")
    page.set_input_files("#book", str(BOOK_CSV))
    page.check("input[name=objective][value=greenest]")
    page.fill("#name", "greenest plan")
    page.click("#run")
    page.wait_for_url(re.compile(r".*/plans/pl_[0-9a-f]+$"), timeout=90_000)
    page.goto(f"{base}/")
    page.screenshot(path=str(ARTIFACTS / "04-plans.png"), full_page=True)
    boxes = page.locator("#plans input[name=plan]")
    assert boxes.count() == 2
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.click("text=Compare two ticked plans")
    page.wait_for_selector("#map-A[data-basemap=loaded]")
    page.wait_for_selector("#map-B[data-basemap=loaded]")
    assert page.locator("#compare tbody tr").count() >= 5
    page.screenshot(path=str(ARTIFACTS / "05-compare.png"), full_page=True)
    assert page.errors == []
    assert page.outside == []  # offline: nothing loads from a CDN or tile server
