"""PACT v2 events (CloudEvents 1.0 over ``POST /2/events``): checks, log and answers.

A ``ProductFootprintRequest.Created`` event is answered later, from a background thread, by
a ``ProductFootprintRequest.Fulfilled`` event carrying the caller's footprints that match
the request's ``pf`` fragment, or a ``ProductFootprintRequest.Rejected`` event (error
``NotFound`` if none matches, ``BadRequest`` if the fragment has no criterion greenlane
matches on). The answer is POSTed to ``<events base>/2/events``: the client's registered
``events_base_url``, else the event's ``source`` (an https URL, or http on the loopback
interface). If a partner host with credentials is registered for that base URL
(``pact_remotes``), the answer carries a bearer token from it. Delivery is tried
``PACT_CALLBACK_ATTEMPTS`` times with doubling pauses; each event's row in ``pact_events``
records the answer and its delivery.
"""

from __future__ import annotations

import ipaddress
import json
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import update

from greenlane.emissions.errors import InputError
from greenlane.emissions.report.ileap import rfc3339
from greenlane.webapp.db import transaction, utcnow
from greenlane.webapp.pact.clients import Client
from greenlane.webapp.tables import pact_events

CREATED = "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1"
FULFILLED = "org.wbcsd.pathfinder.ProductFootprintRequest.Fulfilled.v1"
REJECTED = "org.wbcsd.pathfinder.ProductFootprintRequest.Rejected.v1"
PUBLISHED = "org.wbcsd.pathfinder.ProductFootprint.Published.v1"
TYPES = (CREATED, FULFILLED, REJECTED, PUBLISHED)
_EXT = "greenlane_pact_events"


class EventError(Exception):
    """The event is malformed; the message names the field."""


def _text(body: dict[str, Any], key: str, limit: int = 1000) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise EventError(f"{key}: a non-empty string is required")
    if len(value) > limit:
        raise EventError(f"{key}: longer than {limit} characters")
    return value


def _uuid(text: Any) -> bool:
    try:
        return isinstance(text, str) and str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


