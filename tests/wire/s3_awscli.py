"""Runs the pinned awscli (tests/e2e/requirements.txt) against s3_capture_server.py, over plain
HTTP and over HTTPS (trusted with --ca-bundle), both `aws s3api` and the high-level `aws s3`.

The CLI runs in this process (awscli's own `create_clidriver().main(argv)`, what the `aws` script
calls; a fresh driver each time, as a reused one keeps the last command's event handlers) so
some thirty commands take seconds, not a process start each.

Usage: python s3_awscli.py PORT TLS_PORT CA_FILE   (scripts/capture-s3-wire runs it)
"""

from __future__ import annotations

import contextlib
import io
import os
import ssl
import sys
import tempfile
import urllib.request

from awscli.clidriver import create_clidriver

from s3_control import ACCESS_KEY_ID, BUCKET, REGION, SECRET_ACCESS_KEY, SESSION_TOKEN, note, scenario

CLIENT = "awscli"


def aws(endpoint: str, ca: str, *args: str, expect_rc: int = 0) -> str:
    """One `aws ...` command; returns what it printed."""
    argv = ["--endpoint-url", endpoint, *args]
    if endpoint.startswith("https"):
        argv += ["--ca-bundle", ca]
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()) as err:
        rc = create_clidriver().main(argv)
    if rc != expect_rc:
        raise AssertionError(f"aws {' '.join(args)}: exit {rc}, expected {expect_rc}: {err.getvalue()}")
    return out.getvalue()


def common(port: int, endpoint: str, ca: str, suffix: str, tmp: str) -> None:
    def run(name: str, *args: str, queue: list | None = None, expect_rc: int = 0) -> str:
        scenario(port, CLIENT, name + suffix, queue)
        return aws(endpoint, ca, *args, expect_rc=expect_rc)

    hello = os.path.join(tmp, "hello.txt")
    with open(hello, "wb") as f:
        f.write(b"hello world")
    part = os.path.join(tmp, "part.bin")
    with open(part, "wb") as f:
        f.write(b"part 1 " * 8)
    b = ["--bucket", BUCKET]
    run("s3api put-object", "s3api", "put-object", *b, "--key", "dir/hello.txt", "--body", hello)
    run("s3api get-object", "s3api", "get-object", *b, "--key", "dir/hello.txt", os.path.join(tmp, "out"))
    run("s3api list-objects-v2 --prefix dir/", "s3api", "list-objects-v2", *b, "--prefix", "dir/")
    run("s3api head-object", "s3api", "head-object", *b, "--key", "dir/hello.txt")
    key = ["--key", "big/object.bin"]
    run("s3api create-multipart-upload", "s3api", "create-multipart-upload", *b, *key)
    run("s3api upload-part", "s3api", "upload-part", *b, *key, "--upload-id", "UPLOAD-ID-0001",
        "--part-number", "1", "--body", part)
    run("s3api complete-multipart-upload", "s3api", "complete-multipart-upload", *b, *key,
        "--upload-id", "UPLOAD-ID-0001", "--multipart-upload",
        '{"Parts":[{"PartNumber":1,"ETag":"\\"5eb63bbbe01eeed093cb22bb8f5acdc3\\""}]}')
    run("s3api delete-objects", "s3api", "delete-objects", *b, "--delete",
        '{"Objects":[{"Key":"dir/a.txt"},{"Key":"dir/b.txt"}]}')
    run("s3api copy-object", "s3api", "copy-object", *b, "--key", "dir/copy.txt",
        "--copy-source", f"{BUCKET}/dir/hello.txt")
    run("s3api delete-object", "s3api", "delete-object", *b, "--key", "dir/hello.txt")
    run("s3 cp local -> s3 (s3transfer upload)", "s3", "cp", hello, f"s3://{BUCKET}/dir/hello.txt")
    run("s3 cp s3 -> local (s3transfer download)", "s3", "cp", f"s3://{BUCKET}/dir/hello.txt",
        os.path.join(tmp, "down.txt"))
    run("s3 ls", "s3", "ls", f"s3://{BUCKET}/dir/")

    scheme = endpoint.split(":", 1)[0]
    name = f"s3 presign (get) {scheme}"
    url = aws(endpoint, ca, "s3", "presign", f"s3://{BUCKET}/dir/hello world+.txt").strip()
    note(port, CLIENT, name, url)
    scenario(port, CLIENT, name)
    ctx = ssl.create_default_context(cafile=ca) if scheme == "https" else None
    with urllib.request.urlopen(url, context=ctx, timeout=10) as r:
        r.read()


def errors_and_transfers(port: int, endpoint: str, ca: str, tmp: str) -> None:
    scenario(port, CLIENT, "s3api get-object -> 404 NoSuchKey", [{"status": 404, "code": "NoSuchKey"}])
    aws(endpoint, ca, "s3api", "get-object", "--bucket", BUCKET, "--key", "nope",
        os.path.join(tmp, "out"), expect_rc=255)
    big = os.path.join(tmp, "big.bin")
    with open(big, "wb") as f:
        f.write(b"b" * (9 * 1024 * 1024))
    scenario(port, CLIENT, "s3 cp of a 9 MiB file (s3transfer multipart, default 8 MiB threshold/chunk)")
    aws(endpoint, ca, "s3", "cp", big, f"s3://{BUCKET}/big/big.bin")


def main() -> None:
    port, tls_port, ca = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    with tempfile.TemporaryDirectory() as tmp:
        config = os.path.join(tmp, "config")
        with open(config, "w") as f:
            f.write(f"[default]\nregion = {REGION}\ns3 =\n  addressing_style = path\n")
        os.environ.update({
            "AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": os.path.join(tmp, "none"),
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_SESSION_TOKEN": SESSION_TOKEN, "AWS_DEFAULT_REGION": REGION,
            "AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "3",
        })
        os.environ.pop("AWS_PROFILE", None)
        common(port, f"http://127.0.0.1:{port}", ca, "", tmp)
        common(port, f"https://127.0.0.1:{tls_port}", ca, " [https]", tmp)
        errors_and_transfers(port, f"http://127.0.0.1:{port}", ca, tmp)


if __name__ == "__main__":
    main()
