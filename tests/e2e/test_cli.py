"""`mayfly init` / `mayfly serve` behaviour and the API client subcommands."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
import requests

from conftest import init_data_dir, run_mayfly, unique_bucket_name


def snapshot(data_dir):
    """Name, size and content hash of every file (except the lock) under data_dir."""
    out = {}
    for p in sorted(data_dir.rglob("*")):
        if p.is_file() and p.name != "lock":
            out[str(p.relative_to(data_dir))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.mark.single_node
def test_init_prints_credentials_and_second_init_fails_changing_nothing(tmp_path):
    data = tmp_path / "data"
    creds = init_data_dir(data)
    assert re.fullmatch(r"[0-9a-f]{32}", creds["account_id"])
    assert creds["access_key_id"] == creds["token_id"]
    assert creds["secret_access_key"] == hashlib.sha256(creds["api_token"].encode()).hexdigest()
    before = snapshot(data)
    again = run_mayfly("init", "--data-dir", str(data), "--json")
    assert again.returncode != 0
    assert "already initialised" in again.stderr
    assert again.stdout == ""
    assert snapshot(data) == before


@pytest.mark.single_node
def test_serve_bootstraps_empty_dir_once_and_never_prints_again(tmp_path, start_server):
    data = tmp_path / "fresh"
    first = start_server(data)
    assert first.stop() == 0
    out = first.stdout()
    assert first.api_url in out and first.s3_url in out
    token = re.search(r"api_token:\s+(\S+)", out)
    account = re.search(r"account_id:\s+([0-9a-f]{32})", out)
    assert token and account, out

    second = start_server(data)
    r = requests.get(f"{second.api_url}/accounts/{account.group(1)}/r2/buckets",
                     headers={"Authorization": f"Bearer {token.group(1)}"}, timeout=10)
    assert r.status_code == 200, r.text
    assert second.stop() == 0
    out2 = second.stdout()
    assert "api_token" not in out2 and token.group(1) not in out2
    assert second.api_url in out2


@pytest.mark.single_node
def test_sigterm_exits_zero_and_removes_ready_file(tmp_path, start_server):
    srv = start_server(tmp_path / "d")
    assert srv.stop() == 0


def test_healthz_and_metrics(server):
    # One keep-alive connection: behind a balancer (cluster mode) all three reach one node.
    http = requests.Session()
    r = http.get(f"{server.base}/healthz", timeout=10)
    assert r.status_code == 200
    http.get(f"{server.api_url}/accounts/{server.account_id}/r2/buckets", headers=server.headers(), timeout=10)
    m = http.get(f"{server.base}/metrics", timeout=10)
    assert m.status_code == 200
    assert m.headers["content-type"].startswith("text/plain")
    assert "# TYPE mayfly_http_requests_total counter" in m.text
    assert re.search(r'mayfly_http_requests_total\{[^}]*route="/client/v4/accounts/\{account_id\}/r2/buckets"[^}]*\} \d+', m.text)
    assert "mayfly_http_request_duration_seconds_bucket" in m.text
    # No ids, tokens or keys leak into labels.
    assert server.account_id not in m.text and server.api_token not in m.text


def test_logs_never_contain_secrets(server, cf, bucket):
    cf.r2.temporary_credentials.create(account_id=server.account_id, bucket=bucket,
                                       parent_access_key_id=server.access_key_id,
                                       permission="object-read-only", ttl_seconds=60)
    logs = server.stderr_path.read_text()
    assert server.api_token not in logs
    assert server.secret_access_key not in logs
    assert "Bearer" not in logs


def cli_env(server):
    return {"CLOUDFLARE_BASE_URL": server.api_url, "CLOUDFLARE_API_TOKEN": server.api_token,
            "CLOUDFLARE_ACCOUNT_ID": server.account_id}


def test_cli_bucket_and_token_commands(server):
    env = cli_env(server)
    name = unique_bucket_name("cli")
    done = run_mayfly("bucket", "create", name, env=env)
    assert done.returncode == 0, done.stderr
    listed = run_mayfly("bucket", "list", "--json", env=env)
    assert name in [b["name"] for b in json.loads(listed.stdout)]

    made = run_mayfly("token", "create", "--permission", "object-read-only", "--bucket", name, "--name", "cli-test", "--json", env=env)
    assert made.returncode == 0, made.stderr
    tok = json.loads(made.stdout)
    assert set(tok) >= {"id", "value", "access_key_id", "secret_access_key"}
    assert tok["secret_access_key"] == hashlib.sha256(tok["value"].encode()).hexdigest()

    listed = json.loads(run_mayfly("token", "list", "--json", env=env).stdout)
    mine = [t for t in listed if t["id"] == tok["id"]]
    assert mine and mine[0]["permission"] == "object-read-only" and mine[0]["buckets"] == [name]

    creds = run_mayfly("creds", "create", "--bucket", name, "--parent-access-key-id", tok["id"],
                       "--permission", "object-read-only", "--ttl", "60", "--json",
                       env={**env, "CLOUDFLARE_API_TOKEN": tok["value"]})
    assert creds.returncode == 0, creds.stderr
    assert json.loads(creds.stdout)["accessKeyId"] == tok["id"]

    assert run_mayfly("token", "revoke", tok["id"], env=env).returncode == 0
    listed = json.loads(run_mayfly("token", "list", "--json", env=env).stdout)
    assert [t["status"] for t in listed if t["id"] == tok["id"]] == ["disabled"]

    assert run_mayfly("bucket", "delete", name, env=env).returncode == 0


def test_cli_reports_api_errors_and_exits_nonzero(server):
    env = cli_env(server)
    done = run_mayfly("bucket", "delete", unique_bucket_name("nope"), env=env)
    assert done.returncode == 1
    assert "10006" in done.stderr
    bad = run_mayfly("bucket", "list", env={**env, "CLOUDFLARE_API_TOKEN": "wrong"})
    assert bad.returncode == 1 and "401" in bad.stderr
    usage = run_mayfly("token", "create")
    assert usage.returncode == 2


@pytest.mark.single_node
def test_help_teaches_with_examples():
    done = run_mayfly("--help")
    assert done.returncode == 0
    assert "Examples:" in done.stdout and "mayfly serve" in done.stdout
    assert "Examples:" in run_mayfly("serve", "--help").stdout


@pytest.mark.single_node
def test_config_file_sets_public_host_audience_and_json_logs(tmp_path, start_server):
    from jwt_util import decode_session_token

    data = tmp_path / "cfg-data"
    creds = init_data_dir(data)
    cfg = tmp_path / "mayfly.toml"
    cfg.write_text('public_s3_hosts = ["r2.mayfly.test"]\nlog_format = "json"\n')
    srv = start_server(data, creds, "--config", str(cfg))
    h = {"Authorization": f"Bearer {creds['api_token']}"}
    name = unique_bucket_name("cfg")
    r = requests.post(f"{srv.api_url}/accounts/{creds['account_id']}/r2/buckets", json={"name": name}, headers=h, timeout=10)
    assert r.status_code == 200, r.text
    r = requests.post(
        f"{srv.api_url}/accounts/{creds['account_id']}/r2/temp-access-credentials",
        json={"bucket": name, "parentAccessKeyId": creds["access_key_id"], "permission": "object-read-only", "ttlSeconds": 60},
        headers=h, timeout=10,
    )
    assert r.status_code == 200, r.text
    _, _, claims = decode_session_token(r.json()["result"]["sessionToken"])
    assert claims["aud"] == "r2.mayfly.test"
    assert srv.stop() == 0
    lines = [l for l in srv.stderr_path.read_text().splitlines() if l.strip()]
    assert lines and all(json.loads(l)["level"] for l in lines)
    assert creds["api_token"] not in srv.stderr_path.read_text()


@pytest.mark.single_node
def test_bad_config_file_fails_fast(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('data_dri = "typo"\n')
    done = run_mayfly("serve", "--config", str(cfg), "--data-dir", str(tmp_path / "d"), timeout=30)
    assert done.returncode == 1
    assert "invalid config file" in done.stderr
