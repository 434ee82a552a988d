"""`mayfly creds mint` driving the real AWS tools against a spawned Mayfly.

* an AWS CLI profile and a boto3 session whose `credential_process` is `mayfly creds mint
  ... --format credential-process` keep working across the expiry of a 5-second credential,
  because the tool runs the command again (counted by a wrapper script, and the session token
  changes), both minting remotely (the API) and offline (`--local`);
* `eval "$(mayfly creds mint ... --format env)"` then `aws s3 cp` in bash;
* locally minted tokens are honoured by the server in scope and refused out of scope.
"""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import time
from pathlib import Path

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import MAYFLY_BIN, REPO, Server, run_mayfly
from helpers import create_token
from jwt_util import decode_session_token

AWS = REPO / ".venv" / "bin" / "aws"
TTL = 5


def api_env(server: Server) -> dict:
    return {"CLOUDFLARE_BASE_URL": server.api_url, "CLOUDFLARE_API_TOKEN": server.api_token,
            "CLOUDFLARE_ACCOUNT_ID": server.account_id}


def secret_file(tmp_path: Path, server: Server) -> Path:
    p = tmp_path / "parent-secret"
    p.write_text(server.secret_access_key + "\n")
    p.chmod(0o600)
    return p


def mint_args(server: Server, bucket: str, mode: str, tmp_path: Path, *extra: str) -> list[str]:
    """`creds mint` arguments for a read-write credential on `up/` of `bucket`."""
    args = ["creds", "mint", "--bucket", bucket, "--permission", "object-read-write",
            "--prefix", "up/", "--parent-key-id", server.access_key_id, *extra]
    if mode == "local":
        args += ["--local", "--account-id", server.account_id, "--endpoint", server.s3_url,
                 "--parent-secret-file", str(secret_file(tmp_path, server))]
    return args


def s3_client(key_id: str, secret: str, token: str | None, endpoint: str):
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="auto",
        aws_access_key_id=key_id, aws_secret_access_key=secret, aws_session_token=token,
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )


