"""The answer checks themselves: the `cf` fixture's hook really validates what the SDK receives
(schema and SDK models both ran for these calls), and each check rejects a body it must reject,
so a check that silently passes everything cannot hide behind green tests."""

from __future__ import annotations

import pytest

import schema


def seen(what: str) -> int:
    return schema.SEEN.get(what, 0)


def test_sdk_calls_are_checked_by_schema_and_sdk_models(server, cf, bucket):
    before = dict(schema.SEEN)
    creds = cf.r2.temporary_credentials.create(
        account_id=server.account_id, bucket=bucket, parent_access_key_id=server.access_key_id,
        permission="object-read-only", ttl_seconds=900,
    )
    assert creds.access_key_id and creds.secret_access_key and creds.session_token
    got = cf.r2.buckets.get(bucket, account_id=server.account_id)
    assert got.name == bucket
    listed = cf.r2.buckets.list(account_id=server.account_id, name_contains=bucket)
    assert [b.name for b in listed.buckets] == [bucket]
    for what in (
        "POST /accounts/{account_id}/r2/temp-access-credentials 200",
        "GET /accounts/{account_id}/r2/buckets/{bucket_name} 200",
        "GET /accounts/{account_id}/r2/buckets 200",
        "SDK model TemporaryCredentialCreateResponse",
        "SDK model Bucket",
        "SDK model BucketListResponse",
    ):
        assert seen(what) > before.get(what, 0), f"{what} was not checked"


ENVELOPE = {"success": True, "errors": [], "messages": []}
BUCKET_PATH = "/accounts/023e105f4ecef8ad9ca31a8372d0c353/r2/buckets/my-bucket"
CREDS_PATH = "/accounts/023e105f4ecef8ad9ca31a8372d0c353/r2/temp-access-credentials"


@pytest.mark.parametrize(
    ("method", "path", "status", "body", "why"),
    [
        ("GET", BUCKET_PATH, 200, {**ENVELOPE, "result": {"name": "my-bucket", "creation_date": "x", "location": "mars"}},
         "unknown location"),
        ("GET", BUCKET_PATH, 200, {**ENVELOPE, "success": False, "result": {"name": "my-bucket", "creation_date": "x"}},
         "2xx with success false"),
        ("POST", CREDS_PATH, 200, {**ENVELOPE, "result": {"accessKeyId": "a", "secretAccessKey": "s"}},
         "no session token"),
        ("POST", CREDS_PATH, 200, {**ENVELOPE, "result": {"accessKeyId": 1, "secretAccessKey": "s", "sessionToken": "t"}},
         "numeric key id"),
        ("POST", CREDS_PATH, 400, {"success": False, "errors": [{"code": 999, "message": "m"}], "messages": [], "result": None},
         "error code below 1000"),
        ("POST", CREDS_PATH, 400, {"success": False, "errors": [], "messages": [], "result": None},
         "error answer without an error"),
        ("POST", CREDS_PATH, 500, {"success": False, "errors": [{"code": 10001, "message": "m"}], "messages": [], "result": None},
         "a 5xx"),
    ],
)
def test_schema_rejects(method, path, status, body, why):
    with pytest.raises(AssertionError):
        schema.check_response(method, path, status, body)


def test_sdk_models_reject_what_the_sdk_cannot_parse():
    # Valid JSON Schema-wise for the generic envelope, but the SDK's Bucket model refuses it.
    with pytest.raises(AssertionError, match="Bucket"):
        schema.check_sdk_models("GET", BUCKET_PATH, 200, {**ENVELOPE, "result": {"name": "my-bucket", "jurisdiction": "moon"}})
    with pytest.raises(AssertionError, match="ResponseInfo"):
        schema.check_sdk_models("POST", CREDS_PATH, 400, {"success": False, "errors": [{"code": "10000", "message": "m"}],
                                                          "messages": [], "result": None})
    # And accepts what it can.
    schema.check_sdk_models("GET", BUCKET_PATH, 200, {**ENVELOPE, "result": {"name": "my-bucket", "location": "enam"}})
