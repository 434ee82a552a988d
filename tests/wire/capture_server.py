"""A capturing HTTP/1.1 server on loopback, for recording what real clients send.

It reads requests off the socket itself (no HTTP framework in between), so the record keeps the
request line, the headers in the order and spelling the client wrote them, and the body bytes
(decoded when chunked, with the raw chunked bytes kept beside). Each request is answered from a
plan: a queue of canned answers used first, then a default answer for every later request.

Driven over HTTP by the capture scripts (`cf_python.py`, `../node/wire-capture.mjs`) on the same
port, under `/__capture/`, which is never recorded:

    POST /__capture/plan      {"queue": [answer, ...], "default": answer}  resets the record
    GET  /__capture/requests  the requests recorded since the last plan

An answer is {"status": int, "headers": [[name, value], ...], "body": str} or, with "json"
instead of "body", a JSON value sent as `json.dumps` writes it (so both SDKs' captures get the
same bytes for the same canned answer; the answers live in `answers.json`).

Run: `python3 capture_server.py` prints `port <n>` once listening, then serves until killed.
"""

from __future__ import annotations

import json
import socket
import socketserver
import sys
import threading
import time
from email.utils import formatdate
from urllib.parse import urlsplit

SERVER_NAME = "mayfly-wire-capture/1"
REASONS = {
    200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    408: "Request Timeout", 409: "Conflict", 422: "Unprocessable Entity", 429: "Too Many Requests",
    500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
}
DEFAULT_ANSWER = {"status": 200, "headers": [["content-type", "application/json"]],
                  "body": '{"success":true,"errors":[],"messages":[],"result":{}}'}


class Plan:
    """The answers for the current scenario and the requests recorded under it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset({})

    def reset(self, plan: dict) -> None:
        with self.lock:
            self.queue = list(plan.get("queue", []))
            self.default = plan.get("default", DEFAULT_ANSWER)
            self.recorded: list[dict] = []
            self.started = time.monotonic()

    def next_answer(self) -> tuple[dict, str]:
        with self.lock:
            if self.queue:
                return self.queue.pop(0), "queue"
            return self.default, "default"

    def record(self, request: dict) -> None:
        with self.lock:
            request["t"] = round(time.monotonic() - self.started, 4)
            self.recorded.append(request)

    def requests(self) -> list[dict]:
        with self.lock:
            return list(self.recorded)


PLAN = Plan()


def _read_line(f) -> bytes:
    return f.readline(65537)


def _read_chunked(f) -> bytes:
    """The raw bytes of a chunked body up to and including its last CRLF."""
    raw = b""
    while True:
        size_line = _read_line(f)
        raw += size_line
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while True:  # trailers, then the blank line
                line = _read_line(f)
                raw += line
                if line in (b"\r\n", b"\n", b""):
                    return raw
        raw += f.read(size + 2)


def _dechunk(raw: bytes) -> bytes:
    out, rest = b"", raw
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        rest = rest[size + 2:]
    return out


def _text(b: bytes) -> str:
    return b.decode("utf-8", errors="surrogateescape").encode("utf-8", errors="replace").decode()


class Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        while self._one():
            pass

    def _one(self) -> bool:
        line = _read_line(self.rfile)
        if not line.strip():
            return False
        request_line = line.decode("latin-1").rstrip("\r\n")
        method, target, _version = request_line.split(" ", 2)
        headers: list[list[str]] = []
        while True:
            h = _read_line(self.rfile)
            if h in (b"\r\n", b"\n", b""):
                break
            name, _, value = h.decode("latin-1").partition(":")
            headers.append([name, value.strip()])
        lower = {k.lower(): v for k, v in headers}
        expect_100 = lower.get("expect", "").lower() == "100-continue"
        if expect_100:
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()
        if "chunked" in lower.get("transfer-encoding", "").lower():
            raw = _read_chunked(self.rfile)
            body, raw_body = _dechunk(raw), raw
        else:
            body = self.rfile.read(int(lower.get("content-length", "0") or 0))
            raw_body = body
        url = urlsplit(target)
        if url.path.startswith("/__capture/"):
            return self._control(method, url.path, body)
        answer, via = PLAN.next_answer()
        PLAN.record({
            "client": f"{self.client_address[0]}:{self.client_address[1]}",
            "request_line": request_line,
            "method": method,
            "target": target,
            "path": url.path,
            "query": url.query,
            "headers": headers,
            "expect_100_sent": expect_100,
            "body": _text(body),
            "body_len": len(body),
            "raw_body_differs": raw_body != body,
            "raw_body": _text(raw_body) if raw_body != body else None,
            "answered": {"status": answer["status"], "via": via},
        })
        self._answer(answer)
        return lower.get("connection", "").lower() != "close"

    def _control(self, method: str, path: str, body: bytes) -> bool:
        if method == "POST" and path == "/__capture/plan":
            PLAN.reset(json.loads(body or b"{}"))
            self._answer({"status": 200, "headers": [["content-type", "application/json"]], "body": "{}"})
        elif method == "GET" and path == "/__capture/requests":
            self._answer({"status": 200, "headers": [["content-type", "application/json"]],
                          "body": json.dumps(PLAN.requests())})
        else:
            self._answer({"status": 404, "headers": [], "body": "no such control path"})
        return True

    def _answer(self, answer: dict) -> None:
        body = (json.dumps(answer["json"]) if "json" in answer else answer.get("body", "")).encode()
        status = answer["status"]
        out = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}",
               f"server: {SERVER_NAME}", f"date: {formatdate(usegmt=True)}"]
        out += [f"{k}: {v}" for k, v in answer.get("headers", [])]
        out.append(f"content-length: {len(body)}")
        self.wfile.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body)
        self.wfile.flush()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main() -> None:
    with Server(("127.0.0.1", 0), Handler) as server:
        server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        print(f"port {server.server_address[1]}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
