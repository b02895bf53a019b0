"""Configuration of the web app: defaults, the instance folder and the environment.

This is the only module of greenlane that reads environment variables. ``create_app`` merges,
in order: :data:`DEFAULTS`, the environment (:func:`from_environment`), then the
``test_config`` mapping given to the factory.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from greenlane.emissions.limits import MAX_JSON_DEPTH

DEFAULTS: dict[str, Any] = {
    # SQLAlchemy URL; None means ``sqlite:///<instance>/greenlane.sqlite``.
    "DATABASE_URL": None,
    # Books with more shipments than this run as a background job (202 + Location).
    "ASYNC_THRESHOLD_SHIPMENTS": 20,
    # Largest book accepted through the API or the UI [shipments].
    "MAX_SHIPMENTS": 2000,
    # Largest request body [bytes] (Flask answers 413 above it).
    "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
    # Deepest nesting of arrays/objects in a JSON body [levels] (webapp.jsonlimits; 400 above);
    # the same limit as every JSON file read (greenlane.emissions.limits).
    "MAX_JSON_DEPTH": MAX_JSON_DEPTH,
    # Background solver threads; 1 keeps a 2-core machine responsive.
    "JOB_WORKERS": 1,
    # Each process refreshes the heartbeat of its jobs and Idempotency-Key reservations
    # this often [s]; another process treats them as abandoned after 3 intervals.
    "HEARTBEAT_S": 10.0,
    # Solver limits offered to clients [s]; requests above the maximum are rejected (422).
    "SOLVER_TIME_LIMIT_S": 10.0,
    "SOLVER_MAX_TIME_LIMIT_S": 60.0,
    # Points of the cost-vs-CO2e curve computed with every UI plan (0 = none).
    "UI_PARETO_POINTS": 6,
    # Dataset uploads (webapp.datasets): at most this many files and bytes in total (413
    # above); materialised folders live in DATASET_CACHE_DIR (None = instance/datasets).
    "DATASET_MAX_FILES": 40,
    "DATASET_MAX_BYTES": 8 * 1024 * 1024,
    "DATASET_CACHE_DIR": None,
    # Where the network cache lives; None = routing's default (~/.cache/greenlane).
    "NETWORK_CACHE_DIR": None,
    # Data owner named in PACT ProductFootprints (companyIds must be URNs).
    "COMPANY_NAME": "greenlane demo shipper",
    "COMPANY_ID": "urn:uuid:2b0f5e0a-6f47-4a55-9d3c-1e3b6f1f0c11",
    # Requests per API token: sustained per minute and burst (webapp.ratelimit); 0 = off.
    "RATE_LIMIT_PER_MINUTE": 1200,
    "RATE_LIMIT_BURST": 200,
    # Requests per client IP without a valid token (API calls, POST /login); 0 = off.
    "RATE_LIMIT_ANON_PER_MINUTE": 60,
    "RATE_LIMIT_ANON_BURST": 20,
    # "database": buckets in the app database, shared by all processes; "memory": per process.
    "RATE_LIMIT_STORE": "database",
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are trusted.
    "TRUSTED_PROXIES": 0,
    # Send Strict-Transport-Security on every answer (it is always sent over HTTPS).
    "HSTS": False,
    # Swagger UI: no validator badge (it would load an image from validator.swagger.io).
    "SWAGGER_CONFIG": {"validatorUrl": None},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "JSON_SORT_KEYS": False,
}

_ENV = {
    "DATABASE_URL": "DATABASE_URL",
    "SECRET_KEY": "GREENLANE_SECRET_KEY",
    "ASYNC_THRESHOLD_SHIPMENTS": "GREENLANE_ASYNC_THRESHOLD",
    "JOB_WORKERS": "GREENLANE_JOB_WORKERS",
    "HEARTBEAT_S": "GREENLANE_HEARTBEAT_S",
    "SOLVER_TIME_LIMIT_S": "GREENLANE_SOLVER_TIME_LIMIT_S",
    "NETWORK_CACHE_DIR": "GREENLANE_CACHE_DIR",
    "DATASET_CACHE_DIR": "GREENLANE_DATASET_CACHE_DIR",
    "INSTANCE_PATH": "GREENLANE_INSTANCE_PATH",
    "RATE_LIMIT_PER_MINUTE": "GREENLANE_RATE_LIMIT_PER_MINUTE",
    "RATE_LIMIT_BURST": "GREENLANE_RATE_LIMIT_BURST",
    "RATE_LIMIT_ANON_PER_MINUTE": "GREENLANE_RATE_LIMIT_ANON_PER_MINUTE",
    "RATE_LIMIT_ANON_BURST": "GREENLANE_RATE_LIMIT_ANON_BURST",
    "RATE_LIMIT_STORE": "GREENLANE_RATE_LIMIT_STORE",
    "TRUSTED_PROXIES": "GREENLANE_TRUSTED_PROXIES",
    "HSTS": "GREENLANE_HSTS",
    "SESSION_COOKIE_SECURE": "GREENLANE_SESSION_COOKIE_SECURE",
    "MAX_CONTENT_LENGTH": "GREENLANE_MAX_CONTENT_LENGTH",
}
_INT = {
    "ASYNC_THRESHOLD_SHIPMENTS",
    "JOB_WORKERS",
    "RATE_LIMIT_BURST",
    "MAX_CONTENT_LENGTH",
    "RATE_LIMIT_ANON_BURST",
    "TRUSTED_PROXIES",
}
_FLOAT = {
    "SOLVER_TIME_LIMIT_S",
    "HEARTBEAT_S",
    "RATE_LIMIT_PER_MINUTE",
    "RATE_LIMIT_ANON_PER_MINUTE",
}
_BOOL = {"HSTS", "SESSION_COOKIE_SECURE"}


def from_environment(environ: os._Environ[str] | dict[str, str] | None = None) -> dict[str, Any]:
    """Settings found in the environment (``DATABASE_URL``, ``GREENLANE_*``)."""
    env = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    for key, name in _ENV.items():
        value = env.get(name)
        if not value:
            continue
        if key in _BOOL:
            out[key] = _boolean(name, value)
            continue
        try:
            if key in _INT:
                out[key] = int(value)
            elif key in _FLOAT:
                out[key] = float(value)
            else:
                out[key] = value
        except ValueError:
            raise ValueError(f"environment variable {name}={value!r} is not a number") from None
    return out


def _boolean(name: str, value: str) -> bool:
    low = value.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"environment variable {name}={value!r} is not a boolean (1/0, true/false)")


def test_database_url() -> str | None:
    """``GREENLANE_TEST_DATABASE_URL``: the PostgreSQL URL the persistence tests use, if set."""
    return os.environ.get("GREENLANE_TEST_DATABASE_URL") or None


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for ``postgres://``/``postgresql://`` URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_secret_key(instance_path: str | Path) -> str:
    """A secret key kept in ``instance/secret_key`` (created on first use)."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key, encoding="utf-8")
    path.chmod(0o600)
    return key
