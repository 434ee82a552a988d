"""`mayfly creds inspect` on tokens minted by a running Mayfly and by `creds mint --local`:
the fields shown equal what was minted, verification with the parent secret gives a clear
verdict (exit 1 when it fails), and malformed input gets a message, never a traceback."""

from __future__ import annotations

import base64
import json
import subprocess
import time

import pytest

from conftest import MAYFLY_BIN, run_mayfly
from jwt_util import decode_session_token


def api_env(server) -> dict:
    return {"CLOUDFLARE_BASE_URL": server.api_url, "CLOUDFLARE_API_TOKEN": server.api_token,
            "CLOUDFLARE_ACCOUNT_ID": server.account_id}


def inspect(*args: str, env: dict | None = None):
    return run_mayfly("creds", "inspect", *args, env=env)


@pytest.mark.parametrize("mode", ["remote", "local"])
def test_inspect_shows_what_was_minted_and_verifies_it(server, bucket, tmp_path, mode):
    args = ["creds", "mint", "--bucket", bucket, "--permission", "object-read-only", "--prefix", "logs/",
            "--prefix", "tmp/", "--object", "docs/a b.txt", "--parent-key-id", server.access_key_id,
            "--ttl", "1234", "--format", "json"]
    env = api_env(server)
    if mode == "local":
        args += ["--local", "--endpoint", server.s3_url, "--action", "GetObject", "--action", "HeadObject"]
        env = {"CLOUDFLARE_ACCOUNT_ID": server.account_id, "MAYFLY_PARENT_SECRET": server.secret_access_key}
    before = int(time.time())
    minted = run_mayfly(*args, env=env)
    assert minted.returncode == 0, minted.stderr
    token = json.loads(minted.stdout)["sessionToken"]
    _, _, claims = decode_session_token(token)

    shown_run = inspect("--json", token)
    assert shown_run.returncode == 0, shown_run.stderr
    shown = json.loads(shown_run.stdout)
    assert shown["bucket"] == bucket == claims["bucket"]
    assert shown["permission"] == "object-read-only" == claims["scope"]
    assert shown["actions"] == (["GetObject", "HeadObject"] if mode == "local" else [])
    assert shown["actions"] == claims.get("actions", [])
    assert shown["prefixes"] == ["logs/", "tmp/"] == claims["paths"]["prefixPaths"]
    assert shown["objects"] == ["docs/a b.txt"] == claims["paths"]["objectPaths"]
    assert shown["issuer"] == server.access_key_id == claims["iss"]
    assert shown["account"] == server.account_id == claims["sub"]
    assert shown["audience"] == server.s3_url.removeprefix("http://") == claims["aud"]
    assert shown["issued_at"] == claims["iat"] and before - 5 <= claims["iat"] <= time.time() + 5
    assert shown["expires_at"] == claims["exp"] == claims["iat"] + 1234
    assert shown["expires"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(claims["exp"]))
    assert 1200 <= shown["seconds_left"] <= 1234 and shown["expired"] is False
    assert shown["verification"] == {"checked": False, "valid": None}

    # Verified with the parent's secret from a file, issuer and audience pinned: VALID, exit 0.
    secret = tmp_path / "secret"
    secret.write_text(server.secret_access_key)
    ok = inspect(token, "--parent-secret-file", str(secret), "--parent-key-id", server.access_key_id,
                 "--endpoint", server.s3_url)
    assert ok.returncode == 0, ok.stderr
    assert "verdict:     VALID" in ok.stdout
    assert f"bucket:      {bucket}" in ok.stdout and "time left:   20m" in ok.stdout
    assert token not in ok.stdout + ok.stderr and server.secret_access_key not in ok.stdout + ok.stderr

    # Another token's secret: INVALID, exit 1, the reason named.
    other = run_mayfly("token", "create", "--permission", "object-read-only", "--json", env=api_env(server))
    assert other.returncode == 0, other.stderr
    wrong = json.loads(other.stdout)["secret_access_key"]
    bad = inspect(token, env={"MAYFLY_PARENT_SECRET": wrong})
    assert bad.returncode == 1
    assert "verdict:     INVALID: token signature does not verify" in bad.stdout
    assert "does not verify" in bad.stderr
    mismatch = inspect("--json", token, "--parent-key-id", json.loads(other.stdout)["id"],
                       env={"MAYFLY_PARENT_SECRET": server.secret_access_key})
    assert mismatch.returncode == 1
    assert json.loads(mismatch.stdout)["verification"]["error"] == "issuer_mismatch"


def test_inspect_reads_stdin_and_the_environment(server, bucket):
    minted = run_mayfly("creds", "mint", "--bucket", bucket, "--permission", "object-read-write",
                        "--parent-key-id", server.access_key_id, "--ttl", "300", "--format", "credential-process",
                        env=api_env(server))
    assert minted.returncode == 0, minted.stderr
    c = json.loads(minted.stdout)
    assert c["Version"] == 1 and set(c) == {"Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
    piped = subprocess.run([str(MAYFLY_BIN), "creds", "inspect", "--json", "-"], input=c["SessionToken"] + "\n",
                           capture_output=True, text=True, timeout=30)
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["expires"] == c["Expiration"]
    from_env = inspect(env={"AWS_SESSION_TOKEN": c["SessionToken"]})
    assert from_env.returncode == 0, from_env.stderr
    assert "whole bucket" in from_env.stdout and "object-read-write" in from_env.stdout


def test_expired_token_fails_verification_but_still_decodes(server, bucket):
    old = run_mayfly("creds", "mint", "--local", "--bucket", bucket, "--permission", "object-read-only",
                     "--parent-key-id", server.access_key_id, "--account-id", server.account_id,
                     "--endpoint", server.s3_url, "--issued-at", str(int(time.time()) - 4000), "--ttl", "3600",
                     "--format", "json", env={"MAYFLY_PARENT_SECRET": server.secret_access_key})
    assert old.returncode == 0, old.stderr
    token = json.loads(old.stdout)["sessionToken"]
    decoded = inspect(token)
    assert decoded.returncode == 0 and "expired 6m" in decoded.stdout and "NOT VERIFIED" in decoded.stdout
    verified = inspect("--json", token, env={"MAYFLY_PARENT_SECRET": server.secret_access_key})
    assert verified.returncode == 1
    v = json.loads(verified.stdout)
    assert v["expired"] is True and v["seconds_left"] < -390
    assert v["verification"]["error"] == "expired"


@pytest.mark.parametrize("text,message", [
    ("definitely not a token", "is not base64"),
    (base64.b64encode(b"jwt/only.two").decode(), "is not base64"),
    (base64.b64encode(b'jwt/eyJhbGciOiJub25lIn0.e30.').decode(), "unsupported JWT header"),
    ("QUFB" * 9000, "too large"),
])
def test_malformed_tokens_get_a_clear_message(text, message):
    done = inspect(text)
    assert done.returncode == 1
    assert "cannot decode the session token" in done.stderr and message in done.stderr, done.stderr
    assert "panicked" not in done.stderr and "RUST_BACKTRACE" not in done.stderr
    assert done.stdout == ""


def test_help_has_examples():
    for cmd in (["creds", "mint"], ["creds", "create"], ["creds", "inspect"]):
        done = run_mayfly(*cmd, "--help")
        assert done.returncode == 0
        assert "Examples:" in done.stdout and "mayfly creds " in done.stdout
