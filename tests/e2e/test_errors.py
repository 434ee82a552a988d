"""Every error class surfaces through the official Python SDK as its own exception class,
with the documented v4 code in errors[0]."""

from __future__ import annotations

import httpx
import pytest
import cloudflare
from cloudflare import Cloudflare

from conftest import schema_hook, unique_bucket_name
from helpers import create_token


def sdk(server, token):
    return Cloudflare(api_token=token, base_url=server.api_url, max_retries=0,
                      http_client=httpx.Client(event_hooks={"response": [schema_hook]}))


def first_code(exc) -> int:
    return exc.body["errors"][0]["code"]


def test_400_invalid_bucket_name_is_bad_request(server, cf):
    with pytest.raises(cloudflare.BadRequestError) as e:
        cf.r2.buckets.create(account_id=server.account_id, name="Not_A_Valid_Name")
    assert e.value.status_code == 400
    assert first_code(e.value) == 10005


def test_400_ttl_out_of_range_is_bad_request_with_pointer(server, cf, bucket):
    with pytest.raises(cloudflare.BadRequestError) as e:
        cf.r2.temporary_credentials.create(
            account_id=server.account_id, bucket=bucket, parent_access_key_id=server.access_key_id,
            permission="object-read-write", ttl_seconds=604801,
        )
    assert first_code(e.value) == 10040
    assert e.value.body["errors"][0]["source"]["pointer"] == "/ttlSeconds"


def test_401_unknown_token_is_authentication_error(server):
    client = sdk(server, "not-a-real-token-000000000000000000000000")
    with pytest.raises(cloudflare.AuthenticationError) as e:
        client.r2.buckets.list(account_id=server.account_id)
    assert e.value.status_code == 401
    assert first_code(e.value) == 9109


def test_403_object_token_cannot_create_buckets(server, api):
    tok = create_token(api, server.account_id, "object-read-only")
    with pytest.raises(cloudflare.PermissionDeniedError) as e:
        sdk(server, tok["value"]).r2.buckets.create(account_id=server.account_id, name=unique_bucket_name())
    assert e.value.status_code == 403
    assert first_code(e.value) == 10000


def test_403_credentials_cannot_exceed_parent_permission(server, api, bucket):
    tok = create_token(api, server.account_id, "object-read-only", buckets=[bucket])
    with pytest.raises(cloudflare.PermissionDeniedError) as e:
        sdk(server, tok["value"]).r2.temporary_credentials.create(
            account_id=server.account_id, bucket=bucket, parent_access_key_id=tok["id"],
            permission="object-read-write", ttl_seconds=60,
        )
    assert e.value.status_code == 403


def test_404_missing_bucket_is_not_found_10006(server, cf):
    with pytest.raises(cloudflare.NotFoundError) as e:
        cf.r2.temporary_credentials.create(
            account_id=server.account_id, bucket=unique_bucket_name("gone"),
            parent_access_key_id=server.access_key_id, permission="object-read-write", ttl_seconds=60,
        )
    assert first_code(e.value) == 10006
    assert e.value.body["errors"][0]["message"] == "The specified bucket does not exist."


def test_409_existing_bucket_is_conflict_10004(server, bucket):
    client = sdk(server, server.api_token)
    with pytest.raises(cloudflare.ConflictError) as e:
        client.r2.buckets.create(account_id=server.account_id, name=bucket)
    assert first_code(e.value) == 10004
