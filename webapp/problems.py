"""Errors as RFC 9457 problem details (``application/problem+json``) naming the field at fault.

API paths (``/api/…``) answer problem documents; browser pages answer a styled HTML page
(``ui/error.html``) with the same status and headers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, render_template, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.sansio.response import Response as SansioResponse

from greenlane.emissions.errors import DataError, GreenlaneError

PROBLEM_JSON = "application/problem+json"


class ApiProblem(Exception):
    """Raise from a service to answer with a problem document."""

    def __init__(
        self, status: int, title: str, detail: str | None = None, field: str | None = None
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.field = field


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    field: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A problem+json response."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    if field is not None:
        body["field"] = field
    if errors:
        body["errors"] = errors
    resp = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def field_path(loc: tuple[int | str, ...] | list[int | str]) -> str:
    """``("shipments", 2, "mass_t")`` -> ``shipments[2].mass_t`` (union branch names dropped)."""
    out = ""
    for item in loc:
        if isinstance(item, int):
            out += f"[{item}]"
        elif item in ("LegIn", "HubIn") or (isinstance(item, str) and item.startswith("function-")):
            continue
        else:
            out += f".{item}" if out else str(item)
    return out or "$"


def validation_problem(exc: ValidationError) -> Response:
    """Validation callback: 422 naming every field at fault (the first in ``field``)."""
    errors = [
        {"field": field_path(tuple(e["loc"])), "message": e["msg"]}
        for e in exc.errors(include_url=False, include_input=False)
    ]
    if not errors:
        return problem(422, "Invalid request", "the request does not match the schema")
    first = errors[0]
    if first["field"] == "$" and first["message"].startswith("Input should be a valid dictionary"):
        return problem(
            422, "Invalid request", "the body must be a JSON object", field="$", errors=errors
        )
    return problem(422, "Invalid request", first["message"], field=first["field"], errors=errors)


def greenlane_problem(exc: GreenlaneError) -> Response:
    """Bad input found by the engine: 422 with its field (a data bug is a 500)."""
    if isinstance(exc, DataError):
        return problem(500, "Reference data error", exc.message, field=exc.field)
    return problem(422, "Invalid input", exc.message, field=exc.field)


def _wants_problem() -> bool:
    return request.path.startswith("/api/")


OWN_ERRORS = "greenlane_own_errors"
"""``app.extensions`` key: ``{path prefix: handler(exception) -> Response}`` for the parts of
the app that answer errors in their own format (``/pact``: PACT error bodies)."""


def _own_errors() -> Callable[[Exception], Response] | None:
    prefixes: dict[str, Callable[[Exception], Response]] = current_app.extensions.get(
        OWN_ERRORS, {}
    )
    for prefix, handler in prefixes.items():
        if request.path.startswith(prefix):
            return handler
    return None


def wants_html() -> bool:
    """A browser page: not an API path, and HTML is what the client accepts first."""
    if _wants_problem():
        return False
    best = request.accept_mimetypes.best_match(["text/html", PROBLEM_JSON, "application/json"])
    return best == "text/html"


def html_error(
    status: int, title: str, detail: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    """The styled error page (plain text if even the template fails)."""
    try:
        body = render_template(
            "ui/error.html",
            status=status,
            title=title,
            detail=detail,
            retry_after=(headers or {}).get("Retry-After"),
        )
        resp = Response(body, status=status, mimetype="text/html")
    except Exception:  # the error page itself must not fail
        resp = Response(f"{status} {title}", status=status, mimetype="text/plain")
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def as_html(resp: Response) -> Response:
    """A problem+json answer re-rendered as the styled page (status and headers kept)."""
    doc = json.loads(resp.get_data(as_text=True))
    keep = {
        k: v for k, v in resp.headers.items() if k.lower() not in ("content-type", "content-length")
    }
    return html_error(resp.status_code, doc.get("title", ""), doc.get("detail"), keep)


def init_app(app: Flask) -> None:
    """Answer API errors as problem documents; the UI keeps HTML pages."""

    @app.errorhandler(ApiProblem)
    def _api_problem(exc: ApiProblem) -> Response:
        return problem(exc.status, exc.title, exc.detail, exc.field)

    @app.errorhandler(GreenlaneError)
    def _greenlane(exc: GreenlaneError) -> Response:
        return greenlane_problem(exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> SansioResponse | HTTPException:
        if exc.response is not None and exc.response.mimetype == PROBLEM_JSON:
            return exc.response
        own = _own_errors()
        if own is not None:  # e.g. /pact answers PACT error bodies
            return own(exc)
        if not _wants_problem():
            code = exc.code or 500
            if code < 400:
                return exc
            headers = dict(exc.get_headers()) if code == 405 else {}
            headers.pop("Content-Type", None)
            return html_error(code, exc.name, exc.description, headers)
        code = exc.code or 500
        resp = problem(code, exc.name, exc.description)
        if code == 405 and exc.response is None:
            allowed = getattr(exc, "valid_methods", None)
            if allowed:
                resp.headers["Allow"] = ", ".join(allowed)
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        own = _own_errors()
        if own is not None:
            return own(exc)
        if _wants_problem():
            return problem(500, "Internal Server Error", "an unexpected error was logged")
        return html_error(500, "Internal Server Error", "An unexpected error was logged.")
