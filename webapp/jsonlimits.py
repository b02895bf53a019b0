"""JSON request bodies nested deeper than ``MAX_JSON_DEPTH`` are refused before parsing.

Python's ``json`` decoder recurses once per ``[``/``{``: a body of 5,000 brackets raises
``RecursionError`` (a 500) on any server. Every JSON body is measured first, without
parsing (strings skipped, brackets counted), and a deeper one is a 400 problem naming
``$``. As a second line, a ``RecursionError`` while decoding is a 400 too
(:class:`GuardedRequest`).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Request, Response, current_app, request
from werkzeug.exceptions import BadRequest

from greenlane.emissions.limits import MAX_JSON_DEPTH
from greenlane.webapp.problems import problem

DEFAULT_MAX_JSON_DEPTH = MAX_JSON_DEPTH
"""Deepest accepted nesting of arrays and objects [levels] (the limit of every JSON file read,
:data:`greenlane.emissions.limits.MAX_JSON_DEPTH`); the API's bodies need < 10."""

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]")
_OPEN = frozenset(b"[{")


def json_depth(data: bytes, stop_above: int | None = None) -> int:
    """Deepest nesting of arrays/objects in a JSON text [levels] (strings are skipped).

    With ``stop_above``, counting stops as soon as the depth exceeds it (the answer is then
    ``stop_above + 1``). Malformed text gets a best-effort count; the parser rejects it.
    """
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b"", data))
    depth = deepest = 0
    for byte in brackets:
        if byte in _OPEN:
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_above is not None and deepest > stop_above:
                    return deepest
        else:
            depth -= 1
    return deepest


class GuardedRequest(Request):
    """A request whose JSON decoding never escapes as ``RecursionError``."""

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """:meth:`flask.Request.get_json`; too deep a body is a 400 (None when ``silent``)."""
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            if silent:
                return None
            raise BadRequest("the JSON body is nested too deeply") from None


def _too_deep() -> Response | None:
    if request.method not in ("POST", "PUT", "PATCH") or not request.is_json:
        return None
    limit = int(current_app.config.get("MAX_JSON_DEPTH") or DEFAULT_MAX_JSON_DEPTH)
    data = request.get_data(cache=True)
    if not data or json_depth(data, stop_above=limit) <= limit:
        return None
    detail = f"nesting deeper than the limit of {limit} levels"
    if request.path.startswith("/api/"):
        return problem(400, "Bad Request", detail, field="$")
    return Response(detail, status=400, mimetype="text/plain")


def init_app(app: Flask) -> None:
    """Measure every JSON body before any view or validator parses it."""
    app.request_class = GuardedRequest
    app.before_request(_too_deep)