def clean_aws_env(tmp_path: Path) -> dict:
    """The process environment minus every AWS_/MAYFLY_/CLOUDFLARE_ variable, with empty AWS
    config and credentials files, so only what a test sets is in effect."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MAYFLY_", "CLOUDFLARE_"))}
    empty = tmp_path / "empty-aws-file"
    empty.write_text("")
    env["AWS_CONFIG_FILE"] = str(empty)
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(empty)
    env["PATH"] = f"{AWS.parent}:{env.get('PATH', '')}"
    return env


def wrapper(tmp_path: Path, server: Server, mode: str) -> tuple[Path, Path]:
    """A credential_process wrapper: counts its invocations, logs each minted token, then
    execs mayfly. Remote mode gets the API settings from it (as a user's environment would)."""
    count = tmp_path / "invocations"
    tokens = tmp_path / "tokens"
    script = tmp_path / "mint.sh"
    exports = "".join(f"export {k}='{v}'\n" for k, v in api_env(server).items()) if mode == "remote" else ""
    script.write_text(
        "#!/bin/sh\nset -e\n"
        f"echo x >> '{count}'\n"
        f"{exports}"
        f"out=$('{MAYFLY_BIN}' \"$@\")\n"
        f"printf '%s\\n' \"$out\" | tr -d ' \\n' >> '{tokens}'\n"
        f"echo >> '{tokens}'\n"
        "printf '%s\\n' \"$out\"\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, count


def invocations(count: Path) -> int:
    return len(count.read_text().splitlines()) if count.exists() else 0


def minted_tokens(tmp_path: Path) -> list[str]:
    lines = (tmp_path / "tokens").read_text().splitlines()
    return [json.loads(l)["SessionToken"] for l in lines if l.strip()]


def write_profile(tmp_path: Path, server: Server, bucket: str, mode: str) -> tuple[Path, Path]:
    """~/.aws/config with a `mayfly` profile, its credential_process spread over indented
    continuation lines exactly as `mayfly creds mint --help` shows."""
    script, count = wrapper(tmp_path, server, mode)
    args = mint_args(server, bucket, mode, tmp_path, "--ttl", str(TTL), "--format", "credential-process")
    lines = [f"{script} {' '.join(args[:2])}"] + [f"    {a}" for a in args[2:]]
    cfg = tmp_path / "aws-config"
    cfg.write_text(
        "[profile mayfly]\n"
        "credential_process = " + "\n".join(lines) + "\n"
        f"endpoint_url = {server.s3_url}\n"
        "region = auto\n"
        "s3 =\n    addressing_style = path\n"
    )
    return cfg, count


def assert_expired(old: dict, server: Server, bucket: str) -> None:
    """The first credential is really dead now: the server refuses it as expired."""
    c = s3_client(old["access_key"], old["secret_key"], old["token"], server.s3_url)
    with pytest.raises(ClientError) as e:
        c.head_object(Bucket=bucket, Key="up/a.txt")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.value.response


def sleep_past(exp: int) -> None:
    while time.time() < exp + 1:
        time.sleep(0.2)


@pytest.mark.parametrize("mode", ["remote", "local"])
def test_aws_cli_profile_with_credential_process_survives_expiry(server, bucket, tmp_path, mode):
    cfg, count = write_profile(tmp_path, server, bucket, mode)
    env = clean_aws_env(tmp_path)
    env.update({"AWS_CONFIG_FILE": str(cfg), "AWS_PROFILE": "mayfly"})
    src = tmp_path / "a.txt"
    src.write_text("hello from the aws cli\n")

    def aws(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(AWS), *args], env=env, capture_output=True, text=True, timeout=120)

    put = aws("s3", "cp", str(src), f"s3://{bucket}/up/a.txt")
    assert put.returncode == 0, put.stderr
    first = invocations(count)
    assert first >= 1
    tokens = minted_tokens(tmp_path)
    _, _, claims = decode_session_token(tokens[0])
    assert claims["exp"] - claims["iat"] == TTL and claims["bucket"] == bucket
    sleep_past(claims["exp"])

    got = aws("s3", "cp", f"s3://{bucket}/up/a.txt", "-")
    assert got.returncode == 0, got.stderr
    assert got.stdout == "hello from the aws cli\n"
    assert invocations(count) > first, "the AWS CLI did not fetch a new credential"
    later = minted_tokens(tmp_path)[-1]
    assert later != tokens[0]
    assert decode_session_token(later)[2]["iat"] > claims["exp"] - TTL

    # Out of scope through the same profile: refused.
    denied = aws("s3", "cp", str(src), f"s3://{bucket}/other/a.txt")
    assert denied.returncode != 0 and "AccessDenied" in denied.stderr, denied.stderr


@pytest.mark.parametrize("mode", ["remote", "local"])
def test_boto3_session_with_credential_process_refreshes_by_itself(server, bucket, tmp_path, mode, monkeypatch):
    cfg, count = write_profile(tmp_path, server, bucket, mode)
    for k in list(os.environ):
        if k.startswith("AWS_"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(cfg))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))

    session = boto3.Session(profile_name="mayfly")
    s3 = session.client("s3", config=Config(retries={"max_attempts": 1}))
    s3.put_object(Bucket=bucket, Key="up/a.txt", Body=b"one")
    creds = session.get_credentials()
    first = creds.get_frozen_credentials()
    n_first = invocations(count)
    assert n_first >= 1
    _, _, claims = decode_session_token(first.token)
    assert claims["exp"] - claims["iat"] == TTL
    sleep_past(claims["exp"])
    assert_expired({"access_key": first.access_key, "secret_key": first.secret_key, "token": first.token}, server, bucket)

    # The same client, no manual refresh: botocore runs the credential_process again.
    body = s3.get_object(Bucket=bucket, Key="up/a.txt")["Body"].read()
    assert body == b"one"
    assert invocations(count) > n_first, "boto3 did not run the credential_process again"
    second = creds.get_frozen_credentials()
    assert second.token != first.token
    assert decode_session_token(second.token)[2]["exp"] > claims["exp"]
    assert second.token in minted_tokens(tmp_path)

    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="other/a.txt", Body=b"x")
    assert e.value.response["Error"]["Code"] == "AccessDenied"


