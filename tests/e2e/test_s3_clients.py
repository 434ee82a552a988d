"""Real S3 clients against `mayfly serve`: boto3 (default checksums and
`request_checksum_calculation='when_required'`), presigned GET/PUT, and the aws CLI
(cp/ls/sync/rm with multipart-sized files) - each with a long-lived key and with temporary
credentials minted through the API."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import botocore.exceptions
import pytest
import requests
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

MIB = 1024 * 1024


@pytest.fixture(params=["long-lived", "temporary"])
def creds(request, server, cf, bucket):
    """(access key id, secret, session token) for the test's bucket."""
    if request.param == "long-lived":
        return server.access_key_id, server.secret_access_key, None
    c = cf.r2.temporary_credentials.create(
        account_id=server.account_id, bucket=bucket, parent_access_key_id=server.access_key_id,
        permission="object-read-write", ttl_seconds=900,
    )
    return c.access_key_id, c.secret_access_key, c.session_token


def client(server, creds, **config):
    akid, secret, token = creds
    return boto3.client(
        "s3", endpoint_url=server.s3_url, region_name="auto",
        aws_access_key_id=akid, aws_secret_access_key=secret, aws_session_token=token,
        config=Config(retries={"max_attempts": 1}, **config),
    )


def blob(size: int, seed: int = 7) -> bytes:
    out = bytearray()
    block = hashlib.sha256(str(seed).encode()).digest()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block * 64
    return bytes(out[:size])


@pytest.mark.parametrize("checksums", ["when_supported", "when_required"])
def test_boto3_object_round_trip(server, creds, bucket, checksums):
    s3 = client(server, creds, request_checksum_calculation=checksums, response_checksum_validation=checksums)
    s3.put_object(Bucket=bucket, Key="dir/hello.txt", Body=b"hello world", ContentType="text/plain",
                  Metadata={"color": "blue"})
    with open(__file__, "rb") as f:  # a seekable stream: aws-chunked with a CRC32 trailer
        s3.put_object(Bucket=bucket, Key="dir/file.py", Body=f)
    got = s3.get_object(Bucket=bucket, Key="dir/hello.txt", ChecksumMode="ENABLED")
    assert got["Body"].read() == b"hello world"
    assert got["ContentType"] == "text/plain" and got["Metadata"] == {"color": "blue"}
    head = s3.head_object(Bucket=bucket, Key="dir/file.py")
    assert head["ContentLength"] == Path(__file__).stat().st_size
    assert s3.get_object(Bucket=bucket, Key="dir/hello.txt", Range="bytes=0-4")["Body"].read() == b"hello"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="dir/")["Contents"]]
    assert keys == ["dir/file.py", "dir/hello.txt"]
    s3.copy_object(Bucket=bucket, Key="dir/copy.txt", CopySource={"Bucket": bucket, "Key": "dir/hello.txt"})
    assert s3.get_object(Bucket=bucket, Key="dir/copy.txt")["Body"].read() == b"hello world"
    out = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "dir/hello.txt"}, {"Key": "dir/copy.txt"}]})
    assert sorted(d["Key"] for d in out["Deleted"]) == ["dir/copy.txt", "dir/hello.txt"]
    s3.delete_object(Bucket=bucket, Key="dir/file.py")
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=bucket, Key="dir/hello.txt")
    assert e.value.response["Error"]["Code"] == "NoSuchKey"


def test_boto3_multipart_transfer(server, creds, bucket, tmp_path):
    s3 = client(server, creds)
    data = blob(12 * MIB + 123)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    s3.upload_file(str(src), bucket, "big/big.bin", Config=cfg)
    head = s3.head_object(Bucket=bucket, Key="big/big.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-3")
    dst = tmp_path / "back.bin"
    s3.download_file(bucket, "big/big.bin", str(dst), Config=cfg)
    assert dst.read_bytes() == data
    # UploadPartCopy through a managed copy.
    s3.copy({"Bucket": bucket, "Key": "big/big.bin"}, bucket, "big/copy.bin", Config=cfg)
    assert s3.get_object(Bucket=bucket, Key="big/copy.bin")["Body"].read() == data


