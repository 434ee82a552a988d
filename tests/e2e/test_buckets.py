"""Bucket CRUD through the official Python SDK's models."""

from __future__ import annotations

import datetime

import cloudflare
import pytest

from conftest import unique_bucket_name


def test_bucket_crud_round_trips_through_sdk_models(server, cf):
    name = unique_bucket_name("crud")
    created = cf.r2.buckets.create(account_id=server.account_id, name=name)
    assert created.name == name
    datetime.datetime.fromisoformat(created.creation_date.replace("Z", "+00:00"))

    got = cf.r2.buckets.get(name, account_id=server.account_id)
    assert got.name == name
    assert got.creation_date == created.creation_date

    listed = cf.r2.buckets.list(account_id=server.account_id)
    assert name in [b.name for b in listed.buckets]

    found = cf.r2.buckets.list(account_id=server.account_id, name_contains=name[5:])
    assert [b.name for b in found.buckets] == [name]

    cf.r2.buckets.delete(name, account_id=server.account_id)
    with pytest.raises(cloudflare.NotFoundError):
        cf.r2.buckets.get(name, account_id=server.account_id)
    listed = cf.r2.buckets.list(account_id=server.account_id)
    assert name not in [b.name for b in listed.buckets]


def test_bucket_options_are_reported_back(server, cf):
    name = unique_bucket_name("opts")
    created = cf.r2.buckets.create(
        account_id=server.account_id, name=name, location_hint="weur", storage_class="InfrequentAccess"
    )
    assert created.storage_class == "InfrequentAccess"
    got = cf.r2.buckets.get(name, account_id=server.account_id)
    assert got.storage_class == "InfrequentAccess"
    assert (got.location or "").lower() == "weur"
    cf.r2.buckets.delete(name, account_id=server.account_id)


def test_bucket_list_pages_with_per_page_and_cursor(server, api):
    names = sorted(unique_bucket_name("page") for _ in range(3))
    for n in names:
        assert api.post(f"/accounts/{server.account_id}/r2/buckets", json={"name": n}).status_code == 200
    seen, cursor = [], None
    for _ in range(50):
        params = {"per_page": 1, "name_contains": "page-"}
        if cursor:
            params["cursor"] = cursor
        body = api.get(f"/accounts/{server.account_id}/r2/buckets", params=params).json()
        seen += [b["name"] for b in body["result"]["buckets"]]
        cursor = (body.get("result_info") or {}).get("cursor")
        if not cursor:
            break
    assert set(names) <= set(seen)
    assert len(seen) == len(set(seen))
