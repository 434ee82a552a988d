"""Runs the pinned boto3 (tests/e2e/requirements.txt) against s3_capture_server.py, over plain
HTTP and over HTTPS (where boto3 switches uploads to aws-chunked with a CRC32 trailer).

Usage: python s3_boto3.py PORT TLS_PORT CA_FILE   (scripts/capture-s3-wire runs it)
"""

from __future__ import annotations

import io
import ssl
import sys
import urllib.request

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from s3_control import ACCESS_KEY_ID, BUCKET, REGION, SECRET_ACCESS_KEY, SESSION_TOKEN, note, scenario

CLIENT = "boto3"
BODY = b"hello world"


def make_client(endpoint: str, ca: str, **config):
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY, aws_session_token=SESSION_TOKEN,
        verify=ca if endpoint.startswith("https") else None,
        config=Config(**{"s3": {"addressing_style": "path"},
                         "retries": {"mode": "standard", "max_attempts": 3}, **config}))


def common(port: int, endpoint: str, ca: str, suffix: str) -> None:
    """The everyday operations, each its own scenario, on one transport."""
    s3 = make_client(endpoint, ca)

    def sc(name: str, queue: list | None = None) -> None:
        scenario(port, CLIENT, name + suffix, queue)

    sc("put_object(Body=b'hello world', ContentType='text/plain')")
    s3.put_object(Bucket=BUCKET, Key="dir/hello.txt", Body=BODY, ContentType="text/plain")
    sc("put_object(Body=<file object>) (seekable stream)")
    s3.put_object(Bucket=BUCKET, Key="dir/file.txt", Body=io.BytesIO(BODY))
    sc("get_object (response carries a correct x-amz-checksum-crc32)")
    assert s3.get_object(Bucket=BUCKET, Key="dir/hello.txt", ChecksumMode="ENABLED")["Body"].read() == BODY
    sc("list_objects_v2(Prefix='dir/')")
    s3.list_objects_v2(Bucket=BUCKET, Prefix="dir/")
    sc("head_object")
    s3.head_object(Bucket=BUCKET, Key="dir/hello.txt")
    sc("create_multipart_upload / upload_part x2 / complete_multipart_upload")
    key = "big/object.bin"
    up = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    etags = [s3.upload_part(Bucket=BUCKET, Key=key, UploadId=up, PartNumber=n, Body=b"part %d " % n * 8)["ETag"]
             for n in (1, 2)]
    s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": e} for n, e in zip((1, 2), etags)]})
    sc("delete_objects (2 keys)")
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "dir/a.txt"}, {"Key": "dir/b.txt"}]})
    sc("copy_object")
    s3.copy_object(Bucket=BUCKET, Key="dir/copy.txt", CopySource={"Bucket": BUCKET, "Key": "dir/hello.txt"})
    sc("delete_object")
    s3.delete_object(Bucket=BUCKET, Key="dir/hello.txt")
    sc("put_object(ChecksumAlgorithm='SHA256')")
    s3.put_object(Bucket=BUCKET, Key="dir/hello.txt", Body=BODY, ChecksumAlgorithm="SHA256")
    sc("put_object(ContentMD5=...) user-supplied")
    s3.put_object(Bucket=BUCKET, Key="dir/hello.txt", Body=BODY, ContentMD5="XrY7u+Ae7tCTyyK7j1rNww==")
    lazy = make_client(endpoint, ca, request_checksum_calculation="when_required",
                       response_checksum_validation="when_required")
    sc("put_object with request_checksum_calculation='when_required'")
    lazy.put_object(Bucket=BUCKET, Key="dir/hello.txt", Body=BODY)
    sc("get_object with response_checksum_validation='when_required'")
    lazy.get_object(Bucket=BUCKET, Key="dir/hello.txt")["Body"].read()
    sc("delete_objects with request_checksum_calculation='when_required' (checksum still required)")
    lazy.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "dir/a.txt"}]})
    # Over TLS this is UNSIGNED-PAYLOAD: nothing asks for a checksum and signing is off.
    unsigned = make_client(endpoint, ca, request_checksum_calculation="when_required",
                           s3={"addressing_style": "path", "payload_signing_enabled": False})
    sc("put_object with payload_signing_enabled=False, request_checksum_calculation='when_required'")
    unsigned.put_object(Bucket=BUCKET, Key="dir/hello.txt", Body=BODY)

    scheme = endpoint.split(":", 1)[0]
    ctx = ssl.create_default_context(cafile=ca) if scheme == "https" else None
    for op, method, data in (("get_object", "GET", None), ("put_object", "PUT", BODY)):
        name = f"presign {op} {scheme}"
        url = s3.generate_presigned_url(op, Params={"Bucket": BUCKET, "Key": "dir/hello world+.txt"},
                                        ExpiresIn=3600)
        note(port, CLIENT, name, url)
        scenario(port, CLIENT, name)
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method),
                                    context=ctx, timeout=10) as r:
            r.read()


