"""Background solves: a small thread pool running persisted job rows.

A job row moves ``queued -> running -> done|failed``; progress is written as the solve goes.
The plan and the job's ``done`` state are written in one transaction, so a crash leaves a
job ``running`` with no plan; once its heartbeat is stale (``webapp.heartbeat``) the next
start-up or sweep of any process on the database marks it failed with the reason. OR-Tools
releases the GIL while it searches, so a thread keeps the web server responsive;
``JOB_WORKERS`` (default 1) bounds the parallel solves. Each job ``kind`` has a handler that
the app factory registers (``webapp.services.run_plan_job`` for ``plan`` and ``pareto``,
``webapp.ledger.levers.run_lever_job`` for ``levers``), so this module imports neither. A
job queued by a request that holds an ``Idempotency-Key`` starts once that request's
transaction (job row and stored answer) has committed.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from flask import Flask, current_app

from greenlane.webapp import store
from greenlane.webapp.db import engine_of, reading, request_unit, transaction, utcnow


def _settle(outer: Future[Any], inner: Future[Any]) -> None:
    if inner.cancelled():
        outer.cancel()
    elif inner.exception() is not None:
        outer.set_exception(inner.exception())  # type: ignore[arg-type]
    else:
        outer.set_result(inner.result())


class _Pool(ThreadPoolExecutor):
    """A thread pool whose tasks submitted inside an uncommitted request unit wait for it."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        unit = request_unit()
        if unit is None or unit.conn is None:
            return super().submit(fn, *args, **kwargs)
        outer: Future[Any] = Future()

        def start() -> None:
            inner = ThreadPoolExecutor.submit(self, fn, *args, **kwargs)
            inner.add_done_callback(lambda f: _settle(outer, f))

        unit.after_commit(start)
        return outer


Handler = Callable[[Flask, str], None]
"""Runs one queued job of its kind: ``handler(app, job_id)``."""


class JobRunner:
    """Runs jobs of one app in a thread pool."""

    def __init__(self, app: Flask, workers: int) -> None:
        self.app = app
        self.handlers: dict[str, Handler] = {}
        self.pool = _Pool(max_workers=max(1, workers), thread_name_prefix="gl-job")
        self.futures: dict[str, Future[None]] = {}

    def handle(self, kind: str, handler: Handler) -> None:
        """Run queued jobs of ``kind`` with ``handler(app, job_id)``."""
        self.handlers[kind] = handler

    def submit(self, job_id: str) -> Future[None]:
        """Queue a stored job."""
        future = self.pool.submit(self._run, job_id)
        self.futures[job_id] = future
        return future

    def wait(self, job_id: str, timeout: float | None = None) -> None:
        """Block until a job submitted here has finished (tests, CLI)."""
        future = self.futures.get(job_id)
        if future is not None:
            future.result(timeout=timeout)

    def shutdown(self) -> None:
        """Stop taking jobs, wait for the running ones, then stop the app's heartbeat."""
        from greenlane.webapp import heartbeat

        self.pool.shutdown(wait=True)
        heartbeat.stop(self.app)

    def _run(self, job_id: str) -> None:
        with reading(engine_of(self.app)) as conn:
            row = store.get_job(conn, job_id)
        if row is None or row.status != "queued":
            return
        handler = self.handlers.get(row.kind)
        if handler is None:
            detail = f"no handler for jobs of kind {row.kind!r}"
            fail(self.app, job_id, {"title": "Server error", "status": 500, "detail": detail})
            return
        handler(self.app, job_id)


def fail(app: Flask, job_id: str, error: dict[str, Any]) -> None:
    """Mark a job failed with ``error`` (a problem document)."""
    with transaction(engine_of(app)) as conn:
        store.set_job(conn, job_id, status="failed", finished_at=utcnow(), error=error)


def init_app(app: Flask) -> None:
    """Attach a runner to the app."""
    app.extensions["greenlane_jobs"] = JobRunner(app, int(app.config["JOB_WORKERS"]))


def runner(app: Flask | None = None) -> JobRunner:
    """The runner of ``app`` (default: the current app)."""
    return (app or current_app).extensions["greenlane_jobs"]  # type: ignore[no-any-return]