@pytest.mark.parametrize("mode", ["remote", "local"])
def test_eval_env_format_then_aws_s3_cp(server, bucket, tmp_path, mode):
    args = mint_args(server, bucket, mode, tmp_path, "--ttl", "600", "--format", "env")
    if mode == "remote":
        args += ["--endpoint", server.s3_url]
    env = clean_aws_env(tmp_path)
    if mode == "remote":
        env.update(api_env(server))
    src = tmp_path / "it's here.txt"
    src.write_text("from bash\n")
    mint_cmd = shlex.join([str(MAYFLY_BIN), *args])
    script = f"""
set -euo pipefail
eval "$({mint_cmd})"
test "$AWS_REGION" = auto
test "$AWS_ENDPOINT_URL" = "{server.s3_url}"
aws s3 cp --only-show-errors "$SRC" "s3://{bucket}/up/from-bash.txt"
aws s3 cp --only-show-errors "s3://{bucket}/up/from-bash.txt" -
if out=$(aws s3 cp --only-show-errors "$SRC" "s3://{bucket}/elsewhere.txt" 2>&1); then echo "out of scope write succeeded"; exit 1; fi
case "$out" in *AccessDenied*) ;; *) echo "unexpected: $out"; exit 1;; esac
"""
    env["SRC"] = str(src)
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == "from bash\n", done.stdout

    # The printed lines themselves: export NAME=value, one per variable, nothing else.
    out = run_mayfly(*args, env=api_env(server) if mode == "remote" else {})
    assert out.returncode == 0, out.stderr
    names = [l.split("=", 1)[0] for l in out.stdout.splitlines()]
    assert names == ["export AWS_ACCESS_KEY_ID", "export AWS_SECRET_ACCESS_KEY", "export AWS_SESSION_TOKEN",
                     "export AWS_ENDPOINT_URL", "export AWS_REGION", "export AWS_DEFAULT_REGION"]
    assert "export AWS_REGION=auto" in out.stdout.splitlines()


