"""Issue 13: bucket CORS rules through both APIs (one stored document), validated as S3 and
Cloudflare do, and applied by the S3 endpoint to preflights and actual requests. The browser
itself is exercised in tests/browser."""

from __future__ import annotations

import boto3
import botocore.exceptions
import cloudflare
import httpx
import pytest
import requests
from botocore.config import Config
from cloudflare import Cloudflare

from conftest import schema_hook
from helpers import create_token

ORIGIN = "https://app.example"


def admin_s3(server):
    return boto3.client(
        "s3", endpoint_url=server.s3_url, aws_access_key_id=server.access_key_id,
        aws_secret_access_key=server.secret_access_key, region_name="auto",
        config=Config(retries={"max_attempts": 1}),
    )


def put_error(s3, bucket, rules):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    err = e.value.response["Error"]
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"], err["Code"], err.get("Message", "")


def test_put_bucket_cors_validation_errors_reach_boto3_as_s3_errors(server, bucket):
    s3 = admin_s3(server)
    base = {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}
    cases = [
        ([{**base, "AllowedMethods": ["PATCH"]}], "InvalidRequest", "Unsupported method is PATCH"),
        ([{**base, "AllowedMethods": ["OPTIONS"]}], "InvalidRequest", "Unsupported method is OPTIONS"),
        ([{**base, "AllowedOrigins": ["https://*.*.example"]}], "InvalidRequest", "can not have more than one wildcard"),
        ([{**base, "AllowedHeaders": ["x-*-*"]}], "InvalidRequest", "can not have more than one wildcard"),
        ([{**base, "ExposeHeaders": ["*"]}], "InvalidRequest", "wildcard for ExposeHeader"),
        ([{**base, "ID": "x" * 256}], "InvalidRequest", "255"),
        ([{**base, "MaxAgeSeconds": -5}], "InvalidRequest", "max age"),
        ([], "MalformedXML", ""),
        ([base] * 101, "MalformedXML", ""),
        ([{"AllowedOrigins": ["*"], "AllowedMethods": []}], "MalformedXML", ""),
    ]
    for rules, code, message in cases:
        status, got, text = put_error(s3, bucket, rules)
        assert (status, got) == (400, code), (rules[:1], text)
        assert message in text, (rules[:1], text)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert e.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"


def test_rules_set_through_s3_read_back_through_the_sdk_and_back(server, cf, bucket):
    s3 = admin_s3(server)
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"ID": "one", "AllowedOrigins": [ORIGIN], "AllowedMethods": ["PUT", "GET"],
         "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 300},
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]},
    ]})
    got = cf.r2.buckets.cors.get(bucket, account_id=server.account_id)
    assert [r.model_dump(by_alias=True, exclude_none=True) for r in got.rules] == [
        {"id": "one", "allowed": {"origins": [ORIGIN], "methods": ["PUT", "GET"], "headers": ["*"]},
         "exposeHeaders": ["ETag"], "maxAgeSeconds": 300},
        {"allowed": {"origins": ["*"], "methods": ["GET"]}},
    ]

    cf.r2.buckets.cors.update(bucket, account_id=server.account_id, rules=[
        {"allowed": {"origins": ["https://*.example.org"], "methods": ["DELETE"]}, "maxAgeSeconds": 60.0},
    ])
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == [
        {"AllowedMethods": ["DELETE"], "AllowedOrigins": ["https://*.example.org"], "MaxAgeSeconds": 60},
    ]

    cf.r2.buckets.cors.delete(bucket, account_id=server.account_id)
    with pytest.raises(cloudflare.NotFoundError) as e:
        cf.r2.buckets.cors.get(bucket, account_id=server.account_id)
    assert e.value.body["errors"][0]["code"] == 10059
    with pytest.raises(botocore.exceptions.ClientError):
        s3.get_bucket_cors(Bucket=bucket)


