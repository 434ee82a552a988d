"""Start and stop a throwaway Mayfly (`mayfly serve --ephemeral --exit-on-stdin-eof`).

Everything here uses the standard library only, so the fixtures work with any version of the
`cloudflare` and `boto3` packages a project already pins.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import os
import shutil
import subprocess
import sysconfig
import tempfile
import threading
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Iterable, Mapping

READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
WHEEL_DISTRIBUTION = "mayfly-server"

PERMISSIONS = ("admin-read-write", "admin-read-only", "object-read-write", "object-read-only")


class MayflyError(RuntimeError):
    """Mayfly could not be found or started, or an API call failed."""


def find_binary() -> str:
    """The `mayfly` executable: `MAYFLY_BIN`, then `PATH`, then the `mayfly-server` wheel."""
    explicit = os.environ.get("MAYFLY_BIN")
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise MayflyError(f"MAYFLY_BIN={explicit} is not an executable file")
        return explicit
    on_path = shutil.which("mayfly")
    if on_path:
        return on_path
    wheel = _wheel_binary()
    if wheel:
        return wheel
    raise MayflyError(
        "no mayfly binary: set MAYFLY_BIN, put `mayfly` on PATH, or "
        "`pip install mayfly-server` (the wheel that carries it)"
    )


def _wheel_binary() -> str | None:
    """The binary the `mayfly-server` wheel installed (a venv's bin/ need not be on PATH)."""
    try:
        files = importlib.metadata.files(WHEEL_DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for f in files:
        if f.name in ("mayfly", "mayfly.exe") and f.parent.name in ("bin", "Scripts"):
            path = Path(str(f.locate())).resolve()
            if os.access(path, os.X_OK):
                return str(path)
    scripts = Path(sysconfig.get_path("scripts")) / "mayfly"
    return str(scripts) if os.access(scripts, os.X_OK) else None


class Credentials(dict):
    """S3 credentials as `boto3.client("s3", **creds)` keyword arguments.

    Keys: `aws_access_key_id`, `aws_secret_access_key`, `aws_session_token` (temporary
    credentials only), `endpoint_url`, `region_name` (`auto`, as R2). `boto3_client()` builds
    the client with path-style addressing and no retries, so a denial shows up at once.
    """

    def boto3_client(self, **config: Any):
        import boto3
        from botocore.config import Config

        options = {"s3": {"addressing_style": "path"}, "retries": {"max_attempts": 1}}
        options.update(config)
        return boto3.client("s3", config=Config(**options), **self)


@dataclasses.dataclass(frozen=True)
class Account:
    """An account and an admin-read-write token in it (its id is also its S3 access key id)."""

    api_url: str
    s3_url: str
    account_id: str
    api_token: str
    access_key_id: str
    secret_access_key: str

    def s3_credentials(self) -> Credentials:
        """The admin token's own S3 key pair (long-lived, account-wide)."""
        return Credentials(
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            endpoint_url=self.s3_url,
            region_name="auto",
        )

    def cloudflare(self, **kwargs: Any):
        """An official `cloudflare.Cloudflare` client holding this account's admin token."""
        from cloudflare import Cloudflare

        return Cloudflare(api_token=self.api_token, base_url=self.api_url, **kwargs)

    def api(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """One v4 API call (`path` after `/client/v4`); returns `result`, raises on failure."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.api_url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.api_token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                envelope = json.load(response)
        except urllib.error.HTTPError as e:
            raise MayflyError(f"{method} {path}: HTTP {e.code}: {e.read().decode(errors='replace')}") from None
        if not envelope.get("success"):
            raise MayflyError(f"{method} {path}: {envelope.get('errors')}")
        return envelope["result"]

    def create_bucket(self, name: str | None = None) -> str:
        """Creates a bucket (a fresh unique name unless given) and returns its name."""
        name = name or f"test-{uuid.uuid4().hex[:20]}"
        self.api("POST", f"/accounts/{self.account_id}/r2/buckets", {"name": name})
        return name

    def mint(
        self,
        bucket: str,
        permission: str = "object-read-write",
        prefixes: Iterable[str] | None = None,
        objects: Iterable[str] | None = None,
        ttl: int = 900,
    ) -> Credentials:
        """Temporary credentials from `temp-access-credentials`, signed by this account's admin
        token, ready for boto3. `permission` is one of `PERMISSIONS`; `prefixes` and `objects`
        narrow them to key prefixes and exact keys; `ttl` is in seconds."""
        if permission not in PERMISSIONS:
            raise ValueError(f"permission must be one of {', '.join(PERMISSIONS)}")
        body: dict[str, Any] = {
            "bucket": bucket,
            "parentAccessKeyId": self.access_key_id,
            "permission": permission,
            "ttlSeconds": ttl,
        }
        if prefixes is not None:
            body["prefixes"] = list(prefixes)
        if objects is not None:
            body["objects"] = list(objects)
        result = self.api("POST", f"/accounts/{self.account_id}/r2/temp-access-credentials", body)
        return Credentials(
            aws_access_key_id=result["accessKeyId"],
            aws_secret_access_key=result["secretAccessKey"],
            aws_session_token=result["sessionToken"],
            endpoint_url=self.s3_url,
            region_name="auto",
        )


@dataclasses.dataclass(frozen=True)
class MayflyServer(Account):
    """A running ephemeral Mayfly: the account it was bootstrapped with, plus the process."""

    pid: int = 0
    process: subprocess.Popen | None = dataclasses.field(default=None, repr=False, compare=False)
    log_path: Path | None = None

    def new_account(self) -> Account:
        """A fresh, empty account with its own admin token (the testing API): a clean slate
        for one test in one request, isolated from every other account on this server."""
        r = self.api("POST", "/mayfly/accounts")
        return Account(
            api_url=self.api_url,
            s3_url=self.s3_url,
            account_id=r["account_id"],
            api_token=r["api_token"],
            access_key_id=r["access_key_id"],
            secret_access_key=r["secret_access_key"],
        )

    def logs(self) -> str:
        """What the server has logged so far (its stderr; removed after a clean stop)."""
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(errors="replace")
        return ""

    def stop(self) -> int:
        """Closes the server's stdin (it drains, removes its data and exits); returns the exit
        code. Idempotent."""
        proc = self.process
        if proc is None:
            return 0
        if proc.stdin and not proc.stdin.closed:
            proc.stdin.close()
        try:
            code = proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise MayflyError(f"mayfly (pid {proc.pid}) did not stop within {STOP_TIMEOUT_S}s") from None
        if code == 0 and self.log_path:
            # A clean stop leaves nothing behind; a failed one keeps its log for the report.
            self.log_path.unlink(missing_ok=True)
        return code

    def __enter__(self) -> "MayflyServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(binary: str | None = None, args: Iterable[str] = (), timeout: float = READY_TIMEOUT_S) -> MayflyServer:
    """Starts `mayfly serve --ephemeral --exit-on-stdin-eof` and waits for its JSON line.

    The server's stdin is a pipe only this process holds: if the test run dies, even by
    SIGKILL, the server notices and exits, removing its data. Logs go to a temporary file
    (`MayflyServer.logs()`)."""
    binary = binary or find_binary()
    log = tempfile.NamedTemporaryFile(prefix="mayfly-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [binary, "serve", "--ephemeral", "--exit-on-stdin-eof", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
    )
    log.close()
    line: list[bytes] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not line or not line[0].strip():
        proc.kill()
        proc.wait()
        raise MayflyError(
            f"{binary} serve --ephemeral printed no JSON line within {timeout}s "
            f"(exit code {proc.returncode}); log:\n{Path(log.name).read_text(errors='replace')[-4000:]}"
        )
    ready = json.loads(line[0])
    return MayflyServer(
        api_url=ready["api_url"],
        s3_url=ready["s3_url"],
        account_id=ready["account_id"],
        api_token=ready["api_token"],
        access_key_id=ready["access_key_id"],
        secret_access_key=ready["secret_access_key"],
        pid=ready["pid"],
        process=proc,
        log_path=Path(log.name),
    )
