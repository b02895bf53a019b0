"""Every main page fits a phone (360 and 390 px) and a wide screen (1,440 px) in Chromium.

The check is the one a user sees: ``document.documentElement.scrollWidth`` never exceeds the
viewport (tables scroll inside their card instead). Screenshots of each page at 390 and
1,440 px go to ``tests/artifacts/responsive/`` for a look. Needs Debian's Chromium at
/usr/bin/chromium (skipped with the reason otherwise); nothing is downloaded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from test_browser import ARGS, ARTIFACTS, CHROMIUM
from test_disruptions_api import RED_SEA, _sea_book
from webapp_helpers import bearer, book, close_app, make_app

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Chromium at /usr/bin/chromium (apt-get install -y chromium)",
)
SHOTS = ARTIFACTS / "responsive"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The app on a free loopback port with two plans, a re-plan and a share."""
    from werkzeug.serving import make_server

    from greenlane.webapp.auth import create_token
    from greenlane.webapp.db import engine_of

    tmp = tmp_path_factory.mktemp("responsive")
    app = make_app(f"sqlite:///{tmp / 'r.sqlite'}", TESTING=False, ASYNC_THRESHOLD_SHIPMENTS=20)
    engine = engine_of(app)
    planner = create_token(engine, "planner")[1]
    partner = create_token(engine, "partner", partner_id="carrier-a")[1]
    client = app.test_client()
    h = bearer(planner)
    plan = client.post(
        "/api/v1/plans", json={"shipments": book(3), "name": "three lanes"}, headers=h
    ).get_json()
    sea = client.post(
        "/api/v1/plans", json={"shipments": _sea_book(), "name": "red sea"}, headers=h
    ).get_json()
    impact = client.post(
        f"/api/v1/plans/{sea['id']}/disruptions", json={"disruptions": RED_SEA}, headers=h
    ).get_json()
    client.post(f"/api/v1/plans/{plan['id']}/shares", json={"partner_id": "carrier-a"}, headers=h)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield {
            "base": f"http://127.0.0.1:{httpd.server_port}",
            "planner": planner,
            "partner": partner,
            "plan": plan["id"],
            "plan_json": plan,
            "other": sea["id"],
            "replan": impact["replan_plan_id"],
        }
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()
        close_app(app)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()


