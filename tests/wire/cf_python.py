"""Captures what the official `cloudflare` Python SDK sends for each R2 call Mayfly serves, and
how it reacts to each kind of answer (returned value, exception class, retries).

Needs the pinned SDK (tests/e2e/requirements.txt) and a running `capture_server.py`; run through
`scripts/capture-wire`, which writes the result to tests/fixtures/wire/cf_python.json.

Usage: python cf_python.py <capture-server-port> <output.json>
"""

from __future__ import annotations

import json
import sys
import time
import traceback
import urllib.request
from pathlib import Path

import cloudflare
from pydantic import BaseModel

HERE = Path(__file__).resolve().parent
ANSWERS = json.loads((HERE / "answers.json").read_text())

# The fake account, parent key, bucket and token every capture uses.
ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
PARENT = "example-access-key-id"
BUCKET = "example-bucket"
TOKEN = "fake-cf-api-token-Y2xvdWRmbGFyZQ"


def creds(cf: cloudflare.Cloudflare, **extra):
    args = {"account_id": ACCOUNT, "bucket": BUCKET, "parent_access_key_id": PARENT,
            "permission": "object-read-write", "ttl_seconds": 3600}
    return cf.r2.temporary_credentials.create(**{**args, **extra})


def by_token(cf_args: dict | None = None):
    return cf_args or {"api_token": TOKEN}


# (name, queued answers, default answer, client arguments, the call)
SCENARIOS = [
    ("seed call, success envelope (a)", ["creds"], None, None, creds),
    ("with objects=[...] and prefixes=[...]", ["creds"], None, None,
     lambda cf: creds(cf, objects=["photos/cat.png", "docs/a b.txt"], prefixes=["logs/", "tmp/"])),
    ("success with an unknown extra result field", ["creds_extra_field"], None, None, creds),
    ("success with partial result (only accessKeyId)", ["creds_partial"], None, None, creds),
    ("(b) HTTP 400 error envelope", ["e400_ttl"], None, None, creds),
    ("(c) HTTP 401", [], "e401", None, creds),
    ("(c) HTTP 403", [], "e403", None, creds),
    ("(c) HTTP 404", [], "e404_bucket", None, creds),
    ("(c) HTTP 409", [], "e409", None, creds),
    ("(c) HTTP 422", [], "e422", None, creds),
    ("(c) HTTP 429 with Retry-After: 1 (every attempt)", [], "e429_retry_after_1", None, creds),
    ("(c) HTTP 429 with retry-after-ms: 200", [], "e429_retry_after_ms", None, creds),
    ("(c) HTTP 429 without Retry-After", [], "e429", None, creds),
    ("(c) HTTP 500 (every attempt)", [], "e500", None, creds),
    ("(c) HTTP 503 with non-JSON body", [], "e503_text", None, creds),
    ("(c) HTTP 500 with x-should-retry: false", [], "e500_retry_false", None, creds),
    ("(c) HTTP 400 with x-should-retry: true", [], "e400_retry_true", None, creds),
    ("(c) HTTP 408", [], "e408", None, creds),
    ("(c) HTTP 500 once, then 200 (retry succeeds; idempotency/retry headers on attempt 2)",
     ["e500", "creds"], None, None, creds),
    ("(d) HTTP 200 with success:false, result:null", ["success_false_null"], None, None, creds),
    ("(d') HTTP 200 with success:false but a result object", ["success_false_result"], None, None, creds),
    ("200 envelope with no `result` key", ["no_result_key"], None, None, creds),
    ("200 with text/plain non-JSON body", ["text_plain_200"], None, None, creds),
    ("200 with bare (un-enveloped) result object", ["bare_result"], None, None, creds),
    ("invalid permission value (client-side?)", [], "empty_result", None,
     lambda cf: creds(cf, bucket="b", parent_access_key_id="p", permission="bogus", ttl_seconds=1)),
    ("empty account_id (client-side?)", [], "empty_result", None, lambda cf: creds(cf, account_id="")),
    ("buckets.create(name='my-bucket')", ["bucket"], None, None,
     lambda cf: cf.r2.buckets.create(account_id=ACCOUNT, name="my-bucket")),
    ("buckets.create with location_hint, storage_class, cf_r2_jurisdiction", ["bucket_eu"], None, None,
     lambda cf: cf.r2.buckets.create(account_id=ACCOUNT, name="my-bucket", location_hint="weur",
                                     storage_class="InfrequentAccess", cf_r2_jurisdiction="eu")),
    ("buckets.create -> 409 (bucket exists)", ["e409_bucket_exists"] * 3, None, None,
     lambda cf: cf.r2.buckets.create(account_id=ACCOUNT, name="my-bucket")),
    ("buckets.list()", ["bucket_list"], None, None, lambda cf: cf.r2.buckets.list(account_id=ACCOUNT)),
    ("buckets.list(all params)", ["bucket_list_empty"], None, None,
     lambda cf: cf.r2.buckets.list(account_id=ACCOUNT, cursor="abc=", direction="desc", name_contains="my",
                                   order="name", per_page=5, start_after="a", cf_r2_jurisdiction="eu")),
    ("buckets.get('my-bucket')", ["bucket"], None, None,
     lambda cf: cf.r2.buckets.get("my-bucket", account_id=ACCOUNT)),
    ("buckets.get('a b/c') (path escaping)", ["bucket"], None, None,
     lambda cf: cf.r2.buckets.get("a b/c", account_id=ACCOUNT)),
    ("buckets.get -> 404", ["e404_bucket"], None, None, lambda cf: cf.r2.buckets.get("nope", account_id=ACCOUNT)),
    ("buckets.delete('my-bucket')", ["empty_result"], None, None,
     lambda cf: cf.r2.buckets.delete("my-bucket", account_id=ACCOUNT)),
    ("buckets.delete with result:null", ["null_result"], None, None,
     lambda cf: cf.r2.buckets.delete("my-bucket", account_id=ACCOUNT, cf_r2_jurisdiction="eu")),
    ("buckets.edit(storage_class=InfrequentAccess) (PATCH, header-only)", ["bucket"], None, None,
     lambda cf: cf.r2.buckets.edit("my-bucket", account_id=ACCOUNT, storage_class="InfrequentAccess")),
    ("auth via api_key + api_email (X-Auth-Key / X-Auth-Email)", ["bucket"], None,
     {"api_key": "fake-global-key", "api_email": "user@example.com"},
     lambda cf: cf.r2.buckets.get("my-bucket", account_id=ACCOUNT)),
]


