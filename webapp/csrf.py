"""One CSRF guard for every form-posting page: Flask-WTF's ``CSRFProtect`` on the whole app.

Every POST/PUT/PATCH/DELETE needs the session's token in the form field ``csrf_token`` (the
templates render it with ``{{ csrf_token() }}``) unless its blueprint is exempt; a blueprint
added later is protected without copying anything. Only the ``/api/v1`` blueprints and
``/pact`` are exempt: their calls need a Bearer token, which a browser never sends on its own
(``/pact``'s token endpoint takes HTTP Basic client credentials and changes nothing; its
answer is not readable by another origin). A
missing or wrong token answers 400 with the reason. The token lives as long as the session
(``WTF_CSRF_TIME_LIMIT = None``); logging in starts a new session, hence a new token.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, Flask, Response, request
from flask_wtf.csrf import CSRFError, CSRFProtect  # type: ignore[import-untyped]

from greenlane.webapp.problems import html_error

MESSAGE = "the form expired or did not come from this site (CSRF)"
"""The 400 answer's description."""

guard = CSRFProtect()


def init_app(app: Flask, exempt: Iterable[Blueprint]) -> None:
    """Protect every form route of ``app``; ``exempt``: the Bearer-token API blueprints."""
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    guard.init_app(app)
    for blueprint in exempt:
        guard.exempt(blueprint)

    @app.errorhandler(CSRFError)
    def _refused(exc: CSRFError) -> Response:
        app.logger.info(
            "CSRF check failed on %s %s: %s", request.method, request.path, exc.description
        )
        return html_error(400, "Bad Request", MESSAGE)