def test_presigned_get_and_put(server, creds, bucket):
    s3 = client(server, creds)
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "p/hello world+.txt"}, ExpiresIn=300)
    r = requests.put(put_url, data=b"presigned body", timeout=30)
    assert r.status_code == 200, r.text
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p/hello world+.txt"}, ExpiresIn=300)
    r = requests.get(get_url, timeout=30)
    assert r.status_code == 200 and r.content == b"presigned body"
    sig = get_url.split("X-Amz-Signature=")[1][:64]
    forged = get_url.replace(sig, ("1" if sig[0] == "0" else "0") + sig[1:])
    r = requests.get(forged, timeout=30)
    assert r.status_code == 403 and b"SignatureDoesNotMatch" in r.content


def aws_cli(server, creds, *args, cwd=None):
    akid, secret, token = creds
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=akid, AWS_SECRET_ACCESS_KEY=secret, AWS_DEFAULT_REGION="auto",
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    if token:
        env["AWS_SESSION_TOKEN"] = token
    exe = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
    if exe is None:
        pytest.skip("aws CLI not installed")
    done = subprocess.run([exe, "--endpoint-url", server.s3_url, *args], env=env, capture_output=True,
                          text=True, timeout=300, cwd=cwd)
    assert done.returncode == 0, f"aws {' '.join(args)}: {done.stderr}"
    return done.stdout


def test_aws_cli_cp_ls_sync_rm(server, creds, bucket, tmp_path):
    big = tmp_path / "up" / "big.bin"
    big.parent.mkdir()
    data = blob(9 * MIB + 7, seed=3)
    big.write_bytes(data)
    (tmp_path / "up" / "small.txt").write_text("small")
    (tmp_path / "up" / "sub").mkdir()
    (tmp_path / "up" / "sub" / "nested.txt").write_text("nested")

    aws_cli(server, creds, "s3", "cp", str(big), f"s3://{bucket}/cp/big.bin")
    listing = aws_cli(server, creds, "s3", "ls", f"s3://{bucket}/cp/")
    assert "big.bin" in listing and str(len(data)) in listing
    aws_cli(server, creds, "s3", "cp", f"s3://{bucket}/cp/big.bin", str(tmp_path / "down.bin"))
    assert (tmp_path / "down.bin").read_bytes() == data

    aws_cli(server, creds, "s3", "sync", str(tmp_path / "up"), f"s3://{bucket}/sync/")
    listing = aws_cli(server, creds, "s3", "ls", "--recursive", f"s3://{bucket}/sync/")
    for name in ("sync/big.bin", "sync/small.txt", "sync/sub/nested.txt"):
        assert name in listing
    # A second sync has nothing to do.
    assert aws_cli(server, creds, "s3", "sync", str(tmp_path / "up"), f"s3://{bucket}/sync/").strip() == ""
    aws_cli(server, creds, "s3", "sync", f"s3://{bucket}/sync/", str(tmp_path / "back"))
    assert (tmp_path / "back" / "sub" / "nested.txt").read_text() == "nested"

    aws_cli(server, creds, "s3", "rm", "--recursive", f"s3://{bucket}/")
    assert aws_cli(server, creds, "s3", "ls", "--recursive", f"s3://{bucket}/").strip() == ""


def test_temporary_credentials_scope_is_enforced_for_real_clients(server, cf, bucket):
    admin = client(server, (server.access_key_id, server.secret_access_key, None))
    admin.put_object(Bucket=bucket, Key="in/a.txt", Body=b"a")
    admin.put_object(Bucket=bucket, Key="out/b.txt", Body=b"b")
    c = cf.r2.temporary_credentials.create(
        account_id=server.account_id, bucket=bucket, parent_access_key_id=server.access_key_id,
        permission="object-read-write", ttl_seconds=300, prefixes=["in/"],
    )
    s3 = client(server, (c.access_key_id, c.secret_access_key, c.session_token))
    s3.put_object(Bucket=bucket, Key="in/new.txt", Body=b"n")
    for call in (
        lambda: s3.get_object(Bucket=bucket, Key="out/b.txt"),
        lambda: s3.head_object(Bucket=bucket, Key="out/missing"),
        lambda: s3.put_object(Bucket=bucket, Key="out/new.txt", Body=b"n"),
        lambda: s3.list_objects_v2(Bucket=bucket),
        lambda: s3.copy_object(Bucket=bucket, Key="in/stolen", CopySource={"Bucket": bucket, "Key": "out/b.txt"}),
        lambda: s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "in/a.txt"}, {"Key": "out/b.txt"}]}),
        lambda: s3.list_buckets(),
    ):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="in/")["Contents"]] == ["in/a.txt", "in/new.txt"]
    assert admin.get_object(Bucket=bucket, Key="out/b.txt")["Body"].read() == b"b"
