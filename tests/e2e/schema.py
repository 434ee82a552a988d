"""Validates API response bodies against Cloudflare's R2 OpenAPI description.

The description lives in the shared folder beside the repository
(`<repo>/../shared/reference/cloudflare-r2-openapi.json`; override with MAYFLY_OPENAPI).
Paths it describes are checked against their own 200 / 4XX schemas; other v4 paths (tokens)
against the generic envelope. A 5xx is always a failure: the API must answer bad input with 4xx.
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path

import jsonschema
import requests

REPO = Path(__file__).resolve().parents[2]
OPENAPI_PATH = Path(os.environ.get("MAYFLY_OPENAPI", REPO.parent / "shared" / "reference" / "cloudflare-r2-openapi.json"))

# How many bodies were validated, by kind; a test asserts the hook actually ran.
SEEN: dict[str, int] = {}


def _openapi_to_jsonschema(node):
    """OpenAPI 3.0 `nullable: true` means the value may also be null; JSON Schema needs a type list."""
    if isinstance(node, dict):
        out = {k: _openapi_to_jsonschema(v) for k, v in node.items()}
        if out.pop("nullable", False) and "type" in out:
            t = out["type"]
            out["type"] = [*t, "null"] if isinstance(t, list) else [t, "null"]
        return out
    if isinstance(node, list):
        return [_openapi_to_jsonschema(v) for v in node]
    return node


def _load():
    if not OPENAPI_PATH.exists():
        raise FileNotFoundError(
            f"OpenAPI description not found at {OPENAPI_PATH}: the shared folder must sit beside the repo"
        )
    doc = json.loads(OPENAPI_PATH.read_text())
    return doc, _openapi_to_jsonschema(doc["components"])


DOC, COMPONENTS = _load()

_TEMPLATES = [(p, re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$")) for p in DOC["paths"]]

GENERIC_SUCCESS = {
    "type": "object",
    "required": ["success", "errors", "messages", "result"],
    "properties": {
        "success": {"const": True},
        "errors": {"$ref": "#/components/schemas/r2_errors"},
        "messages": {"$ref": "#/components/schemas/r2_messages"},
    },
}


def _validator(schema: dict):
    root = {"components": COMPONENTS, **_openapi_to_jsonschema(schema)}
    return jsonschema.Draft202012Validator(root)


def schema_for(method: str, path: str, status: int) -> tuple[str, dict]:
    """The schema a response must match: (description, schema)."""
    assert status < 500, f"{method} {path} answered {status}: the API must never 5xx on client input"
    template = next((t for t, rx in _TEMPLATES if rx.match(path)), None)
    op = DOC["paths"].get(template, {}).get(method.lower()) if template else None
    label = template or re.sub(r"/[0-9a-f]{32}(?=/|$)", "/{id}", path)
    if 200 <= status < 300:
        if op and "200" in op["responses"]:
            return f"{method} {template} 200", op["responses"]["200"]["content"]["application/json"]["schema"]
        return f"{method} {label} 2xx (generic envelope)", GENERIC_SUCCESS
    if 400 <= status < 500:
        return f"{method} {label} 4XX", {"$ref": "#/components/schemas/r2_v4_response_failure"}
    raise AssertionError(f"{method} {path} answered unexpected status {status}")


def check_response(method: str, path: str, status: int, body) -> None:
    """Raises AssertionError if `body` does not match the schema for this response."""
    what, schema = schema_for(method, path, status)
    errors = sorted(_validator(schema).iter_errors(body), key=lambda e: list(e.path))
    if errors:
        detail = "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
        raise AssertionError(f"{what}: body does not match the OpenAPI schema: {detail}\nbody: {body!r}")
    if status >= 400:
        for err in body["errors"]:
            assert err["code"] >= 1000
    SEEN[what] = SEEN.get(what, 0) + 1


class CheckedSession:
    """`requests` against the API; every answer is schema-checked before the test sees it."""

    def __init__(self, server):
        self.server = server
        self.session = requests.Session()

    def request(self, method: str, path: str, token: str | None = "default", **kw) -> requests.Response:
        headers = kw.pop("headers", {})
        if token == "default":
            headers.setdefault("Authorization", f"Bearer {self.server.api_token}")
        elif token is not None:
            headers.setdefault("Authorization", f"Bearer {token}")
        r = self.session.request(method, self.server.api_url + path, headers=headers, timeout=30, **kw)
        check_response(method, path, r.status_code, r.json())
        return r

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)
