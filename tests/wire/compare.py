"""Compares two wire-capture files scenario by scenario, ignoring what changes on every run
(timings, ports, dates, the capture server's name, runtime versions).

Use it after re-capturing (e.g. an SDK bump): `python compare.py old.json new.json` prints every
difference that is left and exits 1 if there is any.
"""

from __future__ import annotations

import json
import re
import sys

# Request headers whose values depend on the machine or the run, not on the SDK's behaviour.
VOLATILE_HEADERS = {"host", "x-stainless-runtime-version", "x-stainless-os", "x-stainless-arch", "api-version"}
VOLATILE_KEYS = {"t", "client", "elapsed_s", "request_times", "gaps_s"}
VOLATILE_RESPONSE_HEADERS = {"date", "server"}


def normalise(value, key: str = ""):
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in VOLATILE_KEYS:
                continue
            if k in ("exc_response_headers", "exc_headers") and isinstance(v, dict):
                v = {hk: hv for hk, hv in v.items() if hk.lower() not in VOLATILE_RESPONSE_HEADERS}
            out[k] = normalise(v, k)
        return out
    if isinstance(value, list):
        if key == "headers":
            return [[k, "<volatile>" if k.lower() in VOLATILE_HEADERS else v] for k, v in value]
        return [normalise(v) for v in value]
    if isinstance(value, str):
        # Tracebacks and reprs may name a temporary port.
        return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", value)
    return value


def diff(a, b, path: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append(f"{path}.{k}: only in the second: {json.dumps(b[k])[:200]}")
            elif k not in b:
                out.append(f"{path}.{k}: only in the first: {json.dumps(a[k])[:200]}")
            else:
                diff(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, f"{path}[{i}]", out)
    elif a != b:
        out.append(f"{path}: {json.dumps(a)[:300]} != {json.dumps(b)[:300]}")


def main() -> int:
    first = {s["name"]: normalise(s) for s in json.load(open(sys.argv[1]))}
    second = {s["name"]: normalise(s) for s in json.load(open(sys.argv[2]))}
    out: list[str] = []
    for name in sorted(set(first) | set(second)):
        if name not in second:
            out.append(f"{name!r}: scenario only in the first")
        elif name not in first:
            out.append(f"{name!r}: scenario only in the second")
        else:
            diff(first[name], second[name], repr(name), out)
    print("\n".join(out) if out else f"{sys.argv[2]}: equivalent to {sys.argv[1]}")
    print(f"{len(first)} / {len(second)} scenarios, {len(out)} differences")
    return 1 if out else 0


if __name__ == "__main__":
    sys.exit(main())