def test_cors_api_refuses_bad_rules_with_a_pointer(server, cf, bucket):
    cases = [
        ([{"allowed": {"origins": ["*"], "methods": ["PATCH"]}}], "/rules/0/allowed/methods/0"),
        ([{"allowed": {"origins": ["*"], "methods": ["GET"]}},
          {"allowed": {"origins": ["a*b*c"], "methods": ["GET"]}}], "/rules/1/allowed/origins/0"),
        ([{"allowed": {"origins": ["*"], "methods": ["GET"]}, "exposeHeaders": ["ETag", "*"]}],
         "/rules/0/exposeHeaders/1"),
        ([{"allowed": {"origins": ["*"], "methods": ["GET"]}, "maxAgeSeconds": 1.5}], "/rules/0/maxAgeSeconds"),
        ([{"allowed": {"origins": ["*"]}}], "/rules/0/allowed/methods"),
        ([], "/rules"),
    ]
    for rules, pointer in cases:
        with pytest.raises(cloudflare.BadRequestError) as e:
            cf.r2.buckets.cors.update(bucket, account_id=server.account_id, rules=rules)
        err = e.value.body["errors"][0]
        assert err["code"] == 10040 and err["source"]["pointer"] == pointer, (rules, err)
    with pytest.raises(cloudflare.NotFoundError):
        cf.r2.buckets.cors.get(bucket, account_id=server.account_id)


def test_cors_api_needs_admin_to_read_and_admin_read_write_to_change(server, api, bucket):
    rules = [{"allowed": {"origins": ["*"], "methods": ["GET"]}}]

    def client(token):
        return Cloudflare(api_token=token, base_url=server.api_url,
                          http_client=httpx.Client(event_hooks={"response": [schema_hook]}))

    read_only = client(create_token(api, server.account_id, "admin-read-only")["value"])
    objects = client(create_token(api, server.account_id, "object-read-write", buckets=[bucket])["value"])
    admin = client(server.api_token)
    admin.r2.buckets.cors.update(bucket, account_id=server.account_id, rules=rules)
    assert read_only.r2.buckets.cors.get(bucket, account_id=server.account_id).rules[0].allowed.origins == ["*"]
    for call in (
        lambda: read_only.r2.buckets.cors.update(bucket, account_id=server.account_id, rules=rules),
        lambda: read_only.r2.buckets.cors.delete(bucket, account_id=server.account_id),
        lambda: objects.r2.buckets.cors.get(bucket, account_id=server.account_id),
        lambda: objects.r2.buckets.cors.update(bucket, account_id=server.account_id, rules=rules),
    ):
        with pytest.raises(cloudflare.PermissionDeniedError):
            call()
    with pytest.raises(cloudflare.NotFoundError) as e:
        admin.r2.buckets.cors.get("no-such-bucket-here", account_id=server.account_id)
    assert e.value.body["errors"][0]["code"] == 10006


def test_preflight_and_actual_requests_follow_the_rules_over_the_wire(server, cf, bucket):
    cf.r2.buckets.cors.update(bucket, account_id=server.account_id, rules=[
        {"allowed": {"origins": [ORIGIN], "methods": ["PUT"], "headers": ["x-amz-*", "authorization"]},
         "exposeHeaders": ["ETag"], "maxAgeSeconds": 120},
    ])
    url = f"{server.s3_url}/{bucket}/uploads/a.txt?X-Amz-Signature=whatever"
    r = requests.options(url, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization,x-amz-date",
    }, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert r.headers["Access-Control-Allow-Methods"] == "PUT"
    assert r.headers["Access-Control-Allow-Headers"] == "authorization, x-amz-date"
    assert r.headers["Access-Control-Max-Age"] == "120"
    assert "Origin" in r.headers["Vary"]

    r = requests.options(url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"}, timeout=30)
    assert r.status_code == 403 and "<Code>AccessForbidden</Code>" in r.text
    assert "Access-Control-Allow-Origin" not in r.headers

    # An actual (here unsigned, so refused) request still carries the headers the page needs.
    r = requests.put(f"{server.s3_url}/{bucket}/uploads/a.txt", data=b"x", headers={"Origin": ORIGIN}, timeout=30)
    assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert r.headers["Access-Control-Expose-Headers"] == "ETag"
