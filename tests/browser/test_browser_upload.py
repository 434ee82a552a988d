"""Issue 13: a page in headless Chromium uploads straight to Mayfly's S3 endpoint with
temporary credentials minted through the official Cloudflare SDK, as on R2.

The page is served from http://127.0.0.1:<page port>, the S3 endpoint is
http://127.0.0.1:<s3 port>: two origins, so Chromium runs the real CORS protocol (preflights
included) against the bucket's rules, which the test sets through the SDK's
`r2.buckets.cors.update`. A second copy of the page on http://localhost:<page port> is an origin
no rule allows. The page's final state is saved to tests/browser/artifacts/ (listed at the end of
the pytest output).
"""

from __future__ import annotations

import uuid

import boto3
import httpx
import pytest
import requests
from botocore.config import Config
from cloudflare import Cloudflare

from conftest import e2e, screenshot

PART_SIZE = 5 * 1024 * 1024  # S3's smallest non-final part
TAIL_SIZE = 1234


def s3_client(server, creds):
    return boto3.client(
        "s3",
        endpoint_url=server.s3_url,
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        aws_session_token=creds.session_token,
        region_name="auto",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def world(server, page_port, chromium):
    """A bucket with CORS rules for the page's origin, temporary credentials for `uploads/`
    minted through the official SDK, and the page open in Chromium."""
    http = httpx.Client(event_hooks={"response": [e2e.schema_hook]})
    cf = Cloudflare(api_token=server.api_token, base_url=server.api_url, http_client=http)
    bucket = f"browser-{uuid.uuid4().hex[:16]}"
    cf.r2.buckets.create(account_id=server.account_id, name=bucket)
    origin = f"http://127.0.0.1:{page_port}"
    cf.r2.buckets.cors.update(
        bucket,
        account_id=server.account_id,
        rules=[
            {
                "id": "browser-uploads",
                "allowed": {
                    "origins": [origin],
                    "methods": ["GET", "PUT", "POST", "HEAD"],
                    "headers": ["authorization", "content-type", "x-amz-*"],
                },
                "exposeHeaders": ["ETag"],
                "maxAgeSeconds": 600,
            }
        ],
    )
    creds = cf.r2.temporary_credentials.create(
        account_id=server.account_id,
        bucket=bucket,
        parent_access_key_id=server.access_key_id,
        permission="object-read-write",
        ttl_seconds=900,
        prefixes=["uploads/"],
    )
    page = chromium.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.goto(f"{origin}/index.html")
    page.wait_for_function("typeof window.signedUploads === 'function'")
    page.evaluate("e => window.setEndpoint(e)", server.s3_url)
    world = {
        "cf": cf,
        "bucket": bucket,
        "origin": origin,
        "creds": creds,
        "page": page,
        "console": console,
        "page_creds": {
            "accessKeyId": creds.access_key_id,
            "secretAccessKey": creds.secret_access_key,
            "sessionToken": creds.session_token,
        },
    }
    yield world
    path = screenshot(page, "browser-upload-final")
    print(f"\nscreenshot of the page's final state: {path}")
    page.close()
    cf.close()


def test_cors_rules_set_through_the_sdk_read_back_through_both_apis(server, world):
    got = world["cf"].r2.buckets.cors.get(world["bucket"], account_id=server.account_id)
    assert len(got.rules) == 1
    rule = got.rules[0]
    assert rule.id == "browser-uploads"
    assert rule.allowed.origins == [world["origin"]]
    assert rule.allowed.methods == ["GET", "PUT", "POST", "HEAD"]
    assert rule.allowed.headers == ["authorization", "content-type", "x-amz-*"]
    assert rule.expose_headers == ["ETag"]
    assert rule.max_age_seconds == 600
    # The same document through S3 (the temporary credential cannot read bucket config; the
    # server's admin key can).
    admin = boto3.client(
        "s3", endpoint_url=server.s3_url, aws_access_key_id=server.access_key_id,
        aws_secret_access_key=server.secret_access_key, region_name="auto",
    )
    s3_rules = admin.get_bucket_cors(Bucket=world["bucket"])["CORSRules"]
    assert s3_rules == [{
        "ID": "browser-uploads",
        "AllowedHeaders": ["authorization", "content-type", "x-amz-*"],
        "AllowedMethods": ["GET", "PUT", "POST", "HEAD"],
        "AllowedOrigins": [world["origin"]],
        "ExposeHeaders": ["ETag"],
        "MaxAgeSeconds": 600,
    }]


def test_page_uploads_with_a_presigned_put_and_reads_it_back(server, world):
    s3 = s3_client(server, world["creds"])
    key = "uploads/presigned.txt"
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": world["bucket"], "Key": key}, ExpiresIn=300)
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": world["bucket"], "Key": key}, ExpiresIn=300)
    out = world["page"].evaluate(
        "a => window.presignedRoundTrip(a)",
        {"putUrl": put_url, "getUrl": get_url, "body": "hello from the browser"},
    )
    assert out["putStatus"] == 200, (out, world["console"])
    assert out["etag"], out
    assert out["getStatus"] == 200 and out["text"] == "hello from the browser", out
    # What the page wrote is what the bucket holds.
    body = s3.get_object(Bucket=world["bucket"], Key=key)["Body"].read()
    assert body == b"hello from the browser"


def test_page_uploads_with_aws4fetch_including_multipart_etags(server, world):
    out = world["page"].evaluate(
        "a => window.signedUploads(a)",
        {
            "creds": world["page_creds"],
            "endpoint": server.s3_url,
            "bucket": world["bucket"],
            "key": "uploads/signed.txt",
            "multipartKey": "uploads/big.bin",
            "partSize": PART_SIZE,
            "tailSize": TAIL_SIZE,
        },
    )
    assert out["singleStatus"] == 200, (out, world["console"])
    assert out["initStatus"] == 200 and out["uploadId"], out
    assert len(out["etags"]) == 2 and all(e and e.startswith('"') for e in out["etags"]), out
    assert out["completeStatus"] == 200 and out["completeEtag"].endswith('-2"'), out
    assert out["readStatus"] == 200 and out["readBytes"] == PART_SIZE + TAIL_SIZE, out
    assert out["sha256Matches"], out
    head = s3_client(server, world["creds"]).head_object(Bucket=world["bucket"], Key="uploads/big.bin")
    assert head["ContentLength"] == PART_SIZE + TAIL_SIZE
    assert head["ETag"] == out["completeEtag"]


def test_browser_blocks_an_origin_no_rule_allows(server, world, chromium, page_port):
    s3 = s3_client(server, world["creds"])
    key = "uploads/presigned.txt"
    s3.put_object(Bucket=world["bucket"], Key=key, Body=b"hello from the browser")
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": world["bucket"], "Key": key}, ExpiresIn=300)
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": world["bucket"], "Key": "uploads/x"}, ExpiresIn=300)
    # The URL itself works: only the browser's CORS check stands in the way.
    assert requests.get(get_url, headers={"Origin": "http://localhost"}, timeout=30).status_code == 200

    page = chromium.new_page()
    try:
        page.goto(f"http://localhost:{page_port}/index.html")
        page.wait_for_function("typeof window.blockedRequest === 'function'")
        page.evaluate("e => window.setEndpoint(e)", server.s3_url)
        # A simple GET (no preflight: the answer lacks Access-Control-Allow-Origin) and a PUT
        # (its preflight is refused with 403 AccessForbidden).
        simple = page.evaluate("a => window.blockedRequest(a)", {"url": get_url, "method": "GET"})
        assert simple == {"blocked": True, "name": "TypeError"}, simple
        preflighted = page.evaluate("a => window.blockedRequest(a)", {"url": put_url, "method": "PUT", "body": "x"})
        assert preflighted == {"blocked": True, "name": "TypeError"}, preflighted
        screenshot(page, "browser-blocked-origin")
    finally:
        page.close()
    # The refused preflight wrote nothing.
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=world["bucket"], Key="uploads/x")

    # The allowed page may read the same URL.
    ok = world["page"].evaluate("u => fetch(u).then(r => r.status)", get_url)
    assert ok == 200


