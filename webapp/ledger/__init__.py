"""The carbon ledger in the web app: storage, the ``/api/v1`` endpoints and the ``/ledger``
pages.

Modules, one job each: ``chain`` (the append-only hash chain, plan acceptances), ``audit``
(the check of the chain and of every recorded row), ``actuals`` (actual shipments, plan vs
actual), ``certificates`` (certificates beside the emissions), ``reporting`` (baseline, KPI
and standing, lane claim), ``levers`` (lever runs as jobs), ``exchange`` (CSV import, CSV/XLSX
export), ``schemas`` (pydantic models), ``services`` (operations shared by API and pages),
``api`` (the API blueprint) and ``ui`` (the form pages). The tables are in ``webapp.tables``;
the accounting arithmetic in ``greenlane.emissions.ledger``.
"""

from __future__ import annotations

from typing import Any

from flask import Response

from greenlane.webapp.ledger.api import api
from greenlane.webapp.ledger.chain import Conflict
from greenlane.webapp.ledger.ui import ui
from greenlane.webapp.problems import problem


def init_app(app: Any) -> None:
    """Register the ledger API (in the OpenAPI document) and the ``/ledger`` pages."""
    app.register_api(api)
    app.register_blueprint(ui)

    @app.errorhandler(Conflict)
    def _conflict(exc: Conflict) -> Response:
        return problem(409, "Conflict", exc.message, exc.field)


__all__ = ["api", "init_app", "ui"]
