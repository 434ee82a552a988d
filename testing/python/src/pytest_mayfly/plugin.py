"""The pytest fixtures (registered through the `pytest11` entry point: installing the package
is enough, no conftest.py needed).

* `mayfly_server` (session): one `mayfly serve --ephemeral --exit-on-stdin-eof` for the run.
* `mayfly_account` (function): a fresh, empty account of its own per test (clean slate).
* `cloudflare_client` (function): an official `cloudflare.Cloudflare` pointed at the server.
* `mayfly_bucket` (function): a fresh bucket per test, in the server's account.
* `mint` (function): `mint(bucket, permission, prefixes=..., objects=..., ttl=...)` returns
  temporary credentials ready for `boto3.client("s3", **creds)` or `creds.boto3_client()`.
"""

from __future__ import annotations

from typing import Callable, Iterator

import pytest

from .server import Account, Credentials, MayflyServer, start


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("mayfly_args", "extra arguments for `mayfly serve --ephemeral`", type="args", default=[])


@pytest.fixture(scope="session")
def mayfly_server(pytestconfig: pytest.Config) -> Iterator[MayflyServer]:
    """A throwaway Mayfly for the whole session; stopped (data removed) at the end."""
    server = start(args=pytestconfig.getini("mayfly_args"))
    try:
        yield server
    finally:
        code = server.stop()
        if code != 0:
            pytest.fail(f"mayfly exited with {code}; log:\n{server.logs()[-4000:]}")


@pytest.fixture
def mayfly_account(mayfly_server: MayflyServer) -> Account:
    """A fresh, empty account with its own admin token: nothing another test did is visible."""
    return mayfly_server.new_account()


@pytest.fixture
def cloudflare_client(mayfly_server: MayflyServer):
    """The official Cloudflare SDK, pointed at Mayfly with the server account's admin token."""
    client = mayfly_server.cloudflare()
    yield client
    client.close()


@pytest.fixture
def mayfly_bucket(mayfly_server: MayflyServer) -> str:
    """A new bucket (unique name) in the server's account, for one test."""
    return mayfly_server.create_bucket()


@pytest.fixture
def mint(mayfly_server: MayflyServer) -> Callable[..., Credentials]:
    """`mint(bucket, permission="object-read-write", prefixes=None, objects=None, ttl=900)`:
    temporary credentials from Mayfly's `temp-access-credentials`, ready for boto3."""
    return mayfly_server.mint
