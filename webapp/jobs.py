"""Background solves: a small thread pool running persisted job rows.

A job row moves ``queued -> running -> done|failed``; progress is written as the solve goes.
The plan and the job's ``done`` state are written in one transaction, so a crash leaves a
job ``running`` with no plan; once its heartbeat is stale (``webapp.heartbeat``) the next
start-up or sweep of any process on the database marks it failed with the reason. OR-Tools
releases the GIL while it searches, so a thread keeps the web server responsive;
``JOB_WORKERS`` (default 1) bounds the parallel solves. A job queued by a request that holds
an ``Idempotency-Key`` starts once that request's transaction (job row and stored answer)
has committed.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from flask import Flask, current_app

from greenlane.emissions.errors import DataError, GreenlaneError
from greenlane.webapp import store
from greenlane.webapp.db import engine_of, instance_id, request_unit, transaction, utcnow


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


class JobRunner:
    """Runs jobs of one app in a thread pool."""

    def __init__(self, app: Flask, workers: int) -> None:
        self.app = app
        self.pool = _Pool(max_workers=max(1, workers), thread_name_prefix="gl-job")
        self.futures: dict[str, Future[None]] = {}

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
        from greenlane.webapp.services import compute, network

        engine = engine_of(self.app)
        with transaction(engine) as conn:
            row = store.get_job(conn, job_id)
            if row is None or row.status != "queued":
                return
            now = utcnow()
            store.set_job(
                conn,
                job_id,
                status="running",
                started_at=now,
                progress=0.05,
                owner=instance_id(self.app),
                heartbeat_at=now,
            )
            doc: dict[str, Any] = dict(row.request)
            kind, created_by = row.kind, row.created_by

        def progress(x: float) -> None:
            with transaction(engine) as c:
                store.set_job(c, job_id, progress=round(x, 3), heartbeat_at=utcnow())

        try:
            with self.app.app_context():
                result = compute(doc, network(self.app), progress)
            with transaction(engine) as conn:
                if kind == "pareto":
                    store.set_job(
                        conn,
                        job_id,
                        status="done",
                        progress=1.0,
                        finished_at=utcnow(),
                        result={"points": store.pareto_points(result.frontier or [])},
                    )
                else:
                    assert result.plan is not None
                    plan_id = store.insert_plan(
                        conn,
                        result.plan,
                        doc,
                        name=doc.get("name") or "",
                        created_by=created_by,
                        pareto=result.frontier,
                    )
                    store.set_job(
                        conn,
                        job_id,
                        status="done",
                        progress=1.0,
                        finished_at=utcnow(),
                        result_plan_id=plan_id,
                    )
        except GreenlaneError as exc:
            status = 500 if isinstance(exc, DataError) else 422
            self._fail(
                job_id,
                {
                    "title": "Invalid input",
                    "status": status,
                    "detail": exc.message,
                    "field": exc.field,
                },
            )
        except Exception as exc:
            self.app.logger.exception("job %s failed", job_id)
            self._fail(
                job_id,
                {"title": "Solver error", "status": 500, "detail": f"{type(exc).__name__}: {exc}"},
            )

    def _fail(self, job_id: str, error: dict[str, Any]) -> None:
        with transaction(engine_of(self.app)) as conn:
            store.set_job(conn, job_id, status="failed", finished_at=utcnow(), error=error)


def init_app(app: Flask) -> None:
    """Attach a runner to the app."""
    app.extensions["greenlane_jobs"] = JobRunner(app, int(app.config["JOB_WORKERS"]))


def runner(app: Flask | None = None) -> JobRunner:
    """The runner of ``app`` (default: the current app)."""
    return (app or current_app).extensions["greenlane_jobs"]  # type: ignore[no-any-return]
