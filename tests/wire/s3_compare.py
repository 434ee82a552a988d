"""Compares two S3 wire-capture files (crates/s3/tests/fixtures/wire_requests.json format).

    python s3_compare.py OLD NEW             the stable shape, scenario by scenario: exits 1 on
                                             any difference
    python s3_compare.py --coverage OLD NEW  which client x payload mode combinations each file
                                             holds: exits 1 if NEW lacks one OLD had

The stable shape of a request is its method, its target with the per-run query values (dates,
credentials, signatures) blanked, the names it signed, and its payload mode; of a presigned URL,
its path and query the same way. What changes on every run (signatures, dates, ports, user agents,
invocation ids) is left out, and requests within a scenario are compared as a sorted list, since
s3transfer sends parts from several threads.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from urllib.parse import parse_qsl, urlsplit

VOLATILE_QUERY = {"x-amz-date", "x-amz-credential", "x-amz-signature", "x-amz-security-token"}


def _headers(entry: dict) -> dict[str, str]:
    return {k.lower(): v for k, v in entry.get("headers", [])}


def payload_mode(entry: dict) -> str:
    """How the body is vouched for: a presigned URL, a signed hash, UNSIGNED-PAYLOAD, or one of
    the STREAMING-* aws-chunked modes (with its trailer, if any)."""
    if "presigned_url" in entry:
        return "presigned-url"
    h = _headers(entry)
    sha = h.get("x-amz-content-sha256")
    if sha is None:
        query = {k.lower(): v for k, v in parse_qsl(urlsplit(entry["target"]).query)}
        return "presigned-request" if "x-amz-signature" in query else "no-content-sha256"
    mode = "signed-payload" if re.fullmatch(r"[0-9a-f]{64}", sha) else sha
    if "x-amz-trailer" in h:
        mode += f" (trailer {h['x-amz-trailer'].lower()})"
    return mode


def _stable_target(target: str) -> str:
    url = urlsplit(target)
    query = "&".join(
        f"{k}=<volatile>" if k.lower() in VOLATILE_QUERY else f"{k}={v}" if v or "=" in target else k
        for k, v in parse_qsl(url.query, keep_blank_values=True))
    return url.path + ("?" + query if query else "")


def signed_headers(entry: dict) -> str:
    if "presigned_url" in entry:
        target = entry["presigned_url"]
    else:
        auth = _headers(entry).get("authorization", "")
        m = re.search(r"SignedHeaders=([^,\s]+)", auth)
        if m:
            return m.group(1)
        target = entry["target"]
    query = {k.lower(): v for k, v in parse_qsl(urlsplit(target).query)}
    return query.get("x-amz-signedheaders", "")


def shape(entry: dict) -> tuple:
    if "presigned_url" in entry:
        url = urlsplit(entry["presigned_url"])
        target = _stable_target(url.path + "?" + url.query)
        return ("URL", url.scheme, target, signed_headers(entry), payload_mode(entry))
    return (entry["method"], _stable_target(entry["target"]), signed_headers(entry), payload_mode(entry))


def by_scenario(entries: list[dict]) -> dict[tuple[str, str], list[tuple]]:
    out: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for e in entries:
        out[(e["client"], e["scenario"])].append(shape(e))
    return {k: sorted(v) for k, v in out.items()}


def coverage(entries: list[dict]) -> set[tuple[str, str]]:
    return {(e["client"], payload_mode(e)) for e in entries}


def main() -> int:
    args = sys.argv[1:]
    mode = "shape"
    if args and args[0] == "--coverage":
        mode, args = "coverage", args[1:]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(args[0]) as f:
        old = json.load(f)
    with open(args[1]) as f:
        new = json.load(f)
    if mode == "coverage":
        a, b = coverage(old), coverage(new)
        for client, payload in sorted(a | b):
            where = "both" if (client, payload) in a and (client, payload) in b else (
                "OLD only" if (client, payload) in a else "NEW only")
            print(f"{client:7} {payload:60} {where}")
        print(f"requests per client: old {_counts(old)}, new {_counts(new)}")
        missing = a - b
        if missing:
            print(f"NEW lacks {len(missing)} client x payload mode combination(s) OLD had", file=sys.stderr)
            return 1
        return 0
    a, b = by_scenario(old), by_scenario(new)
    problems = []
    for key in sorted(set(a) | set(b)):
        if key not in b:
            problems.append(f"{key}: only in {args[0]}")
        elif key not in a:
            problems.append(f"{key}: only in {args[1]}")
        elif a[key] != b[key]:
            problems.append(f"{key}:\n  {a[key]}\n  != {b[key]}")
    for p in problems:
        print(p)
    print(f"{len(a)} and {len(b)} scenarios, {len(problems)} difference(s)")
    return 1 if problems else 0


def _counts(entries: list[dict]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for e in entries:
        out[e["client"]] += 1
    return dict(out)


if __name__ == "__main__":
    sys.exit(main())
