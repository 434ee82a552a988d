"""Validates API answers twice: against the repository's response schema, and with the official
Python SDK's own typed models.

1. `tests/fixtures/api-schema.json`: a JSON Schema of the endpoints Mayfly serves, written from
   Cloudflare's public API documentation (the v4 envelope; R2 buckets; temporary credentials).
   Described paths are checked against their own 200 / 4XX schemas; other v4 paths (tokens)
   against the generic envelope.
2. The `cloudflare` SDK's pydantic models (`cloudflare.types...`): every success `result` is
   parsed with the model the SDK itself parses that answer with (`model_validate`, so a wrong
   type or an unknown enum value fails), and every error entry with its `ResponseInfo`.

A 5xx is always a failure: the API must answer bad input with 4xx.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import requests
from cloudflare.types import r2
from cloudflare.types.accounts import (
    TokenCreateResponse,
    TokenDeleteResponse,
    TokenVerifyResponse,
)
from cloudflare.types.accounts.tokens import PermissionGroupListResponse
from cloudflare.types.shared import ResponseInfo, Token
from pydantic import BaseModel, TypeAdapter

REPO = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO / "tests" / "fixtures" / "api-schema.json"

# How many bodies were validated, by kind; a test asserts the hook actually ran.
SEEN: dict[str, int] = {}

DOC = json.loads(SCHEMA_PATH.read_text())
DEFS = DOC["$defs"]


def _template_rx(template: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")


# "METHOD /path/{param}" -> (method, compiled path pattern, template)
_OPERATIONS = [
    (key.split(" ", 1)[0], _template_rx(key.split(" ", 1)[1]), key.split(" ", 1)[1]) for key in DOC["operations"]
]

# The models the SDK parses each success `result` with (its resources' `ResultWrapper[...]`).
_SDK_MODELS: list[tuple[str, re.Pattern, object]] = [
    ("POST", _template_rx("/accounts/{a}/r2/temp-access-credentials"), r2.TemporaryCredentialCreateResponse),
    ("GET", _template_rx("/accounts/{a}/r2/buckets"), r2.BucketListResponse),
    ("POST", _template_rx("/accounts/{a}/r2/buckets"), r2.Bucket),
    ("GET", _template_rx("/accounts/{a}/r2/buckets/{b}"), r2.Bucket),
    ("PATCH", _template_rx("/accounts/{a}/r2/buckets/{b}"), r2.Bucket),
    ("POST", _template_rx("/accounts/{a}/tokens"), TokenCreateResponse),
    ("GET", _template_rx("/accounts/{a}/tokens"), list[Token]),
    ("GET", _template_rx("/accounts/{a}/tokens/verify"), TokenVerifyResponse),
    ("GET", _template_rx("/user/tokens/verify"), TokenVerifyResponse),
    ("GET", _template_rx("/accounts/{a}/tokens/permission_groups"), list[PermissionGroupListResponse]),
    ("GET", _template_rx("/accounts/{a}/tokens/{t}"), Token),
    ("PUT", _template_rx("/accounts/{a}/tokens/{t}"), Token),
    ("DELETE", _template_rx("/accounts/{a}/tokens/{t}"), TokenDeleteResponse),
]


def _validator(schema: dict):
    return jsonschema.Draft202012Validator({"$defs": DEFS, **schema})


def schema_for(method: str, path: str, status: int) -> tuple[str, dict]:
    """The schema a response must match: (description, schema)."""
    assert status < 500, f"{method} {path} answered {status}: the API must never 5xx on client input"
    template = next((t for m, rx, t in _OPERATIONS if m == method.upper() and rx.match(path)), None)
    op = DOC["operations"].get(f"{method.upper()} {template}") if template else None
    label = template or re.sub(r"/[0-9a-f]{32}(?=/|$)", "/{id}", path)
    if 200 <= status < 300:
        if op:
            return f"{method} {template} 200", op["200"]
        return f"{method} {label} 2xx (generic envelope)", {"$ref": "#/$defs/success"}
    if 400 <= status < 500:
        return f"{method} {label} 4XX", {"$ref": "#/$defs/failure"}
    raise AssertionError(f"{method} {path} answered unexpected status {status}")


def sdk_model_for(method: str, path: str):
    """The SDK type a success `result` of this call is parsed into, if the SDK has one."""
    # First match wins: `/tokens/verify` is listed before `/tokens/{t}`.
    return next((model for m, rx, model in _SDK_MODELS if m == method.upper() and rx.match(path)), None)


def _model_name(model) -> str:
    return getattr(model, "__name__", None) or str(model).replace("cloudflare.types.", "")


def check_sdk_models(method: str, path: str, status: int, body) -> None:
    """Parses the body's parts with the official SDK's own models; raises AssertionError."""
    errors = body.get("errors") or []
    for err in errors:
        try:
            ResponseInfo.model_validate(err, strict=True)
        except Exception as e:
            raise AssertionError(f"{method} {path}: error entry rejected by cloudflare ResponseInfo: {e}") from e
    if 200 <= status < 300:
        model = sdk_model_for(method, path)
        if model is None:
            return
        adapter = TypeAdapter(model) if not (isinstance(model, type) and issubclass(model, BaseModel)) else None
        try:
            if adapter is not None:
                adapter.validate_python(body["result"])
            else:
                model.model_validate(body["result"])
        except Exception as e:
            raise AssertionError(
                f"{method} {path}: result rejected by the SDK's {_model_name(model)}: {e}\nbody: {body!r}"
            ) from e
        what = f"SDK model {_model_name(model)}"
        SEEN[what] = SEEN.get(what, 0) + 1


def check_response(method: str, path: str, status: int, body) -> None:
    """Raises AssertionError if `body` does not match the schema and the SDK's models."""
    what, schema = schema_for(method, path, status)
    errors = sorted(_validator(schema).iter_errors(body), key=lambda e: list(e.path))
    if errors:
        detail = "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
        raise AssertionError(f"{what}: body does not match tests/fixtures/api-schema.json: {detail}\nbody: {body!r}")
    check_sdk_models(method, path, status, body)
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
