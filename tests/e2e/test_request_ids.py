"""Request ids (issue 13, with issue 12's log hygiene): boto3's `ResponseMetadata.RequestId`
is the `x-amz-request-id` header, an error's id is the `<RequestId>` of its body, ids differ per
request, and the server's log has one line naming each id, with the status it answered."""

from __future__ import annotations

import re
import time

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config


def s3_client(server):
    return boto3.client(
        "s3", endpoint_url=server.s3_url, region_name="auto",
        aws_access_key_id=server.access_key_id, aws_secret_access_key=server.secret_access_key,
        config=Config(retries={"max_attempts": 1}),
    )


def log_lines(server, request_id: str) -> list[str]:
    """The server's log lines naming `request_id` (waiting briefly for the write)."""
    for _ in range(50):
        lines = [line for line in server.stderr_path.read_text().splitlines() if request_id in line]
        if lines:
            return lines
        time.sleep(0.05)
    return []


def test_request_id_is_the_header_the_error_body_and_the_log_line(server, bucket):
    s3 = s3_client(server)
    put = s3.put_object(Bucket=bucket, Key="ids/a.txt", Body=b"a")
    meta = put["ResponseMetadata"]
    rid = meta["RequestId"]
    assert re.fullmatch(r"[0-9A-F]{16}", rid), rid
    assert meta["HTTPHeaders"]["x-amz-request-id"] == rid
    lines = log_lines(server, rid)
    assert len(lines) == 1 and "status=200" in lines[0], lines

    got = s3.get_object(Bucket=bucket, Key="ids/a.txt")
    assert got["ResponseMetadata"]["RequestId"] != rid, "ids are per request"

    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=bucket, Key="ids/missing")
    err = e.value.response
    assert err["Error"]["Code"] == "NoSuchKey"
    rid = err["ResponseMetadata"]["RequestId"]
    assert err["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"] == rid
    lines = log_lines(server, rid)
    assert len(lines) == 1 and "status=404" in lines[0] and "ERROR" not in lines[0], lines

    # A refusal: the body's <RequestId> (botocore reads it) is the header and the log line.
    bad = boto3.client(
        "s3", endpoint_url=server.s3_url, region_name="auto",
        aws_access_key_id=server.access_key_id, aws_secret_access_key="0" * 64,
        config=Config(retries={"max_attempts": 1}),
    )
    with pytest.raises(botocore.exceptions.ClientError) as e:
        bad.get_object(Bucket=bucket, Key="ids/a.txt")
    err = e.value.response
    assert err["Error"]["Code"] == "SignatureDoesNotMatch"
    rid = err["ResponseMetadata"]["RequestId"]
    assert err["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"] == rid
    lines = log_lines(server, rid)
    assert len(lines) == 1 and "status=403" in lines[0] and "signature mismatch" in lines[0], lines
    assert "0" * 64 not in server.stderr_path.read_text()
