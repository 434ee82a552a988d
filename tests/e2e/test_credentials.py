"""POST /accounts/{account_id}/r2/temp-access-credentials with the official Python SDK:
the seed's exact example, and the session token's format (SPEC §2)."""

from __future__ import annotations

import time
from urllib.parse import urlparse

from jwt_util import decode_session_token, temp_secret, verify_hs256


def test_seed_example_returns_spec_conformant_credentials(server, cf, bucket):
    # The seed document's example, with a real bucket and parent token.
    before = int(time.time())
    temporary_credential = cf.r2.temporary_credentials.create(
        account_id=server.account_id,
        bucket=bucket,
        parent_access_key_id=server.access_key_id,
        permission="object-read-write",
        ttl_seconds=3600,
    )
    after = int(time.time())
    assert temporary_credential.access_key_id == server.access_key_id

    jwt, header, claims = decode_session_token(temporary_credential.session_token)
    assert header == {"alg": "HS256", "typ": "JWT"}
    assert claims["bucket"] == bucket
    assert claims["scope"] == "object-read-write"
    assert claims["sub"] == server.account_id
    assert claims["iss"] == server.access_key_id
    assert claims["aud"] == urlparse(server.s3_url).netloc
    assert before - 1 <= claims["iat"] <= after + 1
    assert claims["exp"] - claims["iat"] == 3600
    # A whole-bucket credential carries neither `paths` nor `actions`.
    assert "paths" not in claims and "actions" not in claims

    assert verify_hs256(jwt, server.secret_access_key)
    assert temporary_credential.secret_access_key == temp_secret(jwt)
    assert len(temporary_credential.secret_access_key) == 64


def test_prefixes_and_objects_become_paths_claim(server, cf, bucket):
    creds = cf.r2.temporary_credentials.create(
        account_id=server.account_id,
        bucket=bucket,
        parent_access_key_id=server.access_key_id,
        permission="object-read-only",
        ttl_seconds=900,
        prefixes=["data/"],
        objects=["reports/q1.csv"],
    )
    jwt, _, claims = decode_session_token(creds.session_token)
    assert claims["scope"] == "object-read-only"
    assert claims["paths"] == {"prefixPaths": ["data/"], "objectPaths": ["reports/q1.csv"]}
    assert verify_hs256(jwt, server.secret_access_key)
    assert creds.secret_access_key == temp_secret(jwt)


def test_float_ttl_is_accepted_and_absent_ttl_means_900(server, api, bucket):
    path = f"/accounts/{server.account_id}/r2/temp-access-credentials"
    base = {"bucket": bucket, "parentAccessKeyId": server.access_key_id, "permission": "object-read-only"}
    r = api.post(path, json={**base, "ttlSeconds": 3600.0})
    assert r.status_code == 200, r.text
    _, _, claims = decode_session_token(r.json()["result"]["sessionToken"])
    assert claims["exp"] - claims["iat"] == 3600

    r = api.post(path, json=base)
    assert r.status_code == 200, r.text
    _, _, claims = decode_session_token(r.json()["result"]["sessionToken"])
    assert claims["exp"] - claims["iat"] == 900


def test_minting_twice_gives_independent_valid_credentials(server, cf, bucket):
    args = dict(account_id=server.account_id, bucket=bucket, parent_access_key_id=server.access_key_id,
                permission="object-read-only", ttl_seconds=60)
    a = cf.r2.temporary_credentials.create(**args)
    b = cf.r2.temporary_credentials.create(**args)
    for c in (a, b):
        jwt, _, _ = decode_session_token(c.session_token)
        assert verify_hs256(jwt, server.secret_access_key)
