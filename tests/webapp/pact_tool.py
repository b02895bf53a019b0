"""Where the PACT conformance tool is, and validators of its OpenAPI component schemas."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def tool_dir() -> Path | None:
    """The read-only conformance tool (``$GREENLANE_PACT_CONFORMANCE``, else
    ``../shared/conformance/pact-conformance-service`` next to the checkout)."""
    env = os.environ.get("GREENLANE_PACT_CONFORMANCE")
    candidates = [Path(env)] if env else []
    for up in (ROOT.parent, ROOT.parent.parent):
        candidates.append(up / "shared" / "conformance" / "pact-conformance-service")
    for path in candidates:
        if (path / "package.json").is_file() and (path / "src" / "schemas").is_dir():
            return path
    return None


@cache
def _openapi(version: str) -> dict[str, Any] | None:
    import yaml

    tool = tool_dir()
    if tool is None:
        return None
    path = tool / "src" / "schemas" / f"openapi_v{version.replace('.', '_')}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None


def component_validator(version: str, name: str) -> Any | None:
    """A JSON Schema validator of ``components.schemas.<name>`` of the tool's OpenAPI
    document for PACT ``version`` (e.g. ``"2.2"``); None without the tool."""
    from jsonschema import Draft202012Validator

    doc = _openapi(version)
    if doc is None:
        return None
    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
