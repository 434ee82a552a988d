"""Bad input to temp-access-credentials, sent raw: always a 4xx v4 envelope, never a 5xx,
with the offending field's pointer where SPEC §3 asks for one."""

from __future__ import annotations

import pytest

from conftest import unique_bucket_name
from helpers import create_token, revoke_token

TTL_CASES = [0, -1, 604801, 1.5, "3600", True, [3600], {"s": 1}, 1e309]


@pytest.mark.parametrize("ttl", TTL_CASES, ids=repr)
def test_bad_ttl_is_400_at_ttlSeconds(server, api, bucket, ttl):
    body = {"bucket": bucket, "parentAccessKeyId": server.access_key_id, "permission": "object-read-only", "ttlSeconds": ttl}
    if ttl == 1e309:
        data = ('{"bucket":"%s","parentAccessKeyId":"%s","permission":"object-read-only","ttlSeconds":1e309}'
                % (bucket, server.access_key_id))
        r = api.post(f"/accounts/{server.account_id}/r2/temp-access-credentials", data=data,
                     headers={"Content-Type": "application/json"})
    else:
        r = api.post(f"/accounts/{server.account_id}/r2/temp-access-credentials", json=body)
    assert r.status_code == 400, r.text
    if ttl != 1e309:  # an out-of-range literal is malformed JSON: 400 without a field pointer
        assert r.json()["errors"][0]["source"]["pointer"] == "/ttlSeconds"


BODY_CASES = {
    "unknown permission": ({"permission": "read-everything"}, 400, "/permission"),
    "permission wrong type": ({"permission": 7}, 400, "/permission"),
    "unknown field": ({"colour": "blue"}, 400, "/colour"),
    "missing bucket": ({"bucket": None}, 400, "/bucket"),
    "bad bucket name": ({"bucket": "UPPER"}, 400, "/bucket"),
    "missing parent": ({"parentAccessKeyId": None}, 400, "/parentAccessKeyId"),
    "unknown parent": ({"parentAccessKeyId": "0" * 32}, 400, "/parentAccessKeyId"),
    "objects not a list": ({"objects": "a"}, 400, "/objects"),
    "prefixes of numbers": ({"prefixes": [1]}, 400, None),
    "nonexistent bucket": ({"bucket": "no-such-bucket-e2e"}, 404, None),
}


@pytest.mark.parametrize("case", list(BODY_CASES), ids=str)
def test_bad_body_is_4xx_envelope(server, api, bucket, case):
    patch, status, pointer = BODY_CASES[case]
    body = {"bucket": bucket, "parentAccessKeyId": server.access_key_id, "permission": "object-read-only", "ttlSeconds": 60}
    for k, v in patch.items():
        if v is None:
            body.pop(k)
        else:
            body[k] = v
    r = api.post(f"/accounts/{server.account_id}/r2/temp-access-credentials", json=body)
    assert r.status_code == status, r.text
    if pointer:
        assert r.json()["errors"][0]["source"]["pointer"] == pointer


@pytest.mark.parametrize("raw", ["", "not json", "[]", "{", '{"bucket":"a","bucket":"b"}', "null"], ids=repr)
def test_malformed_json_is_400(server, api, raw):
    r = api.post(f"/accounts/{server.account_id}/r2/temp-access-credentials", data=raw,
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text


def test_revoked_parent_is_refused(server, api, bucket):
    tok = create_token(api, server.account_id, "object-read-write", buckets=[bucket])
    revoke_token(api, server.account_id, tok["id"])
    body = {"bucket": bucket, "parentAccessKeyId": tok["id"], "permission": "object-read-only", "ttlSeconds": 60}
    r = api.post(f"/accounts/{server.account_id}/r2/temp-access-credentials", json=body)
    assert 400 <= r.status_code < 500, r.text
    # The revoked token itself can no longer call the API either.
    r = api.post(f"/accounts/{server.account_id}/r2/temp-access-credentials", json=body, token=tok["value"])
    assert r.status_code == 401, r.text


def test_parent_limited_to_other_bucket_is_forbidden(server, api, bucket):
    other = unique_bucket_name("other")
    assert api.post(f"/accounts/{server.account_id}/r2/buckets", json={"name": other}).status_code == 200
    tok = create_token(api, server.account_id, "object-read-write", buckets=[other])
    body = {"bucket": bucket, "parentAccessKeyId": tok["id"], "permission": "object-read-only", "ttlSeconds": 60}
    r = api.post(f"/accounts/{server.account_id}/r2/temp-access-credentials", json=body)
    assert r.status_code == 403, r.text


def test_missing_or_foreign_auth_is_4xx(server, api, bucket):
    path = f"/accounts/{server.account_id}/r2/buckets"
    assert api.get(path, token=None).status_code == 401
    assert api.get(path, token=None, headers={"Authorization": "Basic abc"}).status_code == 400
    r = api.get(path, token=None, headers={"X-Auth-Email": "a@example.com", "X-Auth-Key": "k"})
    assert r.status_code == 401
    other_account = "f" * 32
    assert api.get(f"/accounts/{other_account}/r2/buckets").status_code == 403


def test_unknown_route_is_404_envelope(server, api):
    assert api.get("/accounts/%s/r2/nothing-here" % server.account_id).status_code == 404
