"""Fixtures for the Chromium test: a Mayfly server (the end-to-end suite's fixtures, reused), a
static server for the test page on another origin, and Debian's headless Chromium driven by
Playwright.

Nothing is downloaded at run time: Chromium is the system's (`/usr/bin/chromium`, Debian's
`chromium` package; override with MAYFLY_CHROMIUM), Playwright never installs a browser of its
own, and the page's one library (aws4fetch) comes from `npm ci` in this directory.
"""

from __future__ import annotations

import importlib.util
import functools
import http.server
import os
import sys
import threading
from pathlib import Path
from typing import Iterator

import pytest

HERE = Path(__file__).resolve().parent
E2E = HERE.parent / "e2e"
PAGE_DIR = HERE / "page"
AWS4FETCH = HERE / "node_modules" / "aws4fetch" / "dist" / "aws4fetch.esm.mjs"
ARTIFACTS = HERE / "artifacts"
CHROMIUM = Path(os.environ.get("MAYFLY_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS: list[Path] = []

# The end-to-end suite's server and SDK fixtures, loaded under their own module name (both
# directories have a conftest.py; tests/e2e must be importable for its `schema` module).
sys.path.insert(0, str(E2E))
_spec = importlib.util.spec_from_file_location("mayfly_e2e_conftest", E2E / "conftest.py")
assert _spec is not None and _spec.loader is not None
e2e = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = e2e
_spec.loader.exec_module(e2e)
server = e2e.server


class _PageHandler(http.server.SimpleHTTPRequestHandler):
    """Serves page/ and /vendor/aws4fetch.mjs; nothing else."""

    extensions_map = {".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", "": "application/octet-stream"}

    def translate_path(self, path: str) -> str:
        if path.split("?", 1)[0] == "/vendor/aws4fetch.mjs":
            return str(AWS4FETCH)
        return super().translate_path(path)

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass


@pytest.fixture(scope="session")
def page_port() -> Iterator[int]:
    """A static server for the test page on 127.0.0.1 (another origin than the S3 endpoint)."""
    if not AWS4FETCH.exists():
        pytest.fail(f"{AWS4FETCH} is missing: run `npm ci` in {HERE}")
    handler = functools.partial(_PageHandler, directory=str(PAGE_DIR))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def chromium():
    """Headless Debian Chromium under Playwright."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def screenshot(page, name: str) -> Path:
    """Saves the page as tests/browser/artifacts/<name>.png and lists it in the summary."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    SCREENSHOTS.append(path)
    return path


def pytest_terminal_summary(terminalreporter):
    if SCREENSHOTS:
        terminalreporter.section("browser screenshots")
        for path in SCREENSHOTS:
            terminalreporter.write_line(str(path))
