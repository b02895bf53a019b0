"""Fixtures of the reliability tests: a live ``greenlane serve`` on 127.0.0.1 with tokens."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import Server, bearer, call, make_tokens, plan_body


@pytest.fixture
def live(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A started server with 51 planner tokens (one seeds a plan, 50 clients) and the plan.

    Planners: an integration token would read only the plans it made itself."""
    # the production default limits stay on: every client has its own token
    server = Server(
        tmp_path / "srv",
        env={"GREENLANE_RATE_LIMIT_PER_MINUTE": "1200", "GREENLANE_RATE_LIMIT_BURST": "200"},
    )
    tokens = make_tokens(server.database_url, [("planner", None)] * 51)
    server.start()
    try:
        status, _, body = call(
            server.base,
            "POST",
            "/api/v1/plans",
            plan_body(random.Random(1), 2, "seed"),
            bearer(tokens[0]),
        )
        assert status == 201, body
        import json

        yield {
            "server": server,
            "planner": tokens[0],
            "clients": tokens[1:],
            "plan_id": json.loads(body)["id"],
        }
    finally:
        server.stop()
