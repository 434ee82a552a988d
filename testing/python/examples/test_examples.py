"""pytest-mayfly's example tests: what an app's test suite can check once its stub of
`temp-access-credentials` is replaced by a real Mayfly. Run them with the plugin installed:
`pytest testing/python/examples` (the fixtures come from the `pytest11` entry point)."""

from __future__ import annotations

import os

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import pytest_mayfly


def error_code(e: ClientError) -> tuple[int, str]:
    return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]


def test_prefix_scoped_credential_cannot_write_outside_its_prefix(mayfly_bucket, mint):
    # What an upload service hands a browser: write access to one user's folder only.
    creds = mint(mayfly_bucket, "object-read-write", prefixes=["uploads/alice/"], ttl=600)
    s3 = creds.boto3_client()

    s3.put_object(Bucket=mayfly_bucket, Key="uploads/alice/avatar.png", Body=b"alice")
    got = s3.get_object(Bucket=mayfly_bucket, Key="uploads/alice/avatar.png")
    assert got["Body"].read() == b"alice"

    for outside in ("uploads/bob/avatar.png", "uploads/alice", "index.html"):
        with pytest.raises(ClientError) as denied:
            s3.put_object(Bucket=mayfly_bucket, Key=outside, Body=b"mallory")
        assert error_code(denied.value) == (403, "AccessDenied"), outside


def test_read_only_credential_reads_but_cannot_write(mayfly_server, mayfly_bucket, mint):
    admin = mayfly_server.s3_credentials().boto3_client()
    admin.put_object(Bucket=mayfly_bucket, Key="reports/q1.csv", Body=b"a,b\n")

    reader = mint(mayfly_bucket, "object-read-only", objects=["reports/q1.csv"]).boto3_client()
    assert reader.get_object(Bucket=mayfly_bucket, Key="reports/q1.csv")["Body"].read() == b"a,b\n"
    with pytest.raises(ClientError) as denied:
        reader.put_object(Bucket=mayfly_bucket, Key="reports/q1.csv", Body=b"tampered")
    assert error_code(denied.value) == (403, "AccessDenied")
    with pytest.raises(ClientError) as other:
        reader.get_object(Bucket=mayfly_bucket, Key="reports/q2.csv")
    assert error_code(other.value) == (403, "AccessDenied")


def test_credentials_are_plain_boto3_keyword_arguments(mayfly_bucket, mint):
    creds = mint(mayfly_bucket, "object-read-write", prefixes=["tmp/"])
    assert set(creds) == {
        "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "endpoint_url", "region_name",
    }
    s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}), **creds)
    s3.put_object(Bucket=mayfly_bucket, Key="tmp/x", Body=b"x")
    listed = s3.list_objects_v2(Bucket=mayfly_bucket, Prefix="tmp/")
    assert [o["Key"] for o in listed["Contents"]] == ["tmp/x"]


def test_official_cloudflare_sdk_mints_what_the_app_would(mayfly_server, cloudflare_client, mayfly_bucket):
    # The app's own code path: the official SDK's temporary_credentials.create.
    minted = cloudflare_client.r2.temporary_credentials.create(
        account_id=mayfly_server.account_id,
        bucket=mayfly_bucket,
        parent_access_key_id=mayfly_server.access_key_id,
        permission="object-read-write",
        ttl_seconds=900,
        prefixes=["incoming/"],
    )
    s3 = boto3.client(
        "s3",
        endpoint_url=mayfly_server.s3_url,
        region_name="auto",
        aws_access_key_id=minted.access_key_id,
        aws_secret_access_key=minted.secret_access_key,
        aws_session_token=minted.session_token,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    s3.put_object(Bucket=mayfly_bucket, Key="incoming/1.json", Body=b"{}")
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket=mayfly_bucket, Key="outgoing/1.json", Body=b"{}")
    assert error_code(denied.value) == (403, "AccessDenied")


def test_fresh_account_is_a_clean_slate(mayfly_server, mayfly_bucket, mayfly_account):
    cf = mayfly_account.cloudflare()
    assert mayfly_account.account_id != mayfly_server.account_id
    assert list(cf.r2.buckets.list(account_id=mayfly_account.account_id).buckets or []) == []
    # Bucket names are per account: the server account's bucket name is free here.
    cf.r2.buckets.create(account_id=mayfly_account.account_id, name=mayfly_bucket)
    creds = mayfly_account.mint(mayfly_bucket, "object-read-write", prefixes=["a/"])
    creds.boto3_client().put_object(Bucket=mayfly_bucket, Key="a/1", Body=b"1")
    # ...and it is another bucket: the server account's copy stays empty.
    admin = mayfly_server.s3_credentials().boto3_client()
    assert admin.list_objects_v2(Bucket=mayfly_bucket).get("KeyCount") == 0
    cf.close()


def test_start_and_stop_outside_the_fixtures():
    with pytest_mayfly.start() as server:
        assert server.api_url.endswith("/client/v4")
        assert os.path.exists(f"/proc/{server.pid}") or os.name != "posix"
    assert server.process.returncode == 0
