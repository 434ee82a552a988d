"""Issue 12 with the official SDKs: the largest credential the API issues works with boto3
(header-signed and presigned) and one byte more is refused at mint with a pointer; a
bucket-limited token pages through the bucket list without a cursor naming another bucket."""

from __future__ import annotations

import boto3
import cloudflare
import httpx
import pytest
import requests
from botocore.config import Config
from cloudflare import Cloudflare

from conftest import schema_hook, unique_bucket_name
from helpers import create_token


def scope(total: int) -> list[str]:
    """Prefixes of `total` bytes in all, 900 bytes each at most."""
    out, i = [], 0
    while total > 0:
        n = min(total, 900)
        head = f"big{i}/"
        out.append(head + "p" * max(n - len(head), 1))
        total -= n
        i += 1
    return out


def mint(cf, server, bucket, prefixes):
    return cf.r2.temporary_credentials.create(
        account_id=server.account_id,
        bucket=bucket,
        parent_access_key_id=server.access_key_id,
        permission="object-read-write",
        ttl_seconds=900,
        prefixes=prefixes,
    )


def test_largest_issued_credential_works_with_boto3_and_one_byte_more_is_refused(server, cf, bucket):
    # Bisection over real mints: the largest scope accepted, and the first refused.
    fits, too_big = 900, 8000
    while too_big - fits > 1:
        mid = (fits + too_big) // 2
        try:
            mint(cf, server, bucket, scope(mid))
            fits = mid
        except cloudflare.BadRequestError:
            too_big = mid
    creds = mint(cf, server, bucket, scope(fits))
    assert 4092 <= len(creds.session_token) <= 4096

    with pytest.raises(cloudflare.BadRequestError) as refused:
        mint(cf, server, bucket, scope(fits + 1))
    error = refused.value.body["errors"][0]
    assert error["source"]["pointer"] == "/prefixes"
    assert error["message"] == "prefixes: the path scope makes the session token longer than 4096 bytes"

    s3 = boto3.client(
        "s3", endpoint_url=server.s3_url, region_name="auto",
        aws_access_key_id=creds.access_key_id, aws_secret_access_key=creds.secret_access_key,
        aws_session_token=creds.session_token, config=Config(retries={"max_attempts": 1}),
    )
    key = scope(fits)[0] + "-largest.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"largest credential")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"largest credential"
    # Presigned: the session token travels in the query string.
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    r = requests.get(url, timeout=30)
    assert r.status_code == 200, r.text
    assert r.content == b"largest credential"
    # The scope still binds: outside the prefixes is AccessDenied.
    with pytest.raises(s3.exceptions.ClientError) as denied:
        s3.put_object(Bucket=bucket, Key="elsewhere.txt", Body=b"x")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"


def test_bucket_limited_token_lists_only_its_bucket_and_no_cursor_names_another(server, api, bucket):
    others = [unique_bucket_name("zz"), unique_bucket_name("aa")]
    for name in others:
        r = api.post(f"/accounts/{server.account_id}/r2/buckets", json={"name": name})
        assert r.status_code == 200, r.text
    token = create_token(api, server.account_id, "object-read-only", buckets=[bucket])
    http = httpx.Client(event_hooks={"response": [schema_hook]})
    limited = Cloudflare(api_token=token["value"], base_url=server.api_url, http_client=http)
    try:
        for direction in ("desc", "asc"):
            shown, cursors, cursor = [], [], None
            for _ in range(50):
                extra = {"cursor": cursor} if cursor else {}
                resp = limited.r2.buckets.with_raw_response.list(
                    account_id=server.account_id, per_page=1, direction=direction, **extra
                )
                page, raw = resp.parse(), resp.http_response.json()
                shown += [b.name for b in page.buckets or []]
                assert raw["result_info"]["count"] == len(page.buckets or [])
                cursor = raw["result_info"].get("cursor")
                if not cursor:
                    break
                cursors.append(cursor)
            assert shown == [bucket], direction
            for c in cursors:
                assert not any(o in c for o in others), (direction, c)
    finally:
        limited.close()


