"""Decoding R2 session tokens per SPEC §2, independently of Mayfly's own code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json


def b64url_decode(seg: str) -> bytes:
    return base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))


def decode_session_token(session_token: str) -> tuple[str, dict, dict]:
    """Returns (jwt, header, claims) from base64("jwt/" + JWT); asserts the outer format."""
    raw = base64.b64decode(session_token, validate=True)
    # Standard base64 *with* padding: re-encoding gives back the same text.
    assert base64.b64encode(raw).decode() == session_token
    text = raw.decode("ascii")
    assert text.startswith("jwt/"), text[:10]
    jwt = text[len("jwt/"):]
    parts = jwt.split(".")
    assert len(parts) == 3, "compact JWS has three segments"
    header = json.loads(b64url_decode(parts[0]))
    claims = json.loads(b64url_decode(parts[1]))
    return jwt, header, claims


def verify_hs256(jwt: str, parent_secret_hex: str) -> bool:
    """HMAC-SHA256 over `header.payload`, keyed with the parent's secret as 64 ASCII hex chars."""
    signing_input, _, sig = jwt.rpartition(".")
    mac = hmac.new(parent_secret_hex.encode("ascii"), signing_input.encode("ascii"), hashlib.sha256).digest()
    return hmac.compare_digest(base64.urlsafe_b64encode(mac).rstrip(b"=").decode(), sig)


def temp_secret(jwt: str) -> str:
    return hashlib.sha256(jwt.encode("ascii")).hexdigest()
