"""``Idempotency-Key`` on POST (IETF draft-ietf-httpapi-idempotency-key-header).

The first request with a key reserves it (a row with no response yet, committed at once so a
concurrent retry sees it). The request's own writes then form one transaction
(``webapp.db.RequestUnit``) and its response is stored in that same transaction: a stop at
any moment leaves either the work and its answer, or neither (the reservation alone is freed
once its heartbeat is stale, by ``webapp.heartbeat``: it records the server process as
``owner``, so another process's start-up never frees a live request's key). A retry with the
same key and the same method, path and body gets the stored response again
(``Idempotent-Replayed: true``), never a second plan or job. The same key with another body
is a 422; a retry while the first is still running is a 409. Keys are scoped to the token.
A 5xx rolls the request's writes back and frees the key, so the client may retry.
"""

from __future__ import annotations

import hashlib
import json

from flask import Response, g, request
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from greenlane.webapp.db import (
    begin_request_unit,
    end_request_unit,
    engine_of,
    instance_id,
    transaction,
    utcnow,
)
from greenlane.webapp.problems import problem
from greenlane.webapp.tables import idempotency

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
_KEPT_HEADERS = ("Location", "Content-Type", "Retry-After")


def _request_hash() -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b"\0" + request.path.encode() + b"\0")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def begin(token_id: int) -> Response | None:
    """Before the view: replay, reject, or reserve the key (None = go on)."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        return problem(400, "Bad Request", f"must be 1..{MAX_KEY_LENGTH} characters", field=HEADER)
    digest = _request_hash()
    engine = engine_of()
    try:
        with transaction(engine) as conn:
            row = conn.execute(
                select(idempotency).where(
                    idempotency.c.token_id == token_id, idempotency.c.key == key
                )
            ).first()
            if row is None:
                now = utcnow()
                result = conn.execute(
                    idempotency.insert().values(
                        token_id=token_id,
                        key=key,
                        method=request.method,
                        path=request.path,
                        request_sha256=digest,
                        created_at=now,
                        owner=instance_id(),
                        heartbeat_at=now,
                    )
                )
                g.idempotency_row = int(result.inserted_primary_key[0])  # type: ignore[index]
        if row is None:
            begin_request_unit(engine)
            return None
    except IntegrityError:
        return problem(
            409,
            "Conflict",
            "a request with this Idempotency-Key is in progress",
            field=HEADER,
            headers={"Retry-After": "1"},
        )
    if row.request_sha256 != digest:
        return problem(
            422,
            "Idempotency-Key reused",
            "this key was used with another request (method, path or body)",
            field=HEADER,
        )
    if row.status_code is None:
        return problem(
            409,
            "Conflict",
            "a request with this Idempotency-Key is in progress",
            field=HEADER,
            headers={"Retry-After": "1"},
        )
    resp = Response(row.response_body or "", status=row.status_code)
    for name, value in (row.response_headers or {}).items():
        resp.headers[name] = value
    resp.headers["Idempotent-Replayed"] = "true"
    return resp


def finish(response: Response) -> Response:
    """After the view: store the response with the request's writes and commit both.

    A 5xx rolls the writes back and frees the key, so the client may retry.
    """
    row_id = g.pop("idempotency_row", None)
    unit = end_request_unit()
    if row_id is None or unit is None:
        return response
    if response.status_code >= 500 or response.direct_passthrough:
        unit.rollback()
        _free(row_id)
        return response
    headers = {k: response.headers[k] for k in _KEPT_HEADERS if k in response.headers}
    try:
        with unit.block() as conn:
            stored = conn.execute(
                update(idempotency)
                .where(idempotency.c.id == row_id, idempotency.c.status_code.is_(None))
                .values(
                    status_code=response.status_code,
                    response_body=response.get_data(as_text=True),
                    response_headers=json.loads(json.dumps(headers)),
                )
            ).rowcount
        if stored != 1:  # freed meanwhile (its heartbeat went stale: a stalled process)
            unit.rollback()
            return problem(
                409,
                "Conflict",
                "this request's Idempotency-Key was released while it ran; nothing was kept, retry",
                field=HEADER,
                headers={"Retry-After": "1"},
            )
        unit.commit_writes()
    except BaseException:
        unit.rollback()
        _free(row_id)
        raise
    unit.run_callbacks()
    return response


def _free(row_id: int) -> None:
    """Free a reservation that has no answer (a committed answer is never deleted)."""
    with transaction(engine_of()) as conn:
        conn.execute(
            delete(idempotency).where(
                idempotency.c.id == row_id, idempotency.c.status_code.is_(None)
            )
        )


def abandon(_exc: BaseException | None = None) -> None:
    """Teardown: roll back and free a key whose request never produced a response."""
    unit = end_request_unit()
    if unit is not None:
        unit.rollback()
    row_id = g.pop("idempotency_row", None)
    if row_id is not None:
        _free(row_id)
