"""Stop-level routing in a real browser (headless Chromium, skipped without it)."""

from __future__ import annotations

import json
import re

from test_browser import ARTIFACTS, page, pytestmark, server  # noqa: F401  (fixtures, skip)
from test_stop_routing import BOOK


def test_browser_draws_the_stop_routes(server, page, tmp_path):  # noqa: F811
    """The form's box, the route table and the tours on the map."""
    book = tmp_path / "book.json"
    book.write_text(json.dumps({"shipments": BOOK}))
    page.goto(f"{server['base']}/")
    page.fill("#token", server["token"])
    page.click("button[type=submit]")
    page.wait_for_selector("#plan-form")
    page.set_input_files("#book", str(book))
    page.check("#stop_level_routing")
    page.click("#run")
    page.wait_for_url(re.compile(r".*/plans/pl_[0-9a-f]+$"), timeout=90_000)
    page.wait_for_selector("#map[data-basemap=loaded]", timeout=20_000)
    routes = page.locator("#stop-routes tbody tr[data-route]").count()
    assert routes >= 2
    assert page.get_attribute("#map", "data-stop-routes") == str(routes)
    assert "stop route" in page.inner_text("#legend")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "06-stop-routes.png"), full_page=True)
    assert page.errors == []
