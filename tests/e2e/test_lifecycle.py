"""Bucket lifecycle rules (issue 13 §3): set through the official Cloudflare SDK
(`r2.buckets.lifecycle`) or S3 (`PutBucketLifecycleConfiguration`), one stored document read
back through either, validated as S3 does, and applied by the background sweeper."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone

import boto3
import botocore.exceptions
import httpx
import pytest
import requests
from botocore.config import Config
from cloudflare import Cloudflare

from conftest import init_data_dir, unique_bucket_name

DAY = 86_400


def s3(server):
    return boto3.client(
        "s3", endpoint_url=server.s3_url, region_name="auto",
        aws_access_key_id=server.access_key_id, aws_secret_access_key=server.secret_access_key,
        config=Config(retries={"max_attempts": 1}),
    )


def test_rules_set_through_the_sdk_read_back_through_s3_and_back(server, cf, bucket):
    cf.r2.buckets.lifecycle.update(
        bucket, account_id=server.account_id,
        rules=[
            {
                "id": "tmp", "enabled": True, "conditions": {"prefix": "tmp/"},
                "delete_objects_transition": {"condition": {"type": "Age", "max_age": 3 * DAY}},
                "abort_multipart_uploads_transition": {"condition": {"type": "Age", "max_age": DAY}},
            },
            {
                "id": "dated", "enabled": False, "conditions": {"prefix": "old/"},
                "delete_objects_transition": {"condition": {"type": "Date", "date": "2030-01-01T00:00:00Z"}},
            },
        ],
    )
    got = cf.r2.buckets.lifecycle.get(bucket, account_id=server.account_id)
    assert [(r.id, r.enabled, r.conditions.prefix) for r in got.rules] == [("tmp", True, "tmp/"), ("dated", False, "old/")]
    assert got.rules[0].delete_objects_transition.condition.max_age == 3 * DAY
    assert got.rules[0].abort_multipart_uploads_transition.condition.max_age == DAY
    assert got.rules[1].delete_objects_transition.condition.date == datetime(2030, 1, 1, tzinfo=timezone.utc)

    rules = s3(server).get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rules[0]["ID"] == "tmp" and rules[0]["Status"] == "Enabled"
    assert rules[0]["Filter"]["Prefix"] == "tmp/"
    assert rules[0]["Expiration"]["Days"] == 3
    assert rules[0]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1
    assert rules[1]["Status"] == "Disabled"
    assert rules[1]["Expiration"]["Date"] == datetime(2030, 1, 1, tzinfo=timezone.utc)

    # Set through S3 (a rule without ID gets one), read through the SDK.
    s3(server).put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 7}},
    ]})
    got = cf.r2.buckets.lifecycle.get(bucket, account_id=server.account_id)
    assert len(got.rules) == 1 and got.rules[0].id
    assert got.rules[0].conditions.prefix == "logs/"
    assert got.rules[0].delete_objects_transition.condition.max_age == 7 * DAY

    # An empty rule list removes the configuration.
    cf.r2.buckets.lifecycle.update(bucket, account_id=server.account_id, rules=[])
    assert not cf.r2.buckets.lifecycle.get(bucket, account_id=server.account_id).rules
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3(server).get_bucket_lifecycle_configuration(Bucket=bucket)
    assert e.value.response["Error"]["Code"] == "NoSuchLifecycleConfiguration"


def age_rule(rule_id: str, **extra) -> dict:
    return {"id": rule_id, "enabled": True, "conditions": {"prefix": ""},
            "deleteObjectsTransition": {"condition": {"type": "Age", "maxAge": DAY}}, **extra}


@pytest.mark.parametrize("rules, pointer", [
    ([age_rule("x" * 256)], "/rules/0/id"),
    ([age_rule("same"), age_rule("same")], "/rules/1/id"),
    ([age_rule("d", deleteObjectsTransition={"condition": {"type": "Date", "date": "2030-01-01T12:00:00Z"}})],
     "/rules/0/expiration/date"),
    ([age_rule("z", deleteObjectsTransition={"condition": {"type": "Age", "maxAge": 0}})],
     "/rules/0/deleteObjectsTransition/condition/maxAge"),
    ([{"id": "none", "enabled": True, "conditions": {"prefix": ""}}], "/rules/0"),
    ([age_rule("s", enabled="yes")], "/rules/0/enabled"),
])
def test_api_refuses_invalid_rules_with_a_pointer(server, api, bucket, rules, pointer):
    path = f"/accounts/{server.account_id}/r2/buckets/{bucket}/lifecycle"
    r = api.request("PUT", path, json={"rules": rules})
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["source"]["pointer"] == pointer
    assert api.get(path).json()["result"]["rules"] == [], "nothing stored"


@pytest.mark.parametrize("rule, code", [
    ({"ID": "x" * 256, "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}, "InvalidArgument"),
    ({"ID": "noon", "Status": "Enabled", "Filter": {"Prefix": ""},
      "Expiration": {"Date": datetime(2030, 1, 1, 12, tzinfo=timezone.utc)}}, "InvalidArgument"),
    ({"ID": "zero", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 0}}, "InvalidArgument"),
    ({"ID": "status", "Status": "On", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}, "MalformedXML"),
])
def test_s3_refuses_invalid_rules(server, bucket, rule, code):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3(server).put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [rule]})
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert e.value.response["Error"]["Code"] == code
    dup = {"ID": "a", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3(server).put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [dup, dup]})
    assert e.value.response["Error"]["Code"] == "InvalidArgument"


@pytest.mark.single_node
def test_sweeper_deletes_expired_objects_and_aborts_old_uploads(start_server, tmp_path):
    data_dir = tmp_path / "data"
    srv = start_server(data_dir, init_data_dir(data_dir), "--lifecycle-interval", "1")
    bucket = unique_bucket_name()
    cf = Cloudflare(api_token=srv.api_token, base_url=srv.api_url, http_client=httpx.Client())
    cf.r2.buckets.create(account_id=srv.account_id, name=bucket)
    c = s3(srv)
    for key in ["tmp/a", "tmp/b", "keep/c"]:
        c.put_object(Bucket=bucket, Key=key, Body=key.encode())
    upload = c.create_multipart_upload(Bucket=bucket, Key="up/big")["UploadId"]
    c.upload_part(Bucket=bucket, Key="up/big", UploadId=upload, PartNumber=1, Body=b"part")
    cf.r2.buckets.lifecycle.update(bucket, account_id=srv.account_id, rules=[
        {"id": "past-date", "enabled": True, "conditions": {"prefix": "tmp/"},
         "delete_objects_transition": {"condition": {"type": "Date", "date": "2020-01-01T00:00:00Z"}}},
        {"id": "abort", "enabled": True, "conditions": {"prefix": "up/"},
         "abort_multipart_uploads_transition": {"condition": {"type": "Age", "max_age": 1}}},
    ])

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        keys = [o["Key"] for o in c.list_objects_v2(Bucket=bucket).get("Contents", [])]
        uploads = c.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        if keys == ["keep/c"] and not uploads:
            break
        time.sleep(0.25)
    assert keys == ["keep/c"], keys
    assert not uploads, uploads
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.list_parts(Bucket=bucket, Key="up/big", UploadId=upload)
    assert e.value.response["Error"]["Code"] == "NoSuchUpload"

    metrics = requests.get(f"{srv.base}/metrics", timeout=10).text
    def counter(name: str) -> float:
        m = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", metrics, re.M)
        assert m, f"{name} missing from /metrics"
        return float(m.group(1))
    assert counter("mayfly_lifecycle_objects_deleted_total") == 2
    assert counter("mayfly_lifecycle_uploads_aborted_total") == 1
    assert counter("mayfly_lifecycle_passes_total") >= 1
    log = srv.stderr_path.read_text()
    assert re.search(r"lifecycle pass.*objects_deleted=[12]\b", log), log[-2000:]
    cf.close()
