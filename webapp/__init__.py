"""greenlane web layer: the Flask application factory, the JSON API and the planner UI.

``create_app(test_config=None)`` builds the app: configuration (``webapp.config``), the
database (``webapp.db``, tables in ``webapp.tables``), the job runner (``webapp.jobs``) with
its handlers per job kind, the process heartbeat (``webapp.heartbeat``), the ``/api/v1``
blueprint with its generated OpenAPI document (``/api/v1/openapi.json``, Swagger UI at
``/api/v1/swagger``), the carbon ledger (``webapp.ledger``), the planner UI (``webapp.ui``),
one CSRF guard for every form (``webapp.csrf``), security headers on every answer
(``webapp.headers``) and, with ``TRUSTED_PROXIES``, the client address and scheme from the
proxy's ``X-Forwarded-*`` headers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask.json.provider import DefaultJSONProvider
from flask_openapi3 import Info, OpenAPI

__all__ = ["create_app"]


class _LimitedJSONProvider(DefaultJSONProvider):
    """Request bodies parsed under :mod:`greenlane.emissions.limits` (depth, number length):
    a violation is a ValueError, which Flask answers with 400, never a RecursionError 500."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        from greenlane.emissions.limits import decode_json_bytes, loads_json

        text = decode_json_bytes(s, "body") if isinstance(s, bytes) else s
        return loads_json(text, "body")


def create_app(test_config: Mapping[str, Any] | None = None) -> OpenAPI:
    """The greenlane web application (flaskr-style factory)."""
    from greenlane.webapp import (
        csrf,
        db,
        headers,
        heartbeat,
        jobs,
        jsonlimits,
        ledger,
        pact,
        problems,
        quotes,
        ratelimit,
        services,
        ui,
    )
    from greenlane.webapp.api import api
    from greenlane.webapp.config import (
        DEFAULTS,
        from_environment,
        instance_secret_key,
        normalise_database_url,
    )
    from greenlane.webapp.ledger import levers
    from greenlane.webapp.store import software_version

    settings = {**from_environment(), **(test_config or {})}
    app = OpenAPI(
        __name__,
        instance_relative_config=True,
        instance_path=os.path.abspath(settings["INSTANCE_PATH"])
        if settings.get("INSTANCE_PATH")
        else None,
        info=Info(
            title="greenlane API",
            version=software_version(),
            description=(
                "Multimodal freight plans and ISO 14083 / GLEC v3 emissions. Authenticate "
                "with `Authorization: Bearer <token>`. Errors are RFC 9457 problem documents "
                "naming the `field` at fault. POSTs accept an `Idempotency-Key`."
            ),
        ),
        security_schemes={"bearerAuth": {"type": "http", "scheme": "bearer"}},
        validation_error_status=422,
        validation_error_callback=problems.validation_problem,
        doc_prefix="/api/v1",
        doc_url="/openapi.json",
    )
    app.config.from_mapping(DEFAULTS)
    app.config.update(settings)
    if not app.config.get("DATABASE_URL"):
        path = app.config.get("DATABASE") or os.path.join(app.instance_path, "greenlane.sqlite")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{os.path.abspath(path)}"
    app.config["DATABASE_URL"] = normalise_database_url(app.config["DATABASE_URL"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)
    app.json = _LimitedJSONProvider(app)
    app.json.sort_keys = False  # type: ignore[attr-defined]

    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )

    db.init_app(app)
    jsonlimits.init_app(app)
    headers.init_app(app)
    problems.init_app(app)
    jobs.init_app(app)
    runner = jobs.runner(app)
    runner.handle("plan", services.run_plan_job)
    runner.handle("pareto", services.run_plan_job)
    runner.handle(levers.KIND, levers.run_lever_job)
    ratelimit.init_app(app)
    app.register_api(api)
    ledger.init_app(app)
    quotes.init_app(app)
    pact.init_app(app)
    csrf.init_app(app, exempt=(api, ledger.api, quotes.api, pact.blueprint()))
    ui.init_app(app)
    services.startup(app)
    heartbeat.init_app(app)
    return app
