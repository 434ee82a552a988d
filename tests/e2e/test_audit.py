"""The audit trail (issue 15 §3, a Mayfly extension): a mint through the official `cloudflare`
SDK and S3 requests through boto3 with the minted credential appear in
`GET /client/v4/mayfly/accounts/{a}/audit` (read with the SDK's raw `get` on the custom path)
with the right fields; filters, cursor paging and bad filters; token and bucket changes; who may
read; and `mayfly audit --json` parsed line by line.

In cluster mode (`MAYFLY_E2E_CLUSTER=1`) the S3 requests go through the round-robin balancer
(so both nodes record events) and the trail is read from EACH node directly: every node lists
every event, wherever it was recorded."""

from __future__ import annotations

import hashlib
import json
import time

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from conftest import CLUSTER, run_mayfly
from helpers import create_token, revoke_token
from jwt_util import decode_session_token

BODY = b"a" * 4096
WAIT_S = 15.0


def credential_id(session_token: str) -> str:
    """The credential id, computed here from its documented definition (not by the server)."""
    jwt, _, _ = decode_session_token(session_token)
    signing_input = jwt.rsplit(".", 1)[0].encode()
    return hashlib.sha256(b"mayfly credential id v1\x00" + signing_input).hexdigest()[:32]


def audit_path(server) -> str:
    return f"/mayfly/accounts/{server.account_id}/audit"


def sdk_audit(cf, server, **params) -> dict:
    """The audit endpoint through the official SDK's raw `get` (the envelope as JSON)."""
    body = cf.get(audit_path(server), cast_to=object, options={"params": params})
    assert body["success"] is True, body
    return body


def api_urls(server) -> list[str]:
    """Where to read the trail: each node's own API in cluster mode, else the one server."""
    if not CLUSTER:
        return [server.api_url]
    info = json.loads((server.data_dir / "cluster.json").read_text())
    return [n["api_url"] for n in info["nodes"]]


def wait_for(fetch, want: int) -> list[dict]:
    """Polls `fetch()` until it returns at least `want` events (the writer flushes in batches)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        events = fetch()
        if len(events) >= want or time.monotonic() > deadline:
            return events
        time.sleep(0.1)


def temp_s3(server, creds):
    return boto3.client(
        "s3", endpoint_url=server.s3_url, region_name="auto",
        aws_access_key_id=creds.access_key_id, aws_secret_access_key=creds.secret_access_key,
        aws_session_token=creds.session_token, config=Config(retries={"max_attempts": 1}),
    )


def mint(cf, server, bucket, **extra):
    return cf.r2.temporary_credentials.create(
        account_id=server.account_id, bucket=bucket, parent_access_key_id=server.access_key_id,
        permission="object-read-write", ttl_seconds=900, **extra,
    )


def test_mint_and_s3_requests_of_a_temporary_credential_are_recorded(server, cf, bucket):
    creds = mint(cf, server, bucket, prefixes=["audit/"])
    cid = credential_id(creds.session_token)
    s3 = temp_s3(server, creds)
    put = s3.put_object(Bucket=bucket, Key="audit/a.bin", Body=BODY)
    got = s3.get_object(Bucket=bucket, Key="audit/a.bin")
    assert got["Body"].read() == BODY
    with pytest.raises(botocore.exceptions.ClientError) as denied:
        s3.get_object(Bucket=bucket, Key="outside/b.bin")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    request_ids = {
        "PutObject": put["ResponseMetadata"]["RequestId"],
        "GetObject": got["ResponseMetadata"]["RequestId"],
    }

    def fetch():
        return sdk_audit(cf, server, credential_id=cid)["result"]

    events = wait_for(fetch, 4)
    assert [e["kind"] for e in events] == ["s3", "s3", "s3", "credential.mint"], events
    times = [e["time"] for e in events]
    assert times == sorted(times, reverse=True), "newest first"
    for e in events:
        assert e["credentialId"] == cid
        assert e["parentAccessKeyId"] == server.access_key_id
        assert e["bucket"] == bucket
        for field in ("time", "kind", "key", "operation", "status", "bytes", "requestId", "caller"):
            assert field in e, f"{field} missing (absent values are null): {e}"
    denied_ev, get_ev, put_ev, mint_ev = events
    assert (put_ev["operation"], put_ev["key"], put_ev["status"], put_ev["bytes"]) == (
        "PutObject", "audit/a.bin", 200, 4096)
    assert (get_ev["operation"], get_ev["key"], get_ev["status"], get_ev["bytes"]) == (
        "GetObject", "audit/a.bin", 200, 4096)
    assert put_ev["requestId"] == request_ids["PutObject"]
    assert get_ev["requestId"] == request_ids["GetObject"]
    assert (denied_ev["operation"], denied_ev["key"], denied_ev["status"]) == (
        "GetObject", "outside/b.bin", 403)
    assert denied_ev["requestId"] == denied.value.response["ResponseMetadata"]["RequestId"]
    assert put_ev["caller"] is None, "S3 requests have no API caller"
    # The mint: who asked, for what, and never a secret.
    assert mint_ev["caller"] == server.token_id
    assert mint_ev["key"] is None and mint_ev["requestId"] is None
    detail = mint_ev["detail"]
    assert detail["permission"] == "object-read-write"
    assert detail["prefixes"] == ["audit/"] and detail["objects"] == []
    assert detail["ttlSeconds"] == 900 and detail["actions"] == []
    text = json.dumps(events)
    assert creds.secret_access_key not in text and creds.session_token not in text


def test_every_node_lists_every_event(server, cf, bucket):
    """Cluster: requests through the balancer land on both nodes; each node's API lists all."""
    creds = mint(cf, server, bucket)
    cid = credential_id(creds.session_token)
    s3 = temp_s3(server, creds)
    for i in range(6):
        s3.put_object(Bucket=bucket, Key=f"n/{i}", Body=b"x")
    import requests

    for url in api_urls(server):
        def fetch(url=url):
            r = requests.get(
                f"{url}{audit_path(server)}", params={"credential_id": cid, "kind": "s3"},
                headers=server.headers(), timeout=30,
            )
            assert r.status_code == 200, r.text
            return r.json()["result"]

        events = wait_for(fetch, 6)
        assert sorted(e["key"] for e in events) == [f"n/{i}" for i in range(6)], (url, events)
        assert {e["requestId"] for e in events}.__len__() == 6


