"""Denials that explain themselves (a Mayfly extension): the `<Message>` of an S3 AccessDenied
caused by a temporary credential's scope, as boto3 sees it, and `mayfly creds check` giving the
same text offline. Credentials are minted with the official `cloudflare` SDK.

Needs the binary built: `cargo build -p mayfly` (scripts/test builds everything first).
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import run_mayfly, unique_bucket_name
from helpers import create_token


def s3(server, creds):
    return boto3.client(
        "s3", endpoint_url=server.s3_url, region_name="auto",
        aws_access_key_id=creds.access_key_id, aws_secret_access_key=creds.secret_access_key,
        aws_session_token=creds.session_token, config=Config(retries={"max_attempts": 1}),
    )


def mint(cf, server, bucket, permission, parent=None, **extra):
    return cf.r2.temporary_credentials.create(
        account_id=server.account_id, bucket=bucket,
        parent_access_key_id=parent or server.access_key_id,
        permission=permission, ttl_seconds=900, **extra,
    )


def denial(call) -> str:
    """Runs a boto3 call that must be refused; returns the `<Message>`."""
    with pytest.raises(ClientError) as refused:
        call()
    err = refused.value.response
    assert err["Error"]["Code"] == "AccessDenied", err
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 403
    return err["Error"]["Message"]


def check(server, creds, *args: str, secret: str | None = None):
    """`mayfly creds check` with the credential's token in AWS_SESSION_TOKEN."""
    env = {"AWS_SESSION_TOKEN": creds.session_token}
    if secret is not None:
        env["MAYFLY_PARENT_SECRET"] = secret
    return run_mayfly("creds", "check", *args, env=env)


def test_write_with_a_read_only_credential_names_the_permission(server, cf, bucket):
    creds = mint(cf, server, bucket, "object-read-only")
    msg = denial(lambda: s3(server, creds).put_object(Bucket=bucket, Key="a.png", Body=b"x"))
    assert msg == "object-read-only does not allow PutObject"

    # Offline, with the parent secret: the same decision and the same words.
    done = check(server, creds, "PutObject", "a.png", secret=server.secret_access_key)
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines()[0] == f"denied: {msg}"
    assert "signature and lifetime verified" in done.stdout
    assert "assumed to allow everything" in done.stdout


def test_key_outside_the_prefixes_names_them(server, cf, bucket):
    creds = mint(cf, server, bucket, "object-read-write",
                 prefixes=["photos/uploads/"], objects=["index.html"])
    client = s3(server, creds)
    client.put_object(Bucket=bucket, Key="photos/uploads/a.png", Body=b"inside")
    msg = denial(lambda: client.put_object(Bucket=bucket, Key="docs/a.pdf", Body=b"x"))
    assert msg == ('the key is outside the credential\'s prefixes ["photos/uploads/"] '
                   'and objects ["index.html"]')
    # An existing and a missing out-of-scope key get the same text: no key is echoed.
    admin = boto3.client(
        "s3", endpoint_url=server.s3_url, region_name="auto",
        aws_access_key_id=server.access_key_id, aws_secret_access_key=server.secret_access_key,
    )
    admin.put_object(Bucket=bucket, Key="docs/exists.pdf", Body=b"out of scope")
    assert denial(lambda: client.get_object(Bucket=bucket, Key="docs/exists.pdf")) == msg
    assert denial(lambda: client.get_object(Bucket=bucket, Key="docs/missing.pdf")) == msg
    listing = denial(lambda: client.list_objects_v2(Bucket=bucket, Prefix="docs/"))
    assert listing == ('the listing prefix is outside the credential\'s prefixes '
                       '["photos/uploads/"] and objects ["index.html"]')

    done = check(server, creds, "--json", "PutObject", f"s3://{bucket}/docs/a.pdf")
    assert done.returncode == 1, done.stderr
    out = json.loads(done.stdout)
    assert out["allowed"] is False
    assert out["code"] == "AccessDenied" and out["rule"] == "paths"
    assert out["message"] == msg
    assert out["verified"] is False
    allowed = check(server, creds, "PutObject", "photos/uploads/b.png", "--bucket", bucket)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert allowed.stdout.splitlines()[0] == "allowed"


def test_action_not_in_actions_names_the_list(server, cf, bucket):
    creds = mint(cf, server, bucket, "object-read-write",
                 extra_body={"actions": ["GetObject", "PutObject"]})
    client = s3(server, creds)
    client.put_object(Bucket=bucket, Key="k.txt", Body=b"x")
    msg = denial(lambda: client.delete_object(Bucket=bucket, Key="k.txt"))
    assert msg == 'the credential\'s actions ["GetObject", "PutObject"] do not include DeleteObject'


def test_other_bucket_names_only_the_credentials_own_and_reveals_no_existence(server, cf, bucket, api):
    creds = mint(cf, server, bucket, "object-read-write")
    client = s3(server, creds)
    existing = unique_bucket_name("other")
    r = api.post(f"/accounts/{server.account_id}/r2/buckets", json={"name": existing})
    assert r.status_code == 200, r.text
    missing = unique_bucket_name("never")
    messages = {}
    for other in (existing, missing):
        messages[other] = denial(lambda: client.get_object(Bucket=other, Key="a.txt"))
        assert other not in messages[other]
    assert messages[existing] == messages[missing] == f"the credential is for bucket {bucket}"


def test_parent_downgraded_after_mint(server, cf, bucket):
    done = run_mayfly("token", "create", "--permission", "object-read-write", "--bucket", bucket,
                      "--name", "to-downgrade", "--json", env={
                          "CLOUDFLARE_BASE_URL": server.api_url,
                          "CLOUDFLARE_API_TOKEN": server.api_token,
                          "CLOUDFLARE_ACCOUNT_ID": server.account_id,
                      })
    assert done.returncode == 0, done.stderr
    parent = json.loads(done.stdout)
    creds = mint(cf, server, bucket, "object-read-write", parent=parent["id"])
    client = s3(server, creds)
    client.put_object(Bucket=bucket, Key="before.txt", Body=b"x")

    done = run_mayfly("token", "update", parent["id"], "--permission", "object-read-only", env={
        "CLOUDFLARE_BASE_URL": server.api_url,
        "CLOUDFLARE_API_TOKEN": server.api_token,
        "CLOUDFLARE_ACCOUNT_ID": server.account_id,
    })
    assert done.returncode == 0, done.stderr
    msg = denial(lambda: client.put_object(Bucket=bucket, Key="after.txt", Body=b"x"))
    assert msg == (f"the parent token no longer allows PutObject on bucket {bucket} "
                   "(its rights were reduced after this credential was minted)")
    # Offline the parent's rights are unknown: the check allows it, and says what it assumed.
    offline = check(server, creds, "PutObject", "after.txt")
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert "parent token's current rights are unknown offline" in offline.stdout


def test_long_lived_token_denials_stay_generic(server, bucket, api):
    # Not a temporary credential: its rights are in the store, not in anything its holder
    # carries, so the answer stays R2's bare "Access Denied".
    token = create_token(api, server.account_id, "object-read-only", buckets=[bucket])
    client = boto3.client(
        "s3", endpoint_url=server.s3_url, region_name="auto",
        aws_access_key_id=token["access_key_id"], aws_secret_access_key=token["secret_access_key"],
        config=Config(retries={"max_attempts": 1}),
    )
    msg = denial(lambda: client.put_object(Bucket=bucket, Key="a.txt", Body=b"x"))
    assert msg == "Access Denied"
