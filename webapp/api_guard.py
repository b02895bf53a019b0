"""What runs around every ``/api/v1`` view: Bearer auth and role, rate limit, Idempotency-Key.

``guard(blueprint)`` installs it on an API blueprint, so the core API and the ledger API share
one implementation.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, request

from greenlane.webapp import idempotency, ratelimit
from greenlane.webapp.auth import Principal, authenticate, bearer_token
from greenlane.webapp.db import engine_of
from greenlane.webapp.problems import problem


def principal() -> Principal:
    """The authenticated caller of this request."""
    return g.principal  # type: ignore[no-any-return]


def before_request() -> Response | None:
    """Authenticate the Bearer token, check role and rate limit, start the Idempotency-Key."""
    view = current_app.view_functions.get(request.endpoint or "")
    allowed = getattr(view, "greenlane_roles", None)
    if allowed is None:
        return None
    token = bearer_token(request.headers.get("Authorization"))
    who = authenticate(engine_of(), token) if token else None
    if who is None:
        return ratelimit.check_anonymous() or problem(
            401,
            "Unauthorized",
            "a valid Bearer token is needed",
            headers={"WWW-Authenticate": 'Bearer realm="greenlane"'},
        )
    limited = ratelimit.check(who.token_id)
    if limited is not None:
        return limited
    if who.role not in allowed:
        return problem(403, "Forbidden", f"the {who.role} role may not call this endpoint")
    g.principal = who
    if request.method == "POST" and not getattr(view, "greenlane_no_replay", False):
        return idempotency.begin(who.token_id)
    return None


def after_request(response: Response) -> Response:
    """Store the answer of an Idempotency-Key request; add the rate-limit headers."""
    return ratelimit.annotate(idempotency.finish(response))


def teardown_request(exc: BaseException | None) -> None:
    """Release an Idempotency-Key reservation whose request failed."""
    idempotency.abandon(exc)


def guard(blueprint: Blueprint) -> None:
    """Install the three hooks on an API blueprint."""
    blueprint.before_request(before_request)
    blueprint.after_request(after_request)
    blueprint.teardown_request(teardown_request)