def test_filters_paging_and_bad_filters(server, api, cf, bucket):
    creds = mint(cf, server, bucket)
    cid = credential_id(creds.session_token)
    s3 = temp_s3(server, creds)
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"p/{i}", Body=b"x")
    path = audit_path(server)
    events = wait_for(
        lambda: api.get(path, params={"credential_id": cid, "kind": "s3"}).json()["result"], 5)
    assert len(events) == 5

    # Pages of 2, cursor to cursor: every event exactly once, then no cursor.
    seen, cursor = [], None
    for _ in range(10):
        params = {"credential_id": cid, "kind": "s3", "per_page": 2}
        if cursor:
            params["cursor"] = cursor
        body = api.get(path, params=params).json()
        seen += body["result"]
        cursor = body["result_info"].get("cursor")
        if not cursor:
            break
    assert [e["requestId"] for e in seen] == [e["requestId"] for e in events]

    assert api.get(path, params={"bucket": bucket, "kind": "credential.mint"}).json()["result"]
    assert api.get(path, params={"credential_id": cid, "since": "2999-01-01T00:00:00Z"}).json()["result"] == []
    assert api.get(path, params={"credential_id": cid, "until": "2000-01-01T00:00:00Z"}).json()["result"] == []
    assert api.get(path, params={"credential_id": cid, "parent": "0" * 32}).json()["result"] == []

    for name, value in [("since", "yesterday"), ("until", "2026-13-01T00:00:00Z"),
                        ("kind", "s4"), ("credential_id", "XYZ"), ("per_page", "0"),
                        ("per_page", "1001"), ("cursor", "nope"), ("bucket", "Bad_Name")]:
        r = api.get(path, params={name: value})
        assert r.status_code == 400, (name, value, r.text)
        errors = r.json()["errors"]
        assert errors[0]["source"]["pointer"] == f"/{name}", (name, errors)