def control(port: int, method: str, path: str, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/__capture/{path}", data=data, method=method,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def qualified(t: type) -> str:
    """`cloudflare.X` for the SDK's exception classes (exported at the top), the full module
    path for its models, `builtins.X` for Python's own."""
    module = t.__module__
    if module.startswith("cloudflare._"):
        module = "cloudflare"
    return f"{module}.{t.__qualname__}"


def plain(value):
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value


def run(port: int, name: str, queue: list, default, client_args, call) -> dict:
    plan = {"queue": [ANSWERS[a] for a in queue]}
    if default:
        plan["default"] = ANSWERS[default]
    control(port, "POST", "plan", plan)
    cf = cloudflare.Cloudflare(base_url=f"http://127.0.0.1:{port}/client/v4", **by_token(client_args))
    out: dict = {"name": name}
    started = time.monotonic()
    try:
        value = call(cf)
        out.update(outcome="returned", result_type=qualified(type(value)), result=plain(value),
                   result_repr=repr(value))
    except Exception as e:  # the point is to record whatever the SDK raises
        out.update(outcome="raised", exc_class=qualified(type(e)),
                   exc_mro=[c.__name__ for c in type(e).__mro__], exc_str=str(e))
        if isinstance(e, cloudflare.APIStatusError):
            out.update(exc_status_code=e.status_code, exc_message=e.message, exc_body=e.body,
                       exc_errors=[plain(x) for x in e.errors],
                       exc_response_headers=dict(e.response.headers))
        out["traceback_tail"] = traceback.format_exception_only(type(e), e)[-1].strip()
    finally:
        cf.close()
    out["elapsed_s"] = round(time.monotonic() - started, 3)
    requests = control(port, "GET", "requests")
    times = [r["t"] for r in requests]
    out.update(
        n_requests=len(requests),
        request_times=times,
        gaps_s=[round(b - a, 3) for a, b in zip(times, times[1:])],
        retry_count_headers=[next((v for k, v in r["headers"] if k.lower() == "x-stainless-retry-count"), None)
                             for r in requests],
        requests=requests,
    )
    return out


def main() -> None:
    port, output = int(sys.argv[1]), Path(sys.argv[2])
    results = [run(port, *s) for s in SCENARIOS]
    output.write_text(json.dumps(results, indent=1) + "\n")
    print(f"{output}: {len(results)} scenarios, cloudflare {cloudflare.__version__}")


if __name__ == "__main__":
    main()
