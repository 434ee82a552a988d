"""A capturing S3 endpoint on loopback, for recording what real S3 clients send.

It reads each request off the socket itself (no HTTP framework in between), so the record keeps
the request target, the headers in the order and spelling the client wrote them, and the body
bytes (HTTP chunking undone; an aws-chunked body is kept as sent, since that is what Mayfly's
guard parses). Every request gets a plausible canned S3 answer (the object `hello world` with its
CRC32, a ListObjectsV2 page, a multipart upload id, ...) so the clients carry on as they would
against S3, unless the driver queued error answers for the current scenario first.

It listens twice: plain HTTP and, given a certificate and key, HTTPS (boto3 only sends aws-chunked
trailer bodies over TLS). The drivers (`s3_boto3.py`, `s3_awscli.py`,
`../node/s3-wire-capture.mjs`) steer it over plain HTTP under `/__capture/`, never recorded:

    POST /__capture/scenario  {"client", "scenario", "queue": [answer, ...]}  labels what follows
    POST /__capture/note      {"client", "scenario", "presigned_url"}         records a presigned URL
    POST /__capture/save      {"path"}  writes every record so far as the fixture (a JSON list)

An answer is {"status", "code"} (an S3 XML error) or {"status", "headers", "body"} verbatim.

Run: `python3 s3_capture_server.py [CERT KEY]` prints `port <n>` (and `tls_port <n>`) once
listening, then serves until killed.
"""

from __future__ import annotations

import base64
import json
import socket
import socketserver
import ssl
import sys
import threading
import zlib
from email.utils import formatdate
from urllib.parse import parse_qs, urlsplit

# Bodies larger than this are recorded as their length only (multipart parts of several MiB); an
# aws-chunked body is always kept whole, because the guard test replays it through the chunk guard.
MAX_KEPT_BODY = 64 * 1024
OBJECT = b"hello world"
UPLOAD_ID = "UPLOAD-ID-0001"
NS = "http://s3.amazonaws.com/doc/2006-03-01/"
REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
           500: "Internal Server Error", 503: "Service Unavailable"}