def _login(browser: Any, site: dict[str, Any], token: str, width: int) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 860})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(f"{site['base']}/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    return page


def _planner_pages(site: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(name, path, selector to wait for) of every main planner page."""
    return [
        ("plans", "/", "#plan-form"),
        ("plan", f"/plans/{site['plan']}", "#map[data-basemap=loaded]"),
        ("compare", f"/compare?a={site['plan']}&b={site['other']}", "#map-B[data-basemap=loaded]"),
        ("impact", f"/plans/{site['replan']}/impact", "#impact-table"),
        ("ledger", "/ledger/", "#standing"),
        ("not-found", "/plans/pl_nothing", "#error"),
    ]


def _width_of(page: Any) -> int:
    return int(page.evaluate("() => document.documentElement.scrollWidth"))


@pytest.mark.parametrize("width", [360, 390, 1440])
def test_planner_pages_fit_the_viewport(browser: Any, site: dict[str, Any], width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = _login(browser, site, site["planner"], width)
    try:
        too_wide = {}
        for name, path, ready in _planner_pages(site):
            page.goto(site["base"] + path)
            if ready:
                page.wait_for_selector(ready, timeout=30_000)
            if name == "plans":
                page.click("#manual summary")  # the typed-entry table open: the widest form
            seen = _width_of(page)
            if seen > width:
                too_wide[name] = seen
            if width in (390, 1440):
                page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        assert too_wide == {}, f"pages wider than {width} px: {too_wide}"
        assert page.errors == []
    finally:
        page.context.close()


@pytest.mark.parametrize("width", [390, 1440])
def test_partner_page_fits_the_viewport(browser: Any, site: dict[str, Any], width: int) -> None:
    page = _login(browser, site, site["partner"], width)
    try:
        page.goto(site["base"] + "/")
        assert "Reports shared with you" in page.inner_text("main")
        assert _width_of(page) <= width
        page.screenshot(path=str(SHOTS / f"shared-{width}.png"), full_page=True)
    finally:
        page.context.close()


@pytest.mark.parametrize("width", [390, 1360, 1440])
def test_typed_entry_table_hides_no_input(browser: Any, site: dict[str, Any], width: int) -> None:
    """Every input of the typed-entry table is the element under its own centre."""
    page = _login(browser, site, site["planner"], width)
    try:
        page.click("#manual summary")
        covered = page.evaluate(
            """() => {
              const out = [];
              for (const input of document.querySelectorAll('#entry input')) {
                input.scrollIntoView({block: 'center', inline: 'center'});
                const r = input.getBoundingClientRect();
                const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                const what = hit ? hit.id || hit.tagName : 'nothing';
                if (hit !== input) out.push(input.name + ' under ' + what);
              }
              return out;
            }"""
        )
        assert covered == []
        entry = page.locator("#manual").bounding_box()
        objective = page.locator("fieldset").nth(1).bounding_box()
        assert entry is not None and objective is not None
        side_by_side = objective["y"] < entry["y"] + entry["height"] and width > 900
        if side_by_side:  # the two columns do not overlap
            assert entry["x"] + entry["width"] <= objective["x"]
    finally:
        page.context.close()


def test_shipment_table_searches_filters_sorts_and_collapses(
    browser: Any, site: dict[str, Any]
) -> None:
    plan = site["plan_json"]
    ships = plan["shipments"]
    page = _login(browser, site, site["planner"], 1440)
    try:
        page.goto(f"{site['base']}/plans/{site['plan']}")
        page.wait_for_selector("#ship-count")

        def visible() -> list[str]:
            return page.eval_on_selector_all(
                "#shipments tbody.shipment",
                "els => els.filter(e => !e.hidden).map(e => e.dataset.shipment)",
            )

        assert page.inner_text("#ship-count") == f"{len(ships)} of {len(ships)} shipments"
        page.fill("#ship-search", "xian")
        assert visible() == [s["shipment_id"] for s in ships if s["origin"] == "F-XIAN"]
        assert page.inner_text("#ship-count") == f"1 of {len(ships)} shipments"
        # The map shows only that shipment's legs and hubs (every world copy), the rest faded.
        page.wait_for_selector("#map[data-basemap=loaded]")
        shown, total, share = page.evaluate(
            """() => {
              const fs = JSON.parse(document.getElementById('plan-data').textContent)
                .geojson.features.filter(f => f.geometry);
              const zero = f => f.properties.kind === 'leg' && f.properties.co2e_ttw_kg !== null
                && Number(f.properties.co2e_ttw_kg) <= 0;
              const weight = list => list.length + list.filter(zero).length;
              const mine = fs.filter(f => f.properties.shipment_id === 'S3');
              const paths = document.querySelectorAll('#map .leaflet-overlay-pane path');
              return [Number(document.getElementById('map').dataset.shown), paths.length,
                      weight(mine) / weight(fs)];
            }"""
        )
        assert 0 < shown < total and shown == round(total * share)
        page.fill("#ship-search", "")
        page.select_option("#ship-mode", "rail")
        with_rail = [s["shipment_id"] for s in ships if any(g["mode"] == "rail" for g in s["legs"])]
        assert 0 < len(with_rail) < len(ships)  # the filter has something to do
        assert visible() == with_rail
        page.select_option("#ship-mode", "")
        page.select_option("#ship-sort", "co2e")
        by_co2e = sorted(ships, key=lambda s: -s["co2e_wtw_kg"])
        assert visible() == [s["shipment_id"] for s in by_co2e]
        page.click("#ship-collapse")
        legs = "#shipments tbody.shipment tr:not(.ship-head)"
        assert page.eval_on_selector_all(legs, "els => els.filter(e => e.offsetParent).length") == 0
        first = by_co2e[0]["shipment_id"]
        page.click(f'#shipments tbody[data-shipment="{first}"] tr.ship-head th')
        shown = page.eval_on_selector_all(legs, "els => els.filter(e => e.offsetParent).length")
        assert shown == len(by_co2e[0]["legs"]) + 1  # its legs and its report links
        # "map" highlights one shipment's route: only its features stay drawn.
        page.click(f'#shipments tbody[data-shipment="{first}"] button.map-focus')
        assert page.get_attribute(f'#shipments tbody[data-shipment="{first}"]', "class") == (
            "shipment focused"
        )
        focused = int(page.get_attribute("#map", "data-shown"))
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("#map").screenshot(path=str(SHOTS / "plan-focus-1440.png"))
        page.click(f'#shipments tbody[data-shipment="{first}"] button.map-focus')  # off again
        assert 0 < focused < int(page.get_attribute("#map", "data-shown"))
        assert page.errors == []
    finally:
        page.context.close()
