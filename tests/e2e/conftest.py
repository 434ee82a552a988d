"""Fixtures for Mayfly end-to-end tests.

Nothing here builds: `scripts/test` runs `cargo build --workspace --bins` first, and the
fixtures run the binary it produced (`MAYFLY_BIN`, default `<repo>/target/debug/mayfly`).

* `server` (session): `mayfly init --json` into a temp data dir, then
  `mayfly serve --api-listen 127.0.0.1:0 --s3-listen 127.0.0.1:0 --ready-file F`; yields a
  `Server` with api_url, s3_url, account_id, api_token, access_key_id, secret_access_key,
  data_dir. Teardown sends SIGTERM and asserts exit code 0.
* `start_server(data_dir)` (function): the same for tests that need their own server.

Cluster mode (`MAYFLY_E2E_CLUSTER=1`, needs `MAYFLY_TEST_PG_URL`): `server` is instead a
`mayfly-cluster` process (built next to the mayfly binary from crates/e2e): two
`mayfly serve --metadata postgres://... --blobs s3://...` nodes on a fresh database and an
upstream Mayfly, behind round-robin load balancers; api_url and s3_url are the balancers',
stderr_path holds every node's log. Teardown also asserts that each node served API and S3
connections. Tests that need one local process of their own (init, the banner, restarts, config
files) are marked `single_node`; scripts/test deselects them with `-m "not single_node"`, and
`start_server` refuses to run in cluster mode.
* `bucket` (function): a fresh bucket per test, created through the API.
* `cf` (function): an official `cloudflare.Cloudflare` client pointed at the server, whose
  every response body is validated against tests/fixtures/api-schema.json and parsed with the
  SDK's own typed models (schema.py).
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator

import httpx
import pytest
import requests

import schema

REPO = Path(__file__).resolve().parents[2]
MAYFLY_BIN = Path(os.environ.get("MAYFLY_BIN", REPO / "target" / "debug" / "mayfly"))
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 30.0
CLUSTER = os.environ.get("MAYFLY_E2E_CLUSTER") == "1"
CLUSTER_BIN = Path(os.environ.get("MAYFLY_CLUSTER_BIN", MAYFLY_BIN.parent / "mayfly-cluster"))
CLUSTER_READY_TIMEOUT_S = 120.0
CLUSTER_CONNECTIONS: list = []  # filled at the cluster's teardown, shown in the summary


def run_mayfly(*args: str, env: dict | None = None, check: bool = False, timeout: float = 60) -> subprocess.CompletedProcess:
    """Runs the mayfly binary to completion and returns the completed process (text mode)."""
    if not MAYFLY_BIN.exists():
        pytest.fail(f"{MAYFLY_BIN} not found: run scripts/test (it builds first) or set MAYFLY_BIN")
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("MAYFLY_", "CLOUDFLARE_"))}
    full_env.update(env or {})
    return subprocess.run(
        [str(MAYFLY_BIN), *args],
        capture_output=True,
        text=True,
        env=full_env,
        check=check,
        timeout=timeout,
    )


@dataclasses.dataclass
class Server:
    """A running `mayfly serve` process and the credentials of its data directory."""

    api_url: str
    s3_url: str
    account_id: str
    api_token: str
    token_id: str
    access_key_id: str
    secret_access_key: str
    data_dir: Path
    proc: subprocess.Popen
    stdout_path: Path
    stderr_path: Path

    @property
    def base(self) -> str:
        """The API listener's root (where /healthz and /metrics live)."""
        return self.api_url.removesuffix("/client/v4")

    def headers(self, token: str | None = None) -> dict:
        return {"Authorization": f"Bearer {token or self.api_token}"}

    def stdout(self) -> str:
        return self.stdout_path.read_text()

    def stop(self) -> int:
        """SIGTERM, then wait; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail("mayfly did not exit within 30 s of SIGTERM")
            raise


def init_data_dir(data_dir: Path) -> dict:
    """`mayfly init --json`; returns the printed credentials."""
    done = run_mayfly("init", "--data-dir", str(data_dir), "--json")
    assert done.returncode == 0, f"init failed: {done.stderr}"
    creds = json.loads(done.stdout)
    assert set(creds) == {"account_id", "api_token", "token_id", "access_key_id", "secret_access_key"}
    return creds


def spawn_server(data_dir: Path, creds: dict | None, extra_args: tuple[str, ...] = ()) -> Server:
    """Starts `mayfly serve` on port 0 and waits for the ready file."""
    run_dir = Path(tempfile.mkdtemp(prefix="mayfly-run-"))
    ready = run_dir / "ready.json"
    out, err = run_dir / "stdout.txt", run_dir / "stderr.txt"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAYFLY_", "CLOUDFLARE_"))}
    with open(out, "w") as o, open(err, "w") as e:
        proc = subprocess.Popen(
            [
                str(MAYFLY_BIN), "serve",
                "--data-dir", str(data_dir),
                "--api-listen", "127.0.0.1:0",
                "--s3-listen", "127.0.0.1:0",
                "--ready-file", str(ready),
                *extra_args,
            ],
            stdout=o, stderr=e, env=env, stdin=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not ready.exists():
        if proc.poll() is not None:
            pytest.fail(f"mayfly serve exited with {proc.returncode}: {err.read_text()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"mayfly serve not ready after {READY_TIMEOUT_S}s: {err.read_text()}")
        time.sleep(0.02)
    info = json.loads(ready.read_text())
    assert info["pid"] == proc.pid
    assert info["api_url"].endswith("/client/v4")
    creds = creds or {"account_id": "", "api_token": "", "token_id": "", "access_key_id": "", "secret_access_key": ""}
    return Server(
        api_url=info["api_url"], s3_url=info["s3_url"],
        account_id=creds["account_id"], api_token=creds["api_token"], token_id=creds["token_id"],
        access_key_id=creds["access_key_id"], secret_access_key=creds["secret_access_key"],
        data_dir=data_dir, proc=proc, stdout_path=out, stderr_path=err,
    )


def spawn_cluster(run_dir: Path) -> Server:
    """Starts `mayfly-cluster` and waits for its ready file; the `Server` names the balancers."""
    if not os.environ.get("MAYFLY_TEST_PG_URL"):
        pytest.fail("MAYFLY_E2E_CLUSTER=1 needs MAYFLY_TEST_PG_URL (scripts/pg-test-server run ...)")
    if not CLUSTER_BIN.exists():
        pytest.fail(f"{CLUSTER_BIN} not found: run `cargo build -p mayfly-e2e` (scripts/test does)")
    ready = run_dir / "cluster.json"
    out, err, logs = run_dir / "stdout.txt", run_dir / "stderr.txt", run_dir / "nodes.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAYFLY_", "CLOUDFLARE_"))}
    env["MAYFLY_TEST_PG_URL"] = os.environ["MAYFLY_TEST_PG_URL"]
    env["MAYFLY_BIN"] = str(MAYFLY_BIN)
    with open(out, "w") as o, open(err, "w") as e:
        proc = subprocess.Popen(
            [str(CLUSTER_BIN), "--ready-file", str(ready), "--log-file", str(logs), "--nodes", "2"],
            stdout=o, stderr=e, env=env, stdin=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + CLUSTER_READY_TIMEOUT_S
    while not ready.exists():
        if proc.poll() is not None:
            pytest.fail(f"mayfly-cluster exited with {proc.returncode}: {err.read_text()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"mayfly-cluster not ready after {CLUSTER_READY_TIMEOUT_S}s: {err.read_text()}")
        time.sleep(0.05)
    info = json.loads(ready.read_text())
    assert info["pid"] == proc.pid and len(info["nodes"]) == 2
    return Server(
        api_url=info["api_url"], s3_url=info["s3_url"],
        account_id=info["account_id"], api_token=info["api_token"], token_id=info["token_id"],
        access_key_id=info["access_key_id"], secret_access_key=info["secret_access_key"],
        data_dir=run_dir, proc=proc, stdout_path=out, stderr_path=logs,
    )


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[Server]:
    if CLUSTER:
        srv = spawn_cluster(tmp_path_factory.mktemp("mayfly-cluster"))
        yield srv
        code = srv.stop()
        assert code == 0, f"mayfly-cluster exited {code} after SIGTERM: {srv.stderr_path.read_text()[-2000:]}"
        # The last stdout line: {"connections": [[api, s3], ...]} per node, through the balancers.
        conns = json.loads(srv.stdout().strip().splitlines()[-1])["connections"]
        CLUSTER_CONNECTIONS.extend(conns)
        assert all(api > 0 and s3 > 0 for api, s3 in conns), f"a node served no traffic: {conns}"
        return
    data_dir = tmp_path_factory.mktemp("mayfly") / "data"
    creds = init_data_dir(data_dir)
    srv = spawn_server(data_dir, creds)
    yield srv
    code = srv.stop()
    assert code == 0, f"mayfly serve exited {code} after SIGTERM: {srv.stderr_path.read_text()[-2000:]}"


@pytest.fixture
def start_server(request) -> Iterator[Callable[..., Server]]:
    """Starts extra servers; each is stopped (and checked for exit 0) at teardown."""
    if CLUSTER:
        pytest.fail(f"{request.node.nodeid} starts its own server: mark it single_node")
    started: list[Server] = []

    def start(data_dir: Path, creds: dict | None = None, *extra: str) -> Server:
        srv = spawn_server(data_dir, creds, tuple(extra))
        started.append(srv)
        return srv

    yield start
    for srv in started:
        if srv.proc.poll() is None:
            assert srv.stop() == 0


def unique_bucket_name(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:20]}"


@pytest.fixture
def bucket(server: Server) -> Iterator[str]:
    """A fresh, empty bucket for one test."""
    name = unique_bucket_name()
    r = requests.post(
        f"{server.api_url}/accounts/{server.account_id}/r2/buckets",
        json={"name": name}, headers=server.headers(), timeout=30,
    )
    assert r.status_code == 200, r.text
    schema.check_response("POST", f"/accounts/{server.account_id}/r2/buckets", r.status_code, r.json())
    yield name


def schema_hook(response: httpx.Response) -> None:
    """httpx response hook: validate every API body the SDK receives."""
    response.read()
    path = response.request.url.path
    prefix = "/client/v4"
    if path.startswith(prefix):
        path = path[len(prefix):]
    schema.check_response(response.request.method, path, response.status_code, response.json())


@pytest.fixture
def cf(server: Server):
    """The official Cloudflare SDK, pointed at Mayfly, validating every body it sees."""
    from cloudflare import Cloudflare

    http = httpx.Client(event_hooks={"response": [schema_hook]})
    client = Cloudflare(api_token=server.api_token, base_url=server.api_url, http_client=http)
    yield client
    client.close()


@pytest.fixture
def api(server: Server):
    """Raw HTTP against the API with schema validation of every response."""
    return schema.CheckedSession(server)


def pytest_terminal_summary(terminalreporter):
    """Shows how many API bodies were checked against the schema and the SDK's models, by kind."""
    if CLUSTER_CONNECTIONS:
        terminalreporter.section("cluster")
        for i, (api, s3) in enumerate(CLUSTER_CONNECTIONS):
            terminalreporter.write_line(f"node {i}: {api} API and {s3} S3 connections through the balancers")
    if schema.SEEN:
        terminalreporter.section("API schema and SDK model checks")
        for what, n in sorted(schema.SEEN.items()):
            terminalreporter.write_line(f"{n:5d}  {what}")