def test_actions_through_the_api_with_the_sdks_extra_body(server, cf, bucket):
    """Issue 15 item 1 (a Mayfly extension): `actions` through `extra_body`, carried in the token
    as local signing carries it, and enforced by S3."""
    from jwt_util import decode_session_token

    admin_s3 = boto3.client(
        "s3", endpoint_url=server.s3_url, region_name="auto",
        aws_access_key_id=server.access_key_id, aws_secret_access_key=server.secret_access_key,
    )
    admin_s3.put_object(Bucket=bucket, Key="data/a.txt", Body=b"readable")
    creds = cf.r2.temporary_credentials.create(
        account_id=server.account_id, bucket=bucket, parent_access_key_id=server.access_key_id,
        permission="object-read-write", ttl_seconds=900, prefixes=["data/"],
        extra_body={"actions": ["GetObject", "HeadObject"]},
    )
    _, _, claims = decode_session_token(creds.session_token)
    assert claims["actions"] == ["GetObject", "HeadObject"]
    assert list(claims) == ["bucket", "scope", "actions", "paths", "sub", "iss", "aud", "iat", "exp"]
    s3 = boto3.client(
        "s3", endpoint_url=server.s3_url, region_name="auto",
        aws_access_key_id=creds.access_key_id, aws_secret_access_key=creds.secret_access_key,
        aws_session_token=creds.session_token, config=Config(retries={"max_attempts": 1}),
    )
    assert s3.get_object(Bucket=bucket, Key="data/a.txt")["Body"].read() == b"readable"
    s3.head_object(Bucket=bucket, Key="data/a.txt")
    # object-read-write, but PutObject and ListObjectsV2 are not among the actions.
    for call in (
        lambda: s3.put_object(Bucket=bucket, Key="data/b.txt", Body=b"x"),
        lambda: s3.list_objects_v2(Bucket=bucket, Prefix="data/"),
    ):
        with pytest.raises(s3.exceptions.ClientError) as denied:
            call()
        assert denied.value.response["Error"]["Code"] == "AccessDenied"

    with pytest.raises(cloudflare.BadRequestError) as refused:
        cf.r2.temporary_credentials.create(
            account_id=server.account_id, bucket=bucket, parent_access_key_id=server.access_key_id,
            permission="object-read-only", ttl_seconds=900,
            extra_body={"actions": ["GetObject", "ListBuckets"]},
        )
    error = refused.value.body["errors"][0]
    assert error["code"] == 10040
    assert error["source"]["pointer"] == "/actions/1"


def test_creds_mint_action_works_remotely(server, bucket):
    """`mayfly creds mint --action` against the API (issue 15 item 1): the same `actions` claim
    a local mint writes; an unknown name is refused before anything is sent."""
    import json

    from conftest import run_mayfly
    from jwt_util import decode_session_token

    env = {"CLOUDFLARE_BASE_URL": server.api_url, "CLOUDFLARE_API_TOKEN": server.api_token,
           "CLOUDFLARE_ACCOUNT_ID": server.account_id}
    out = run_mayfly("creds", "mint", "--format", "json", "--bucket", bucket, "--permission",
                     "object-read-write", "--parent-key-id", server.access_key_id,
                     "--action", "PutObject", "--action", "GetObject", env=env)
    assert out.returncode == 0, out.stderr
    _, _, claims = decode_session_token(json.loads(out.stdout)["sessionToken"])
    assert claims["actions"] == ["PutObject", "GetObject"]
    bad = run_mayfly("creds", "mint", "--bucket", bucket, "--permission", "object-read-only",
                     "--parent-key-id", server.access_key_id, "--action", "GetObjects", env=env)
    assert bad.returncode == 1
    assert 'unknown --action "GetObjects"' in bad.stderr
