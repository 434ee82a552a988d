"""Small helpers shared by the e2e tests."""

from __future__ import annotations


def create_token(api, account_id: str, permission: str, buckets: list[str] | None = None, name: str = "e2e") -> dict:
    """Creates an R2 API token through the API (Mayfly's simple body); returns the result."""
    body = {"name": name, "permission": permission}
    if buckets is not None:
        body["buckets"] = buckets
    r = api.post(f"/accounts/{account_id}/tokens", json=body)
    assert r.status_code == 200, r.text
    result = r.json()["result"]
    assert result["access_key_id"] == result["id"]
    return result


def revoke_token(api, account_id: str, token_id: str) -> None:
    r = api.delete(f"/accounts/{account_id}/tokens/{token_id}")
    assert r.status_code == 200, r.text