def test_token_and_bucket_changes_are_recorded(server, api, bucket):
    token = create_token(api, server.account_id, "object-read-only", name="audited")
    revoke_token(api, server.account_id, token["id"])
    path = audit_path(server)

    def fetch():
        return api.get(path, params={"parent": token["id"]}).json()["result"]

    events = wait_for(fetch, 2)
    assert [e["kind"] for e in events] == ["token.delete", "token.create"], events
    assert all(e["caller"] == server.token_id for e in events)
    assert events[1]["detail"]["permission"] == "object-read-only"
    assert events[1]["detail"]["name"] == "audited"
    assert token["value"] not in json.dumps(events)

    r = api.request("PUT", f"/accounts/{server.account_id}/r2/buckets/{bucket}/cors",
                    json={"rules": [{"allowed": {"origins": ["https://a.example"], "methods": ["GET"]}}]})
    assert r.status_code == 200, r.text
    bucket_events = wait_for(
        lambda: api.get(path, params={"bucket": bucket, "kind": "bucket.cors"}).json()["result"], 1)
    assert [(e["kind"], e["operation"]) for e in bucket_events] == [("bucket.cors", "put")]
    created = api.get(path, params={"bucket": bucket, "kind": "bucket.create"}).json()["result"]
    assert len(created) == 1 and created[0]["caller"] == server.token_id


def test_only_account_wide_admins_read_the_audit(server, api):
    path = audit_path(server)
    reader = create_token(api, server.account_id, "admin-read-only", name="auditor")
    assert api.get(path, token=reader["value"]).status_code == 200
    writer = create_token(api, server.account_id, "object-read-write", name="app")
    r = api.get(path, token=writer["value"])
    assert r.status_code == 403, r.text
    assert api.get(path, token=None).status_code in (400, 401)


def test_mayfly_audit_json_prints_one_event_per_line(server, cf, bucket):
    creds = mint(cf, server, bucket)
    cid = credential_id(creds.session_token)
    s3 = temp_s3(server, creds)
    s3.put_object(Bucket=bucket, Key="cli/a b.txt", Body=b"hello")
    env = {"CLOUDFLARE_BASE_URL": server.api_url, "CLOUDFLARE_API_TOKEN": server.api_token,
           "CLOUDFLARE_ACCOUNT_ID": server.account_id}

    def fetch():
        out = run_mayfly("audit", "--json", "--credential", cid, env=env, check=True).stdout
        return [json.loads(line) for line in out.splitlines()]

    lines = wait_for(fetch, 2)
    assert [e["kind"] for e in lines] == ["s3", "credential.mint"], lines
    s3_ev = lines[0]
    for field in ("time", "kind", "credential_id", "bucket", "key", "operation", "status"):
        assert field in s3_ev, field
    assert (s3_ev["credential_id"], s3_ev["bucket"], s3_ev["key"], s3_ev["operation"],
            s3_ev["status"], s3_ev["bytes"]) == (cid, bucket, "cli/a b.txt", "PutObject", 200, 5)

    table = run_mayfly("audit", "--credential", cid, "--kind", "s3", env=env, check=True).stdout
    rows = table.splitlines()
    assert rows[0].split()[:3] == ["TIME", "KIND", "CREDENTIAL"], table
    assert len(rows) == 2 and cid in rows[1] and "PutObject" in rows[1], table

    bad = run_mayfly("audit", "--since", "yesterday", env=env)
    assert bad.returncode == 1 and "--since" in bad.stderr
    helptext = run_mayfly("audit", "--help", check=True).stdout
    assert "Mayfly extension" in helptext


def test_revoking_a_credential_is_recorded_and_its_later_requests_too(server, cf, bucket):
    creds = mint(cf, server, bucket, prefixes=["revoked/"])
    cid = credential_id(creds.session_token)
    revoked = cf.post(
        f"/mayfly/accounts/{server.account_id}/r2/temp-access-credentials/revocations",
        cast_to=object, body={"sessionToken": creds.session_token},
    )
    assert revoked["success"] is True and revoked["result"]["credentialId"] == cid, revoked
    s3 = temp_s3(server, creds)
    with pytest.raises(botocore.exceptions.ClientError) as denied:
        s3.put_object(Bucket=bucket, Key="revoked/a.bin", Body=BODY)
    assert denied.value.response["Error"]["Code"] == "AccessDenied"

    def fetch():
        return sdk_audit(cf, server, credential_id=cid)["result"]

    events = wait_for(fetch, 3)
    assert [e["kind"] for e in events] == ["s3", "credential.revoke", "credential.mint"], events
    refused, revoke, _ = events
    assert (refused["operation"], refused["key"], refused["status"]) == (
        "PutObject", "revoked/a.bin", 403)
    assert revoke["caller"] == server.token_id
    assert (revoke["parentAccessKeyId"], revoke["bucket"]) == (server.access_key_id, bucket)
    assert creds.session_token not in json.dumps(events)