def test_env_format_quotes_unsafe_values_for_the_shell(server, tmp_path):
    """An endpoint with shell metacharacters survives eval unchanged and runs nothing."""
    marker = tmp_path / "pwned"
    endpoint = f"http://127.0.0.1:1/x'$(touch {marker})`id`;echo"
    out = run_mayfly("creds", "mint", "--local", "--bucket", "b1c", "--permission", "object-read-only",
                     "--parent-key-id", server.access_key_id, "--account-id", server.account_id,
                     "--endpoint", endpoint, "--format", "env",
                     env={"MAYFLY_PARENT_SECRET": server.secret_access_key})
    assert out.returncode == 0, out.stderr
    done = subprocess.run(["bash", "-c", 'eval "$MINTED"; printf %s "$AWS_ENDPOINT_URL"'],
                          env={"MINTED": out.stdout, "PATH": os.environ["PATH"]},
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout == endpoint
    assert not marker.exists()


def test_local_tokens_are_honoured_in_scope_and_refused_out_of_scope(server, bucket, api):

    def mint(*extra: str, secret: str | None = None, key_id: str | None = None) -> dict:
        out = run_mayfly("creds", "mint", "--local", "--format", "json", "--bucket", bucket,
                         "--parent-key-id", key_id or server.access_key_id,
                         "--account-id", server.account_id, "--endpoint", server.s3_url, *extra,
                         env={"MAYFLY_PARENT_SECRET": secret or server.secret_access_key})
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    def client(c: dict):
        return s3_client(c["accessKeyId"], c["secretAccessKey"], c["sessionToken"], server.s3_url)

    def code(fn) -> str:
        with pytest.raises(ClientError) as e:
            fn()
        return e.value.response["Error"]["Code"]

    rw = client(mint("--permission", "object-read-write", "--prefix", "up/", "--object", "exact.txt"))
    rw.put_object(Bucket=bucket, Key="up/1.txt", Body=b"1")
    rw.put_object(Bucket=bucket, Key="exact.txt", Body=b"2")
    assert rw.get_object(Bucket=bucket, Key="up/1.txt")["Body"].read() == b"1"
    assert [o["Key"] for o in rw.list_objects_v2(Bucket=bucket, Prefix="up/")["Contents"]] == ["up/1.txt"]
    assert code(lambda: rw.put_object(Bucket=bucket, Key="down/1.txt", Body=b"x")) == "AccessDenied"
    assert code(lambda: rw.get_object(Bucket=bucket, Key="exact.txt.bak")) == "AccessDenied"

    ro = client(mint("--permission", "object-read-only"))
    assert ro.get_object(Bucket=bucket, Key="exact.txt")["Body"].read() == b"2"
    assert code(lambda: ro.put_object(Bucket=bucket, Key="up/2.txt", Body=b"x")) == "AccessDenied"

    # --action narrows: GetObject only, so listing and heads are refused.
    get_only = client(mint("--permission", "object-read-write", "--action", "GetObject"))
    assert get_only.get_object(Bucket=bucket, Key="up/1.txt")["Body"].read() == b"1"
    assert code(lambda: get_only.list_objects_v2(Bucket=bucket)) == "AccessDenied"
    assert code(lambda: get_only.put_object(Bucket=bucket, Key="up/3.txt", Body=b"x")) == "AccessDenied"

    # Another bucket: refused.
    other = f"{bucket}-x"[:63]
    r = requests.post(f"{server.api_url}/accounts/{server.account_id}/r2/buckets",
                      json={"name": other}, headers=server.headers(), timeout=30)
    assert r.status_code == 200, r.text
    assert code(lambda: rw.put_object(Bucket=other, Key="up/1.txt", Body=b"x")) == "AccessDenied"

    # Already expired (issued 2000 s ago for 900 s): ExpiredToken.
    old = client(mint("--permission", "object-read-only", "--issued-at", str(int(time.time()) - 2000)))
    assert code(lambda: old.get_object(Bucket=bucket, Key="exact.txt")) == "ExpiredToken"

    # Signed with the wrong secret, or for another endpoint (Cloudflare's, the default): refused.
    forged = client(mint("--permission", "object-read-only", secret="0" * 64))
    assert code(lambda: forged.get_object(Bucket=bucket, Key="exact.txt")) in ("AccessDenied", "SignatureDoesNotMatch")
    out = run_mayfly("creds", "mint", "--local", "--format", "json", "--bucket", bucket, "--permission",
                     "object-read-only", "--parent-key-id", server.access_key_id, "--account-id",
                     server.account_id, env={"MAYFLY_PARENT_SECRET": server.secret_access_key})
    assert out.returncode == 0, out.stderr
    elsewhere = json.loads(out.stdout)
    assert elsewhere["endpoint"] == f"https://{server.account_id}.r2.cloudflarestorage.com"
    assert code(lambda: client(elsewhere).get_object(Bucket=bucket, Key="exact.txt")) in ("AccessDenied", "SignatureDoesNotMatch")

    # A read-only parent cannot be exceeded by minting read-write locally.
    parent = create_token(api, server.account_id, "object-read-only", [bucket], name="ro-parent")
    weak = client(mint("--permission", "object-read-write", secret=parent["secret_access_key"], key_id=parent["id"]))
    assert weak.get_object(Bucket=bucket, Key="exact.txt")["Body"].read() == b"2"
    assert code(lambda: weak.put_object(Bucket=bucket, Key="up/4.txt", Body=b"x")) == "AccessDenied"


def test_remote_mint_reports_api_errors_and_needs_no_secret(server, bucket, tmp_path):
    env = api_env(server)
    # No --parent-key-id: the API token making the call is the parent.
    own = run_mayfly("creds", "mint", "--bucket", bucket, "--permission", "object-read-only", "--json", env=env)
    assert own.returncode == 0, own.stderr
    assert json.loads(own.stdout)["accessKeyId"] == server.access_key_id
    assert decode_session_token(json.loads(own.stdout)["sessionToken"])[2]["iss"] == server.access_key_id
    ok = run_mayfly("creds", "mint", "--bucket", bucket, "--permission", "object-read-only",
                    "--parent-key-id", server.access_key_id, "--ttl", "60", "--format", "json", env=env)
    assert ok.returncode == 0, ok.stderr
    c = json.loads(ok.stdout)
    assert c["endpoint"] == server.s3_url
    _, _, claims = decode_session_token(c["sessionToken"])
    assert c["expiration"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(claims["exp"]))

    missing = run_mayfly("creds", "mint", "--bucket", "no-such-bucket-here", "--permission", "object-read-only",
                         "--parent-key-id", server.access_key_id, env=env)
    assert missing.returncode == 1 and "10006" in missing.stderr, missing.stderr
    assert missing.stdout == ""
    secret_flag = run_mayfly("creds", "mint", "--bucket", bucket, "--permission", "object-read-only",
                             "--parent-key-id", server.access_key_id, "--parent-secret", "0" * 64, env=env)
    assert secret_flag.returncode == 1 and "--local" in secret_flag.stderr
    assert "0" * 64 not in secret_flag.stderr
