"""`mayfly token update`: the CLI's output, then the API state as the official `cloudflare` SDK
sees it, then what S3 lets the token (and credentials minted from it) do afterwards.

Needs the binary built: `cargo build -p mayfly` (scripts/test builds everything first).
"""

from __future__ import annotations

import json

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import run_mayfly

# Cloudflare's permission-group ids of the four R2 permissions.
GROUP = {
    "admin-read-write": "bf7481a1826f439697cb59a20b22293e",
    "admin-read-only": "b4992e1108244f5d8bfbd5744320c2e1",
    "object-read-write": "2efd5506f9c8494dacb1fa10a3e7d5b6",
    "object-read-only": "6a018a9f2fc74eb6b293b0c548f38b39",
}


def cli_env(server) -> dict:
    return {
        "CLOUDFLARE_BASE_URL": server.api_url,
        "CLOUDFLARE_API_TOKEN": server.api_token,
        "CLOUDFLARE_ACCOUNT_ID": server.account_id,
    }


def mayfly(server, *args: str):
    return run_mayfly(*args, env=cli_env(server))


def create_token(server, bucket: str, permission: str = "object-read-write") -> dict:
    done = mayfly(server, "token", "create", "--permission", permission, "--bucket", bucket,
                  "--name", "update-me", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def s3(server, akid: str, secret: str, session_token: str | None = None):
    return boto3.client(
        "s3", endpoint_url=server.s3_url, region_name="auto",
        aws_access_key_id=akid, aws_secret_access_key=secret, aws_session_token=session_token,
        config=Config(retries={"max_attempts": 1}),
    )


def sdk_token(cf, server, token_id: str):
    """The token as the official SDK reads it (the `cf` fixture schema-checks the body)."""
    return cf.accounts.tokens.get(token_id, account_id=server.account_id)


def granted(tok) -> tuple[str, list[str]]:
    """(permission-group id, resource keys) of the token's single policy."""
    assert len(tok.policies) == 1
    policy = tok.policies[0]
    assert policy.effect == "allow"
    return policy.permission_groups[0].id, sorted(policy.resources)


def bucket_resource(server, bucket: str) -> str:
    return f"com.cloudflare.edge.r2.bucket.{server.account_id}_default_{bucket}"


def test_downgrade_to_object_read_only_stops_writes_of_the_token_and_its_credentials(server, cf, bucket):
    created = create_token(server, bucket)
    token_id = created["id"]
    minted = cf.r2.temporary_credentials.create(
        account_id=server.account_id, bucket=bucket, parent_access_key_id=token_id,
        permission="object-read-write", ttl_seconds=600,
    )
    temp = s3(server, minted.access_key_id, minted.secret_access_key, minted.session_token)
    own = s3(server, created["access_key_id"], created["secret_access_key"])
    temp.put_object(Bucket=bucket, Key="before.txt", Body=b"written while read-write")
    own.put_object(Bucket=bucket, Key="own.txt", Body=b"by the token's own key pair")

    done = mayfly(server, "token", "update", token_id, "--permission", "object-read-only",
                  "--name", "now-a-reader", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["id"] == token_id
    assert out["name"] == "now-a-reader"
    assert out["status"] == "active"
    assert out["permission"] == "object-read-only"
    assert out["buckets"] == [bucket], "an object-level token keeps its buckets"

    tok = sdk_token(cf, server, token_id)
    assert tok.id == token_id and tok.name == "now-a-reader" and tok.status == "active"
    assert granted(tok) == (GROUP["object-read-only"], [bucket_resource(server, bucket)])

    # Writes are refused now, through the token's own keys and the credential minted before.
    for client, key in ((temp, "after-temp.txt"), (own, "after-own.txt")):
        with pytest.raises(ClientError) as denied:
            client.put_object(Bucket=bucket, Key=key, Body=b"x")
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
        assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # Reads still work.
    assert temp.get_object(Bucket=bucket, Key="before.txt")["Body"].read() == b"written while read-write"
    keys = [o["Key"] for o in own.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["before.txt", "own.txt"]


def test_disable_then_enable(server, cf, bucket):
    created = create_token(server, bucket, "object-read-only")
    token_id, value = created["id"], created["value"]
    verify = f"{server.api_url}/user/tokens/verify"
    assert requests.get(verify, headers=server.headers(value), timeout=10).status_code == 200

    done = mayfly(server, "token", "update", token_id, "--disable")
    assert done.returncode == 0, done.stderr
    assert f"updated {token_id}" in done.stdout
    assert "status:      disabled" in done.stdout
    assert "permission:  object-read-only" in done.stdout
    assert f"buckets:     {bucket}" in done.stdout
    tok = sdk_token(cf, server, token_id)
    assert tok.status == "disabled"
    assert granted(tok) == (GROUP["object-read-only"], [bucket_resource(server, bucket)])
    # The disabled bearer is refused by the API, and its key pair by S3.
    r = requests.get(verify, headers=server.headers(value), timeout=10)
    assert r.status_code == 401, r.text
    assert r.json()["success"] is False
    with pytest.raises(ClientError) as refused:
        s3(server, created["access_key_id"], created["secret_access_key"]).list_objects_v2(Bucket=bucket)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    listed = mayfly(server, "token", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    row = next(t for t in json.loads(listed.stdout) if t["id"] == token_id)
    assert row["status"] == "disabled"

    done = mayfly(server, "token", "update", token_id, "--enable")
    assert done.returncode == 0, done.stderr
    assert "status:      active" in done.stdout
    assert sdk_token(cf, server, token_id).status == "active"
    assert requests.get(verify, headers=server.headers(value), timeout=10).status_code == 200
    s3(server, created["access_key_id"], created["secret_access_key"]).list_objects_v2(Bucket=bucket)


def test_expiry_is_kept_unless_changed_and_all_buckets_lifts_the_limit(server, cf, bucket):
    token_id = create_token(server, bucket)["id"]
    done = mayfly(server, "token", "update", token_id, "--expires-on", "2099-01-01T00:00:00Z", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["expires_on"] == "2099-01-01T00:00:00Z"
    # Another change without --expires-on keeps the expiry (the CLI sends it back).
    done = mayfly(server, "token", "update", token_id, "--name", "renamed", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["expires_on"] == "2099-01-01T00:00:00Z"
    tok = sdk_token(cf, server, token_id)
    assert tok.name == "renamed"
    assert tok.expires_on is not None and tok.expires_on.year == 2099
    done = mayfly(server, "token", "update", token_id, "--no-expiry", "--all-buckets", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["expires_on"] is None and out["buckets"] is None
    tok = sdk_token(cf, server, token_id)
    assert tok.expires_on is None
    assert granted(tok) == (GROUP["object-read-write"],
                            [f"com.cloudflare.api.account.{server.account_id}"])


@pytest.mark.parametrize(("args", "message"), [
    (["--permission", "root"],
     "invalid value 'root' for '--permission <PERMISSION>': expected admin-read-write, "
     "admin-read-only, object-read-write or object-read-only"),
    (["--disable", "--enable"], "the argument '--disable' cannot be used with '--enable'"),
    (["--permission", "admin-read-write", "--bucket", "photos"],
     "--bucket only applies to object-level permissions"),
    (["--expires-on", "next tuesday"], "expected an RFC 3339 timestamp"),
    (["--bucket", "No_Such"], "invalid value 'No_Such' for '--bucket <BUCKET>'"),
])
def test_bad_input_exits_2_with_a_clear_message_and_changes_nothing(server, cf, bucket, args, message):
    token_id = create_token(server, bucket)["id"]
    before = sdk_token(cf, server, token_id).model_dump()
    done = mayfly(server, "token", "update", token_id, *args)
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == ""
    assert message in done.stderr, done.stderr
    assert sdk_token(cf, server, token_id).model_dump() == before


def test_server_side_refusal_exits_1_with_the_apis_message(server, cf, bucket):
    token_id = create_token(server, bucket)["id"]
    before = sdk_token(cf, server, token_id).model_dump()
    # Well-formed but in the past: the server refuses it, pointing at the field.
    done = mayfly(server, "token", "update", token_id, "--expires-on", "2001-01-01T00:00:00Z")
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "expires_on" in done.stderr and "future" in done.stderr, done.stderr
    # An unknown token is reported, not created.
    done = mayfly(server, "token", "update", "0" * 32, "--disable")
    assert done.returncode == 1
    assert "cannot read token" in done.stderr, done.stderr
    assert sdk_token(cf, server, token_id).model_dump() == before