def test_page_reads_the_403_for_a_write_outside_its_prefix(server, world):
    out = world["page"].evaluate(
        "a => window.forbiddenWrite(a)",
        {"creds": world["page_creds"], "endpoint": server.s3_url, "bucket": world["bucket"], "key": "private/x.txt"},
    )
    assert out == {"status": 403, "code": "AccessDenied"}, (out, world["console"])


def test_readme_browser_upload_example(server, page_port, chromium, monkeypatch):
    """The README's "Browser upload" step, verbatim apart from the fixture names (the page's
    origin, the S3 endpoint, a fresh bucket, and a Blob in place of the file input)."""
    import os

    account_id = server.account_id
    cf = Cloudflare(api_token=server.api_token, base_url=server.api_url)
    bucket = f"readme-{uuid.uuid4().hex[:16]}"
    cf.r2.buckets.create(account_id=account_id, name=bucket)
    monkeypatch.setenv("MAYFLY_ACCESS_KEY_ID", server.access_key_id)
    origin = f"http://localhost:{page_port}"
    # --- the README's Python ---
    cf.r2.buckets.cors.update(bucket, account_id=account_id, rules=[{
        "allowed": {"origins": [origin], "methods": ["GET", "PUT"],
                    "headers": ["content-type"]},
        "exposeHeaders": ["ETag"],
        "maxAgeSeconds": 3600,
    }])
    alice = cf.r2.temporary_credentials.create(
        account_id=account_id, bucket=bucket,
        parent_access_key_id=os.environ["MAYFLY_ACCESS_KEY_ID"],
        permission="object-read-write", ttl_seconds=900, prefixes=["uploads/alice/"],
    )
    url = boto3.client(
        "s3", endpoint_url=server.s3_url, region_name="auto",
        aws_access_key_id=alice.access_key_id, aws_secret_access_key=alice.secret_access_key,
        aws_session_token=alice.session_token,
    ).generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "uploads/alice/photo.jpg"}, ExpiresIn=300,
    )
    # --- the README's JavaScript, in a page on that origin ---
    page = chromium.new_page()
    try:
        page.goto(f"{origin}/index.html")
        out = page.evaluate(
            """async (url) => {
                const fileInput = { files: [new Blob(['not really a jpeg'], { type: 'image/jpeg' })] };
                const res = await fetch(url, { method: "PUT", body: fileInput.files[0] });
                console.log(res.status, res.headers.get("ETag"));
                return { status: res.status, etag: res.headers.get("ETag") };
            }""",
            url,
        )
    finally:
        page.close()
        cf.close()
    assert out["status"] == 200 and out["etag"], out
    admin = boto3.client(
        "s3", endpoint_url=server.s3_url, aws_access_key_id=server.access_key_id,
        aws_secret_access_key=server.secret_access_key, region_name="auto",
    )
    got = admin.get_object(Bucket=bucket, Key="uploads/alice/photo.jpg")
    assert got["Body"].read() == b"not really a jpeg"
    assert got["ETag"] == out["etag"]