def check_event(body: Any) -> dict[str, Any]:
    """The event if it is a well-formed PACT v2 CloudEvent, else EventError."""
    if not isinstance(body, dict):
        raise EventError("the body must be a JSON object (a CloudEvent)")
    if body.get("specversion") != "1.0":
        raise EventError("specversion: must be '1.0'")
    _text(body, "id", 500)
    _text(body, "source")
    kind = _text(body, "type", 200)
    if kind not in TYPES:
        raise EventError(f"type: {kind!r} is not a PACT v2 event type")
    when = _text(body, "time", 100)
    try:
        parsed = datetime.fromisoformat(when.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise EventError("time: not an RFC 3339 date-time") from None
    if parsed.tzinfo is None:
        raise EventError("time: an offset or Z is required")
    data = body.get("data")
    if not isinstance(data, dict):
        raise EventError("data: an object is required")
    if kind == CREATED:
        pf = data.get("pf")
        if not isinstance(pf, dict) or not pf:
            raise EventError("data.pf: a non-empty ProductFootprint fragment is required")
        for key in ("productIds", "companyIds"):
            if key in pf and (
                not isinstance(pf[key], list)
                or not pf[key]
                or not all(isinstance(i, str) and i.lower().startswith("urn:") for i in pf[key])
            ):
                raise EventError(f"data.pf.{key}: a non-empty list of URNs is required")
        if "comment" in data and not isinstance(data["comment"], str):
            raise EventError("data.comment: must be a string")
    elif kind == PUBLISHED:
        ids = data.get("pfIds")
        if not isinstance(ids, list) or not ids:
            raise EventError("data.pfIds: a non-empty list of ProductFootprint ids is required")
        bad = [i for i in ids if not _uuid(i)]
        if bad:
            raise EventError(f"data.pfIds: not a UUID: {bad[0]!r}")
    else:
        _text(data, "requestEventId", 500)
        if kind == FULFILLED and not isinstance(data.get("pfs"), list):
            raise EventError("data.pfs: a list of ProductFootprints is required")
        if kind == REJECTED and not isinstance(data.get("error"), dict):
            raise EventError("data.error: an object with code and message is required")
    return body


# ----------------------------------------------------------------------------- answers


def match_fragment(pf: dict[str, Any], docs: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """Footprints matching every criterion of ``pf`` (None: no criterion greenlane knows).

    Criteria: ``id``, ``productCategoryCpc`` (equal), ``productIds``, ``companyIds`` (any
    common element).
    """
    known = [k for k in ("id", "productCategoryCpc", "productIds", "companyIds") if k in pf]
    if not known:
        return None

    def ok(doc: dict[str, Any]) -> bool:
        for key in known:
            want = pf[key]
            if isinstance(want, list):
                if not set(want) & set(doc.get(key) or []):
                    return False
            elif doc.get(key) != want:
                return False
        return True

    return [d for d in docs if ok(d)]


def answer_event(
    request: dict[str, Any], docs: list[dict[str, Any]], source: str
) -> dict[str, Any]:
    """The Fulfilled or Rejected event answering RequestCreated ``request``."""
    found = match_fragment(request["data"]["pf"], docs)
    base = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": source,
        "time": rfc3339(utcnow().replace(microsecond=0)),
    }
    if found:
        return {
            "type": FULFILLED,
            **base,
            "data": {"requestEventId": request["id"], "pfs": found},
        }
    error = (
        {
            "code": "BadRequest",
            "message": "the pf fragment names no criterion greenlane matches "
            "on (id, productCategoryCpc, productIds, companyIds)",
        }
        if found is None
        else {"code": "NotFound", "message": "The requested footprint could not be found."}
    )
    return {"type": REJECTED, **base, "data": {"requestEventId": request["id"], "error": error}}


def _loopback(host: str | None) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def callback_base(client: Client, event: dict[str, Any]) -> str | None:
    """Where answers to this client's event go (None: nowhere we may call)."""
    if client.events_base_url:
        return client.events_base_url
    parts = urlsplit(event["source"])
    if parts.scheme == "https" and parts.hostname:
        return event["source"].rstrip("/")
    if parts.scheme == "http" and _loopback(parts.hostname):
        return event["source"].rstrip("/")
    return None


def record(client: Client, event: dict[str, Any]) -> int:
    """Log a received event; returns its row id."""
    with transaction() as conn:
        result = conn.execute(
            pact_events.insert().values(
                client_id=client.client_id,
                event_id=event["id"][:500],
                event_type=event["type"],
                source=event["source"][:1000],
                body=event,
                received_at=utcnow(),
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def _executor(app: Flask) -> ThreadPoolExecutor:
    pool: ThreadPoolExecutor | None = app.extensions.get(_EXT)
    if pool is None:
        pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="pact-events")
        app.extensions[_EXT] = pool
    return pool


def schedule_answer(
    app: Flask, row_id: int, client: Client, event: dict[str, Any], source: str
) -> Future[None]:
    """Answer RequestCreated ``event`` in the background (see the module docstring)."""
    pending: set[Future[None]] = app.extensions.setdefault(_EXT + "_pending", set())
    future = _executor(app).submit(_answer_logged, app, row_id, client, event, source)
    pending.add(future)
    future.add_done_callback(pending.discard)
    return future


def wait_answers(app: Flask, timeout_s: float = 60.0) -> None:
    """Wait until every scheduled answer was delivered or gave up (tests, shutdown)."""
    pending: set[Future[None]] = app.extensions.get(_EXT + "_pending", set())
    for future in list(pending):
        future.result(timeout=timeout_s)


def _answer_logged(
    app: Flask, row_id: int, client: Client, event: dict[str, Any], source: str
) -> None:
    try:
        _answer(app, row_id, client, event, source)
    except Exception:  # a background thread: log, never lose the error
        app.logger.exception("PACT answer to event %s failed", event.get("id"))


def _bearer(app: Flask, client: Client, base: str) -> str | None:
    """A token of the recipient's host if greenlane holds credentials for it, else None."""
    from greenlane.webapp.pact.partners import host_for
    from greenlane.webapp.pact.remote import fetch_token

    host = host_for(app, client.partner_id, base)
    if host is None:
        return None
    return fetch_token(base, host.client_id, host.client_secret, app.config.get("PACT_CA_FILE"))


def _answer(app: Flask, row_id: int, client: Client, event: dict[str, Any], source: str) -> None:
    from greenlane.webapp.pact.footprints import visible_footprints
    from greenlane.webapp.pact.remote import RemoteError, call

    with app.app_context():
        answer = answer_event(event, visible_footprints(client.partner_id), source)
        base = callback_base(client, event)
        url = f"{base}/2/events" if base else None
        status = "undeliverable"
        error: str | None = "the event's source is not an https URL we may call"
        if url is not None:
            attempts = max(1, int(app.config.get("PACT_CALLBACK_ATTEMPTS", 4)))
            pause_s = float(app.config.get("PACT_CALLBACK_BACKOFF_S", 1.0))
            for attempt in range(attempts):
                try:
                    headers = {"Content-Type": "application/cloudevents+json; charset=UTF-8"}
                    token = _bearer(app, client, base or "")
                    if token:
                        headers["Authorization"] = f"Bearer {token}"
                    reply = call(
                        "POST",
                        url,
                        headers=headers,
                        data=json.dumps(answer).encode("utf-8"),
                        cafile=app.config.get("PACT_CA_FILE"),
                    )
                    if 200 <= reply.status < 300:
                        status, error = "delivered", None
                        break
                    status, error = "failed", f"HTTP {reply.status}: {str(reply.body)[:300]}"
                except (RemoteError, InputError) as exc:
                    status, error = "failed", str(exc)
                if attempt + 1 < attempts:
                    time.sleep(pause_s * 2**attempt)
        with transaction() as conn:
            conn.execute(
                update(pact_events)
                .where(pact_events.c.id == row_id)
                .values(
                    answer_type=answer["type"],
                    answer_url=url,
                    answer_status=status,
                    answer_error=error,
                    answered_at=utcnow(),
                )
            )
        if status != "delivered":
            app.logger.warning("PACT answer to event %s not delivered: %s", event["id"], error)
