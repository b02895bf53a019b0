"""Schemathesis over the generated OpenAPI document: no input gives a 500, answers match the
documented statuses, content types and schemas. Bounded examples; skipped without
schemathesis (``pip install schemathesis``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from webapp_helpers import close_app, make_app  # noqa: E402

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One app for the whole run (1 s solver limit, tiny books; hundreds of requests from one
    address, so the per-IP limit of unauthenticated calls is off, as the per-token one is)."""
    db = Path(tmp_path_factory.mktemp("fuzz")) / "fuzz.sqlite"
    app = make_app(
        f"sqlite:///{db}",
        SOLVER_TIME_LIMIT_S=1.0,
        ASYNC_THRESHOLD_SHIPMENTS=2,
        RATE_LIMIT_ANON_PER_MINUTE=0,
    )
    yield app
    close_app(app)


@pytest.fixture(scope="module")
def fuzz_token(fuzz_app: Any) -> str:
    from greenlane.webapp.auth import create_token
    from greenlane.webapp.db import engine_of

    return create_token(engine_of(fuzz_app), "planner")[1]


@pytest.fixture(scope="module")
def api_schema(fuzz_app: Any) -> Any:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app)


def operations() -> list[str]:
    """Labels of the documented operations (for parametrisation)."""
    app = make_app("sqlite://")
    try:
        loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
        return sorted(r.ok().label for r in loaded.get_all_operations())
    finally:
        close_app(app)


@pytest.mark.parametrize("mode", ["positive", "negative"])
@pytest.mark.parametrize("label", operations())
def test_api_never_fails_on_generated_input(
    label: str, mode: str, api_schema: Any, fuzz_token: str
) -> None:
    from schemathesis import GenerationMode

    operation = next(r.ok() for r in api_schema.get_all_operations() if r.ok().label == label)
    headers = {"Authorization": f"Bearer {fuzz_token}"}
    checks = CHECKS if mode == "positive" else CHECKS[:3]

    @given(case=operation.as_strategy(generation_mode=GenerationMode(mode)))
    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=checks)

    run()
