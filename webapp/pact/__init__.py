"""PACT v2 / iLEAP data exchange: greenlane as a host (``/pact``) and as a client.

``webapp.pact.views`` serves the PACT API to partners' OAuth2 clients
(``webapp.pact.clients``, tokens signed by ``webapp.pact.keys``); what a client sees is
exactly what was shared with its partner (``webapp.pact.footprints``). Events are checked,
logged and answered by ``webapp.pact.events``; outbound calls go through
``webapp.pact.remote``. Tables: ``pact_*`` in ``webapp.tables`` (migration 0007).
"""

from __future__ import annotations

from flask import Blueprint, Flask


def blueprint() -> Blueprint:
    """The ``/pact`` blueprint (its own auth: exempt from the CSRF guard like ``/api/v1``)."""
    from greenlane.webapp.pact.views import bp

    return bp


def init_app(app: Flask) -> None:
    """Register the ``/pact`` blueprint (its answers are PACT bodies, not problem+json)."""
    from greenlane.webapp.pact.views import bp, http_error
    from greenlane.webapp.problems import OWN_ERRORS

    app.register_blueprint(bp)
    app.extensions.setdefault(OWN_ERRORS, {})["/pact/"] = http_error
