"""Revoking one temporary credential (issue 15, a Mayfly extension), through the official
`cloudflare` SDK's raw `post`/`get` on the extension's path, and refused as boto3 sees it:
header-signed requests and a URL presigned before the revocation, single node and cluster
(`MAYFLY_E2E_CLUSTER=1`: the revocation lands on one node, the requests on either). The
unsigned-payload and both aws-chunked modes are covered on every auth path by the attack suite's
class `19 revoked`.

Needs the binary built: `cargo build -p mayfly` (scripts/test builds everything first).
"""

from __future__ import annotations

import time

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REVOKED = "this credential was revoked"


def s3(server, creds):
    return boto3.client(
        "s3", endpoint_url=server.s3_url, region_name="auto",
        aws_access_key_id=creds.access_key_id, aws_secret_access_key=creds.secret_access_key,
        aws_session_token=creds.session_token, config=Config(retries={"max_attempts": 1}),
    )


def admin_s3(server):
    return boto3.client(
        "s3", endpoint_url=server.s3_url, region_name="auto",
        aws_access_key_id=server.access_key_id, aws_secret_access_key=server.secret_access_key,
        config=Config(retries={"max_attempts": 1}),
    )


def mint(cf, server, bucket, ttl):
    return cf.r2.temporary_credentials.create(
        account_id=server.account_id, bucket=bucket, parent_access_key_id=server.access_key_id,
        permission="object-read-write", ttl_seconds=ttl,
    )


def path(server):
    return f"/mayfly/accounts/{server.account_id}/r2/temp-access-credentials/revocations"


def refused_within_a_second(call) -> float:
    """Polls `call` until it is refused as revoked; returns the seconds that took."""
    start = time.monotonic()
    while True:
        try:
            call()
        except ClientError as e:
            err = e.response
            assert err["ResponseMetadata"]["HTTPStatusCode"] == 403, err
            assert err["Error"]["Code"] == "AccessDenied", err
            assert err["Error"]["Message"] == REVOKED, err
            return time.monotonic() - start
        assert time.monotonic() - start < 1.0, "a revoked credential still works after 1 s"
        time.sleep(0.02)


def test_a_revoked_credential_is_refused_everywhere_and_its_sibling_is_not(server, cf, bucket):
    admin_s3(server).put_object(Bucket=bucket, Key="doc", Body=b"doc")
    # Distinct lifetimes: identical claims minted in one second are one credential.
    victim, sibling = mint(cf, server, bucket, 900), mint(cf, server, bucket, 901)
    # The mint answer's extension member survives the SDK's model.
    victim_id = victim.to_dict()["credentialId"]
    assert len(victim_id) == 32 and victim_id != sibling.to_dict()["credentialId"]

    early_url = s3(server, victim).generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "doc"}, ExpiresIn=600)
    assert httpx.get(early_url).status_code == 200
    assert s3(server, victim).get_object(Bucket=bucket, Key="doc")["Body"].read() == b"doc"

    entry = cf.post(path(server), body={"sessionToken": victim.session_token}, cast_to=object)
    assert entry["result"]["credentialId"] == victim_id
    assert entry["result"]["bucket"] == bucket
    assert entry["result"]["parentAccessKeyId"] == server.access_key_id

    took = refused_within_a_second(lambda: s3(server, victim).get_object(Bucket=bucket, Key="doc"))
    refused_within_a_second(
        lambda: s3(server, victim).put_object(Bucket=bucket, Key="after", Body=b"x"))
    refused_within_a_second(lambda: s3(server, victim).delete_object(Bucket=bucket, Key="doc"))
    # The URL presigned before the revocation (either node answers, after at most 1 s).
    time.sleep(max(0.0, 1.0 - took))
    for _ in range(4):
        r = httpx.get(early_url)
        assert r.status_code == 403, r.text
        assert f"<Message>{REVOKED}</Message>" in r.text
    # Nothing was written, and the sibling still works for reads and writes.
    with pytest.raises(ClientError):
        admin_s3(server).head_object(Bucket=bucket, Key="after")
    sib = s3(server, sibling)
    assert sib.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"doc"
    sib.put_object(Bucket=bucket, Key="sibling", Body=b"s")

    # Revoking again (by id now) is not an error and answers the first entry.
    again = cf.post(path(server), body={"credentialId": victim_id}, cast_to=object)
    assert again["result"] == entry["result"]
    listed = cf.get(path(server), cast_to=object)
    assert victim_id in [e["credentialId"] for e in listed["result"]]


def test_bad_revocations_are_400_at_their_pointer(server, cf):
    import cloudflare

    for body, pointer in [
        ({}, "/credentialId"),
        ({"credentialId": "nope"}, "/credentialId"),
        ({"sessionToken": "bm9wZQ=="}, "/sessionToken"),
        ({"credentialId": "0" * 32, "sessionToken": "x"}, "/sessionToken"),
    ]:
        with pytest.raises(cloudflare.BadRequestError) as bad:
            cf.post(path(server), body=body, cast_to=object)
        errors = bad.value.body["errors"]
        assert errors[0]["source"]["pointer"] == pointer, errors


def test_mayfly_creds_revoke_by_session_token_and_by_id(server, cf, bucket):
    import json

    from conftest import run_mayfly

    env = {"CLOUDFLARE_BASE_URL": server.api_url, "CLOUDFLARE_API_TOKEN": server.api_token,
           "CLOUDFLARE_ACCOUNT_ID": server.account_id}
    helped = run_mayfly("creds", "revoke", "--help")
    assert helped.returncode == 0 and "Mayfly extension" in helped.stdout
    by_token, by_id = mint(cf, server, bucket, 700), mint(cf, server, bucket, 701)

    done = run_mayfly("creds", "revoke", "--json", by_token.session_token, env=env)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["credential_id"] == by_token.to_dict()["credentialId"]
    assert shown["bucket"] == bucket
    assert by_token.session_token not in done.stdout + done.stderr

    wanted = by_id.to_dict()["credentialId"]
    done = run_mayfly("creds", "revoke", wanted, env=env)
    assert done.returncode == 0, done.stderr
    assert f"revoked:     {wanted}" in done.stdout
    refused_within_a_second(lambda: s3(server, by_id).list_objects_v2(Bucket=bucket))

    typo = run_mayfly("creds", "revoke", "not-a-credential", env=env)
    assert typo.returncode != 0 and "credential id" in typo.stderr