def errors_and_transfers(port: int, endpoint: str, ca: str) -> None:
    """Error answers and s3transfer's multipart upload, over plain HTTP."""
    s3 = make_client(endpoint, ca)
    scenario(port, CLIENT, "get_object -> 404 NoSuchKey", [{"status": 404, "code": "NoSuchKey"}])
    try:
        s3.get_object(Bucket=BUCKET, Key="dir/hello.txt")
        raise AssertionError("404 not raised")
    except s3.exceptions.NoSuchKey:
        pass
    scenario(port, CLIENT, "head_object -> 404 (HEAD: no body)", [{"status": 404, "code": "NoSuchKey"}])
    try:
        s3.head_object(Bucket=BUCKET, Key="dir/hello.txt")
        raise AssertionError("404 not raised")
    except s3.exceptions.ClientError:
        pass
    scenario(port, CLIENT, "put_object -> 403 AccessDenied", [{"status": 403, "code": "AccessDenied"}])
    try:
        s3.put_object(Bucket=BUCKET, Key="dir/hello.txt", Body=BODY)
        raise AssertionError("403 not raised")
    except s3.exceptions.ClientError:
        pass
    scenario(port, CLIENT, "put_object -> 500 once then 200 (retry: body re-sent)",
             [{"status": 500, "code": "InternalError"}])
    s3.put_object(Bucket=BUCKET, Key="dir/hello.txt", Body=BODY)
    crc_headers = [["Content-Type", "text/plain"], ["ETag", '"5eb63bbbe01eeed093cb22bb8f5acdc3"']]
    scenario(port, CLIENT, "get_object -> wrong x-amz-checksum-crc32 in response", [
        {"status": 200, "headers": [*crc_headers, ["x-amz-checksum-crc32", "AAAAAA=="]], "body": "hello world"}])
    try:
        s3.get_object(Bucket=BUCKET, Key="dir/hello.txt", ChecksumMode="ENABLED")["Body"].read()
        raise AssertionError("checksum mismatch not raised")
    except Exception as e:  # botocore's FlexibleChecksumError
        if "checksum" not in str(e).lower():
            raise
    scenario(port, CLIENT, "get_object -> composite multipart checksum 'xxxx-2' (not validated)", [
        {"status": 200, "headers": [*crc_headers, ["x-amz-checksum-crc32", "AAAAAA==-2"]], "body": "hello world"}])
    s3.get_object(Bucket=BUCKET, Key="dir/hello.txt", ChecksumMode="ENABLED")["Body"].read()
    scenario(port, CLIENT, "list_objects_v2 -> 200 with EMPTY body", [{"status": 200, "body": ""}])
    s3.list_objects_v2(Bucket=BUCKET, Prefix="dir/")
    scenario(port, CLIENT, "upload_fileobj 6 MiB, TransferConfig(multipart_threshold=5MiB, "
                           "multipart_chunksize=5MiB) (s3transfer)")
    mib = 1024 * 1024
    s3.upload_fileobj(io.BytesIO(b"a" * (6 * mib)), BUCKET, "big/transfer.bin",
                      Config=TransferConfig(multipart_threshold=5 * mib, multipart_chunksize=5 * mib))


def main() -> None:
    port, tls_port, ca = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    common(port, f"http://127.0.0.1:{port}", ca, "")
    common(port, f"https://127.0.0.1:{tls_port}", ca, " [https]")
    errors_and_transfers(port, f"http://127.0.0.1:{port}", ca)


if __name__ == "__main__":
    main()