class Record:
    """The current scenario's labels and queued answers, and everything recorded so far."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.client = "?"
        self.scenario = "?"
        self.queue: list[dict] = []
        self.entries: list[dict] = []

    def label(self, plan: dict) -> None:
        with self.lock:
            self.client, self.scenario = plan["client"], plan["scenario"]
            self.queue = list(plan.get("queue", []))

    def add(self, entry: dict) -> dict | None:
        """Records a request under the current labels; returns the queued answer, if any."""
        with self.lock:
            self.entries.append({"client": self.client, "scenario": self.scenario, **entry})
            return self.queue.pop(0) if self.queue else None

    def note(self, entry: dict) -> None:
        with self.lock:
            self.entries.append(entry)

    def save(self, path: str) -> int:
        with self.lock:
            with open(path, "w", encoding="utf-8") as f:
                json.dump(self.entries, f, indent=1)
                f.write("\n")
            return len(self.entries)


RECORD = Record()


def _crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def _xml(body: str) -> tuple[list[list[str]], bytes]:
    data = ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode()
    return [["Content-Type", "application/xml"]], data


def _error(status: int, code: str) -> tuple[int, list[list[str]], bytes]:
    headers, data = _xml(f"<Error><Code>{code}</Code><Message>{code} (canned)</Message>"
                         "<RequestId>CAPTURE</RequestId></Error>")
    return status, headers, data


def _object_headers() -> list[list[str]]:
    return [["Content-Type", "text/plain"], ["ETag", '"5eb63bbbe01eeed093cb22bb8f5acdc3"'],
            ["Last-Modified", "Sat, 28 Nov 2026 05:29:19 GMT"], ["Accept-Ranges", "bytes"],
            ["x-amz-checksum-crc32", _crc32_b64(OBJECT)], ["x-amz-checksum-type", "FULL_OBJECT"]]


def canned(method: str, path: str, query: dict, headers: dict) -> tuple[int, list[list[str]], bytes]:
    """What S3 would answer, roughly: enough for every client to accept it and carry on."""
    parts = path.lstrip("/").split("/", 1)
    bucket, key = parts[0], (parts[1] if len(parts) > 1 else "")
    if method == "GET" and not key and "list-type" in query:
        prefix = query.get("prefix", [""])[0]
        return 200, *_xml(
            f'<ListBucketResult xmlns="{NS}"><Name>{bucket}</Name><Prefix>{prefix}</Prefix>'
            "<KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>"
            f"<Contents><Key>{prefix}hello.txt</Key><LastModified>2026-11-28T05:29:19.000Z"
            '</LastModified><ETag>"5eb63bbbe01eeed093cb22bb8f5acdc3"</ETag><Size>11</Size>'
            "<StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>")
    if method == "POST" and "delete" in query:
        return 200, *_xml(f'<DeleteResult xmlns="{NS}"></DeleteResult>')
    if method == "POST" and "uploads" in query:
        return 200, *_xml(
            f'<InitiateMultipartUploadResult xmlns="{NS}"><Bucket>{bucket}</Bucket><Key>{key}'
            f"</Key><UploadId>{UPLOAD_ID}</UploadId></InitiateMultipartUploadResult>")
    if method == "POST" and "uploadId" in query:
        return 200, *_xml(
            f'<CompleteMultipartUploadResult xmlns="{NS}"><Location>/{bucket}/{key}</Location>'
            f"<Bucket>{bucket}</Bucket><Key>{key}</Key>"
            '<ETag>"7d2f7e3b4e7b1d1e6c2b7a3e1c9d0f11-2"</ETag></CompleteMultipartUploadResult>')
    if method == "PUT" and "x-amz-copy-source" in headers:
        return 200, *_xml(
            f'<CopyObjectResult xmlns="{NS}"><LastModified>2026-11-28T05:29:19.000Z'
            '</LastModified><ETag>"5eb63bbbe01eeed093cb22bb8f5acdc3"</ETag></CopyObjectResult>')
    if method == "PUT":
        out = [["ETag", '"5eb63bbbe01eeed093cb22bb8f5acdc3"']]
        for name in ("x-amz-checksum-crc32", "x-amz-checksum-sha256"):
            if name in headers:
                out.append([name, headers[name]])
        return 200, out, b""
    if method == "DELETE":
        return 204, [], b""
    if method in ("GET", "HEAD"):
        return 200, _object_headers(), OBJECT
    return _error(400, "InvalidRequest")


def _read_chunked(f) -> bytes:
    """The decoded body of an HTTP/1.1 chunked message (trailers read and dropped)."""
    out = b""
    while True:
        size = int(f.readline(65537).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while f.readline(65537) not in (b"\r\n", b"\n", b""):
                pass
            return out
        out += f.read(size)
        f.read(2)


class Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        try:
            while self._one():
                pass
        except (ConnectionError, ssl.SSLError, socket.timeout):
            pass

    def _one(self) -> bool:
        line = self.rfile.readline(65537)
        if not line.strip():
            return False
        method, target, _version = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        headers: list[list[str]] = []
        while True:
            h = self.rfile.readline(65537)
            if h in (b"\r\n", b"\n", b""):
                break
            name, _, value = h.decode("latin-1").partition(":")
            headers.append([name, value.strip()])
        lower = {k.lower(): v for k, v in headers}
        if lower.get("expect", "").lower() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()
        if "chunked" in lower.get("transfer-encoding", "").lower():
            body = _read_chunked(self.rfile)
        else:
            body = self.rfile.read(int(lower.get("content-length", "0") or 0))
        url = urlsplit(target)
        if url.path.startswith("/__capture/"):
            status, out_headers, data = self._control(url.path, body)
        else:
            entry: dict = {"method": method, "target": target, "headers": headers}
            chunked = "aws-chunked" in lower.get("content-encoding", "") or lower.get(
                "x-amz-content-sha256", "").startswith("STREAMING-")
            if len(body) > MAX_KEPT_BODY and not chunked:
                entry["body"], entry["body_len"] = "", len(body)
            else:
                entry["body"] = body.decode("utf-8", errors="replace")
            answer = RECORD.add(entry)
            if answer is None:
                status, out_headers, data = canned(method, url.path, parse_qs(
                    url.query, keep_blank_values=True), lower)
            elif "code" in answer:
                status, out_headers, data = _error(answer["status"], answer["code"])
            else:
                status = answer["status"]
                out_headers, data = answer.get("headers", []), answer.get("body", "").encode()
        self._send(status, out_headers, data, head=method == "HEAD")
        return lower.get("connection", "").lower() != "close"

    def _control(self, path: str, body: bytes) -> tuple[int, list[list[str]], bytes]:
        msg = json.loads(body or b"{}")
        if path == "/__capture/scenario":
            RECORD.label(msg)
            result: object = {"ok": True}
        elif path == "/__capture/note":
            RECORD.note(msg)
            result = {"ok": True}
        elif path == "/__capture/save":
            result = {"saved": RECORD.save(msg["path"])}
        else:
            return 404, [], b"unknown control path"
        return 200, [["Content-Type", "application/json"]], json.dumps(result).encode()

    def _send(self, status: int, headers: list[list[str]], data: bytes, head: bool) -> None:
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}",
                 f"Date: {formatdate(usegmt=True)}", "Server: mayfly-s3-wire-capture/1",
                 "x-amz-request-id: CAPTURE"]
        lines += [f"{k}: {v}" for k, v in headers]
        if not any(k.lower() == "content-length" for k, _ in headers):
            lines.append(f"Content-Length: {len(data)}")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        if not head:
            self.wfile.write(data)
        self.wfile.flush()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class TlsServer(Server):
    def __init__(self, address, handler, context: ssl.SSLContext) -> None:
        self.context = context
        super().__init__(address, handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True), addr


def main() -> None:
    plain = Server(("127.0.0.1", 0), Handler)
    servers = [plain]
    print(f"port {plain.server_address[1]}", flush=True)
    if len(sys.argv) == 3:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[1], sys.argv[2])
        tls = TlsServer(("127.0.0.1", 0), Handler, ctx)
        servers.append(tls)
        print(f"tls_port {tls.server_address[1]}", flush=True)
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    plain.serve_forever()


if __name__ == "__main__":
    main()
