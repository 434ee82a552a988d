"""The README walkthrough, as a test: mint credentials with the official Python SDK, then use
them with boto3 against Mayfly's S3 endpoint."""

from __future__ import annotations

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from helpers import create_token, revoke_token


def s3_client(server, access_key_id, secret_access_key, session_token=None):
    return boto3.client(
        "s3",
        endpoint_url=server.s3_url,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        aws_session_token=session_token,
        region_name="auto",
        config=Config(retries={"max_attempts": 1}),
    )


def error_code(exc: botocore.exceptions.ClientError) -> str:
    return exc.response["Error"]["Code"]


def test_readme_walkthrough_put_and_get_with_minted_credentials(server, cf, bucket):
    # --- the README's code, verbatim apart from the fixture names ---
    creds = cf.r2.temporary_credentials.create(
        account_id=server.account_id,
        bucket=bucket,
        parent_access_key_id=server.access_key_id,
        permission="object-read-write",
        ttl_seconds=900,
    )
    s3 = boto3.client(
        "s3",
        endpoint_url=server.s3_url,
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        aws_session_token=creds.session_token,
        region_name="auto",
    )
    s3.put_object(Bucket=bucket, Key="hello.txt", Body=b"hello from mayfly")
    body = s3.get_object(Bucket=bucket, Key="hello.txt")["Body"].read()
    # --- end of README code ---
    assert body == b"hello from mayfly"


def test_parent_token_key_pair_works_directly(server, bucket):
    s3 = s3_client(server, server.access_key_id, server.secret_access_key)
    s3.put_object(Bucket=bucket, Key="direct.txt", Body=b"x")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["direct.txt"]


def test_prefix_scoped_read_only_credentials_are_enforced(server, cf, bucket):
    admin = s3_client(server, server.access_key_id, server.secret_access_key)
    admin.put_object(Bucket=bucket, Key="public/a.txt", Body=b"a")
    admin.put_object(Bucket=bucket, Key="private/b.txt", Body=b"b")
    creds = cf.r2.temporary_credentials.create(
        account_id=server.account_id, bucket=bucket, parent_access_key_id=server.access_key_id,
        permission="object-read-only", ttl_seconds=300, prefixes=["public/"],
    )
    s3 = s3_client(server, creds.access_key_id, creds.secret_access_key, creds.session_token)
    assert s3.get_object(Bucket=bucket, Key="public/a.txt")["Body"].read() == b"a"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=bucket, Key="private/b.txt")
    assert error_code(e.value) == "AccessDenied"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=bucket, Key="public/new.txt", Body=b"n")
    assert error_code(e.value) == "AccessDenied"


def test_revoking_the_parent_kills_minted_credentials_at_once(server, api, cf, bucket):
    tok = create_token(api, server.account_id, "object-read-write", buckets=[bucket])
    from cloudflare import Cloudflare

    as_parent = Cloudflare(api_token=tok["value"], base_url=server.api_url)
    creds = as_parent.r2.temporary_credentials.create(
        account_id=server.account_id, bucket=bucket, parent_access_key_id=tok["id"],
        permission="object-read-write", ttl_seconds=300,
    )
    s3 = s3_client(server, creds.access_key_id, creds.secret_access_key, creds.session_token)
    s3.put_object(Bucket=bucket, Key="k.txt", Body=b"v")
    revoke_token(api, server.account_id, tok["id"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k.txt")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] in (401, 403)
