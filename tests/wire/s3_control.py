"""Steers s3_capture_server.py from the Python drivers (s3_boto3.py, s3_awscli.py)."""

from __future__ import annotations

import json
import urllib.request

# Fake credentials: the captures only show how a client signs, never a real secret.
ACCESS_KEY_ID = "8b1a9953c4611296a827abf8c47804d7"
SECRET_ACCESS_KEY = "f0e4c2f76c58916ec258f246851bea091d14d4247a2fc3e18694461b1816e13b"
SESSION_TOKEN = "FAKE-SESSION-TOKEN-AQoDYXdzEJr//////////wEaDEXAMPLE+/=="
REGION = "auto"
BUCKET = "example-bucket"


def _post(port: int, path: str, msg: dict) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/__capture/{path}",
                                 data=json.dumps(msg).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def scenario(port: int, client: str, name: str, queue: list | None = None) -> None:
    """Labels the requests that follow; `queue` answers the next ones before the canned S3."""
    _post(port, "scenario", {"client": client, "scenario": name, "queue": queue or []})


def note(port: int, client: str, name: str, url: str) -> None:
    """Records a presigned URL as its own fixture (the guard test replays it as a request)."""
    _post(port, "note", {"client": client, "scenario": name, "presigned_url": url})
