"""Issue 16: the web console, driven end to end in headless Debian Chromium.

The console is served by the API listener (http://127.0.0.1:<api port>/console/); the S3 endpoint
is another origin, so every object call runs the real CORS protocol against the bucket's rules.
The tests run in order on one signed-in page: sign in, create a bucket, let the console add its
CORS rule, upload (file picker, drag and drop, multipart with a progress bar), download, mint a
credential scoped to a prefix and use it from boto3, inspect and revoke it, manage tokens, and a
read-only token's restricted view (controls absent or disabled, and the server's refusal when a
control is forced). Every request the browser makes is recorded: no API token may appear in any
URL, nor in any header sent anywhere but the API. Screenshots: tests/browser/artifacts/console-*.png.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import httpx
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from cloudflare import Cloudflare

from conftest import CHROMIUM, CHROMIUM_ARGS, e2e, screenshot

REPO = Path(__file__).resolve().parents[2]
# SPEC §2's test-vector session token and the credential id mayfly-core computes for it
# (crates/console/tests/credential_id.rs pins the same pair against core).
SPEC_VECTOR_TOKEN = (REPO / "crates/console/tests/spec-vector-session-token.txt").read_text().strip()
SPEC_VECTOR_ID = "6276efc287ac9ee4a9110faad20fdf53"
MULTIPART_SIZE = 9 * 1024 * 1024 + 4321  # above the console's 8 MiB part size: two parts
WAIT_MS = 30_000


def python_credential_id(session_token: str) -> str:
    """crates/core/src/credential_id.rs, written again in Python."""
    jwt = base64.b64decode(session_token).decode()
    assert jwt.startswith("jwt/")
    signing_input = jwt[4:].rsplit(".", 1)[0]
    return hashlib.sha256(b"mayfly credential id v1\0" + signing_input.encode()).hexdigest()[:32]


def s3_client(server, key_id, secret, token=None):
    return boto3.client(
        "s3", endpoint_url=server.s3_url, region_name="auto",
        aws_access_key_id=key_id, aws_secret_access_key=secret, aws_session_token=token,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


class Recorder:
    """Every request a browser context makes: URL, method and headers."""

    def __init__(self):
        self.requests: list[dict] = []

    def attach(self, context):
        context.on("request", lambda r: self.requests.append(
            {"url": r.url, "method": r.method, "headers": r.headers, "body": r.post_data_buffer or b""}))

    def sent_by_the_page(self, since: int) -> list[dict]:
        """Requests after index `since`, without Chromium's own fetches of the page's icon: it
        re-reads `<link rel=icon>` when the URL's fragment changes, at a moment of its choosing."""
        return [r for r in self.requests[since:] if not r["url"].endswith("/console/favicon.svg")]


@pytest.fixture(scope="module")
def world(server, chromium):
    http = httpx.Client(event_hooks={"response": [e2e.schema_hook]})
    cf = Cloudflare(api_token=server.api_token, base_url=server.api_url, http_client=http)
    recorder = Recorder()
    context = chromium.new_context(accept_downloads=True)
    recorder.attach(context)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
    page.on("dialog", lambda d: d.accept())
    w = {
        "cf": cf,
        "page": page,
        "context": context,
        "recorder": recorder,
        "messages": messages,
        "bucket": f"console-{uuid.uuid4().hex[:12]}",
        "origin": server.base,
        "secrets": [server.api_token],
    }
    yield w
    screenshot(page, "console-last")
    print("\nconsole messages:", *messages, sep="\n  ")
    context.close()
    cf.close()


def nav(page, name: str):
    page.get_by_role("button", name=name, exact=True).click()


def test_console_is_served_with_a_strict_csp(server, world):
    page = world["page"]
    response = page.goto(f"{server.base}/")
    assert page.url == f"{server.base}/console/#buckets" or page.url.startswith(f"{server.base}/console/")
    headers = response.headers
    csp = headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    s3_host = server.s3_url.removeprefix("http://")
    assert directives["connect-src"].split() == ["'self'", s3_host, f"localhost:{s3_host.split(':')[1]}"]
    assert "unsafe" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    # Every asset the page loaded carries the same policy.
    for path in ["app.js", "api.js", "console.css"]:
        r = requests.get(f"{server.base}/console/{path}", timeout=10)
        assert r.status_code == 200
        assert r.headers["content-security-policy"] == csp
    # The sign-in form is labelled and keyboard reachable.
    page.get_by_label("Account id").wait_for()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") in {"signin-account", "signin-token"}


def test_sign_in_shows_an_admin_everything(server, world):
    page = world["page"]
    page.get_by_label("Account id").fill(server.account_id)
    page.get_by_label("API token", exact=True).fill(server.api_token)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#nav").wait_for(state="visible")
    assert "admin-read-write" in page.locator("#who-text").inner_text()
    for name in ["Buckets", "Objects", "API tokens", "Temporary credentials", "Inspect a token", "Revocations", "Audit trail"]:
        assert page.get_by_role("button", name=name, exact=True).is_visible(), name
    # The token is in sessionStorage, nowhere persistent.
    assert page.evaluate("Object.values(sessionStorage)").count(server.api_token) == 1
    assert page.evaluate("localStorage.length") == 0


def test_create_a_bucket(server, world):
    page, bucket = world["page"], world["bucket"]
    nav(page, "Buckets")
    page.get_by_label("New bucket name").fill(bucket)
    page.get_by_role("button", name="Create bucket").click()
    page.locator(f'button[data-bucket="{bucket}"]').wait_for()
    assert any(b.name == bucket for b in world["cf"].r2.buckets.list(account_id=server.account_id).buckets)
    # A name the API refuses: its message, verbatim.
    page.get_by_label("New bucket name").fill(bucket)
    page.get_by_role("button", name="Create bucket").click()
    refusal = requests.post(
        f"{server.api_url}/accounts/{server.account_id}/r2/buckets",
        headers=server.headers(), json={"name": bucket}, timeout=10,
    ).json()["errors"][0]["message"]
    page.locator(".msg-error", has_text=refusal).wait_for()
    screenshot(page, "console-buckets")


UNLABELLED_CONTROLS_JS = """() => [...document.querySelectorAll('input, select, textarea, button')]
    .filter(e => e.offsetParent !== null)
    .filter(e => e.tagName === 'BUTTON'
        ? !(e.textContent.trim() || e.getAttribute('aria-label'))
        : !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
    .map(e => e.outerHTML.slice(0, 120))"""


def test_every_page_is_labelled_and_keyboard_usable(server, world):
    page = world["page"]
    pages = ["Buckets", "Objects", "API tokens", "Temporary credentials", "Inspect a token", "Revocations", "Audit trail"]
    for name in pages:
        nav(page, name)
        page.locator("#view h2").first.wait_for()
        assert page.evaluate(UNLABELLED_CONTROLS_JS) == [], name
    # Keyboard only: from the first page button, Tab to the next and press Enter.
    page.get_by_role("button", name="Buckets", exact=True).focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Objects"
    # The focused control is visibly outlined.
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid", outline
    page.keyboard.press("Enter")
    page.locator("#view h2", has_text="Objects").wait_for()
    assert page.get_by_role("button", name="Objects", exact=True).get_attribute("aria-current") == "page"
    nav(page, "Buckets")


def test_bucket_rules_are_edited_and_a_bucket_deleted_through_the_api(server, world):
    page, bucket, cf = world["page"], world["bucket"], world["cf"]
    nav(page, "Buckets")
    page.get_by_role("button", name=f"Lifecycle rules of {bucket}").click()
    editor = page.get_by_label("Lifecycle rules (JSON, the API's own shape)")
    page.wait_for_function("() => document.querySelector('textarea').value.includes('rules')")
    rules = {"rules": [{"id": "expire-tmp", "enabled": True, "conditions": {"prefix": "tmp/"},
                        "deleteObjectsTransition": {"condition": {"type": "Age", "maxAge": 86400}}}]}
    editor.fill(json.dumps(rules))
    page.get_by_role("button", name="Save lifecycle rules").click()
    page.locator(".msg-ok", has_text="Lifecycle rules saved").wait_for()
    got = requests.get(
        f"{server.api_url}/accounts/{server.account_id}/r2/buckets/{bucket}/lifecycle", headers=server.headers(), timeout=10,
    ).json()["result"]["rules"]
    assert got == rules["rules"]
    # A rule the API refuses: its pointer and message, verbatim.
    editor.fill(json.dumps({"rules": [{"id": "x", "enabled": "yes", "conditions": {"prefix": ""}}]}))
    page.get_by_role("button", name="Save lifecycle rules").click()
    page.locator(".msg-error", has_text="/rules/0/enabled").wait_for()
    # CORS rules open empty (none yet: the API's 404 is shown as no rules).
    page.get_by_role("button", name=f"CORS rules of {bucket}").click()
    page.wait_for_function("() => document.querySelector('textarea').value.includes('rules')")
    assert json.loads(page.get_by_label("CORS rules (JSON, the API's own shape)").input_value()) == {"rules": []}
    # Create a second bucket and delete it.
    doomed = f"{bucket}-gone"
    page.get_by_label("New bucket name").fill(doomed)
    page.get_by_role("button", name="Create bucket").click()
    page.get_by_role("button", name=f"Delete bucket {doomed}").click()
    page.locator(".msg-ok", has_text=f"Bucket {doomed} deleted").wait_for()
    assert all(b.name != doomed for b in cf.r2.buckets.list(account_id=server.account_id).buckets)


def test_objects_page_offers_the_cors_rule_then_uploads_and_downloads(server, world, tmp_path):
    page, bucket = world["page"], world["bucket"]
    page.locator(f'button[data-bucket="{bucket}"]').click()
    page.locator("#cors-missing").wait_for()
    page.locator("#add-console-cors").click()
    page.locator(".msg-ok", has_text="CORS rule for").wait_for()
    rules = world["cf"].r2.buckets.cors.get(bucket, account_id=server.account_id).rules
    assert len(rules) == 1
    assert rules[0].allowed.origins == [world["origin"]]
    assert sorted(rules[0].allowed.methods) == ["DELETE", "GET", "HEAD", "POST", "PUT"]
    assert rules[0].expose_headers == ["ETag"]

    # Upload through the file picker into a prefix.
    page.get_by_label("Go to prefix (uploads land under it)").fill("docs")
    page.get_by_role("button", name="Open prefix").click()
    small = b"hello from the console\n" * 10
    odd_name = "naïve file (1) + ~*!'.txt"  # every character SigV4 encodes specially
    page.get_by_label("Files to upload").set_input_files(
        files=[
            {"name": "hello.txt", "mimeType": "text/plain", "buffer": small},
            {"name": odd_name, "mimeType": "text/plain", "buffer": b"odd"},
        ]
    )
    page.locator("#uploads .done", has_text="docs/hello.txt: uploaded").wait_for()
    page.locator("#uploads .done", has_text=f"docs/{odd_name}: uploaded").wait_for()

    # Drag and drop: a real drop event carrying a File, on the drop zone.
    page.evaluate(
        """() => {
            const dt = new DataTransfer();
            dt.items.add(new File([new TextEncoder().encode("dropped bytes")], "dropped.bin", {type: "application/octet-stream"}));
            const zone = document.getElementById("dropzone");
            zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: dt, bubbles: true, cancelable: true}));
            zone.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
        }"""
    )
    page.locator("#uploads .done", has_text="docs/dropped.bin: uploaded").wait_for()

    # A large file goes multipart, with a progress bar that reaches its end.
    big = bytes(range(256)) * (MULTIPART_SIZE // 256) + b"tail"
    page.get_by_label("Files to upload").set_input_files(
        files=[{"name": "big.bin", "mimeType": "application/octet-stream", "buffer": big}]
    )
    done = page.locator("#uploads .done", has_text="docs/big.bin: uploaded")
    done.wait_for(timeout=120_000)
    assert "2 parts" in done.inner_text()
    bar = page.get_by_label("Upload of docs/big.bin")
    assert bar.evaluate("b => b.value === b.max && b.max > 0")

    admin = s3_client(server, server.access_key_id, server.secret_access_key)
    assert admin.get_object(Bucket=bucket, Key="docs/hello.txt")["Body"].read() == small
    assert admin.get_object(Bucket=bucket, Key="docs/dropped.bin")["Body"].read() == b"dropped bytes"
    assert admin.get_object(Bucket=bucket, Key=f"docs/{odd_name}")["Body"].read() == b"odd"
    assert admin.get_object(Bucket=bucket, Key="docs/big.bin")["Body"].read() == big

    # The listing (S3 through CORS with a minted read-only credential) shows all three.
    table = page.locator("#objects-table")
    for name in ["hello.txt", "dropped.bin", "big.bin", odd_name]:
        table.get_by_role("cell", name=name, exact=True).wait_for()
    # The bucket root shows the folder; opening it lists it again.
    page.get_by_role("button", name=f"{bucket}/", exact=True).click()
    page.get_by_role("button", name="Open folder docs/").click()
    table.get_by_role("cell", name="hello.txt", exact=True).wait_for()

    # Download through the browser (a presigned GET read through CORS, saved as a file).
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download docs/hello.txt").click()
    path = tmp_path / "hello.txt"
    dl.value.save_as(path)
    assert path.read_bytes() == small
    assert dl.value.suggested_filename == "hello.txt"
    with page.expect_download() as dl:
        page.get_by_role("button", name=f"Download docs/{odd_name}").click()
    dl.value.save_as(tmp_path / "odd")
    assert (tmp_path / "odd").read_bytes() == b"odd"
    screenshot(page, "console-objects")

    # Delete one.
    page.get_by_role("button", name="Delete docs/dropped.bin").click()
    page.locator(".msg-ok", has_text="Deleted docs/dropped.bin").wait_for()
    with pytest.raises(ClientError) as err:
        admin.head_object(Bucket=bucket, Key="docs/dropped.bin")
    assert err.value.response["Error"]["Code"] in {"404", "NoSuchKey", "NotFound"}


def test_mint_a_prefix_scoped_credential_and_use_it_from_boto3(server, world):
    page, bucket = world["page"], world["bucket"]
    nav(page, "Temporary credentials")
    page.get_by_label("Bucket", exact=True).fill(bucket)
    page.get_by_label("Permission", exact=True).select_option("object-read-write")
    page.get_by_label("Prefixes").fill("team/")
    page.get_by_label("TTL (seconds)").fill("600")
    page.get_by_role("button", name="Mint", exact=True).click()
    page.locator("#minted").wait_for()
    key_id = page.locator("#minted-access-key-id").inner_text()
    secret = page.locator("#minted-secret").inner_text()
    token = page.locator("#minted-session-token").inner_text()
    cred_id = page.locator("#minted-credential-id").inner_text()
    world["minted"] = {"key_id": key_id, "secret": secret, "token": token, "id": cred_id}
    assert key_id == server.access_key_id
    assert cred_id == python_credential_id(token)
    export = page.locator("#minted-export").inner_text()
    assert f"export AWS_SESSION_TOKEN={token}" in export
    assert f"export AWS_ENDPOINT_URL_S3={server.s3_url}" in export
    process = json.loads(page.locator("#minted-process").inner_text())
    assert process["Version"] == 1 and process["SessionToken"] == token and process["SecretAccessKey"] == secret

    s3 = s3_client(server, key_id, secret, token)
    s3.put_object(Bucket=bucket, Key="team/plan.txt", Body=b"inside the prefix")
    assert s3.get_object(Bucket=bucket, Key="team/plan.txt")["Body"].read() == b"inside the prefix"
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="docs/outside.txt", Body=b"no")
    assert err.value.response["Error"]["Code"] == "AccessDenied"

    # The presigned-URL maker signs with this credential in the page.
    page.get_by_label("Object key").fill("team/plan.txt")
    page.get_by_role("button", name="Make URL").click()
    url = page.locator("#presigned-url").input_value()
    assert url.startswith(f"{server.s3_url}/{bucket}/team/plan.txt?")
    got = requests.get(url, timeout=10)
    assert got.status_code == 200 and got.content == b"inside the prefix"
    screenshot(page, "console-credentials")


def test_inspector_decodes_without_a_request_and_matches_core(server, world):
    page = world["page"]
    nav(page, "Inspect a token")
    before = len(world["recorder"].requests)
    page.get_by_label("Session token", exact=True).fill(SPEC_VECTOR_TOKEN)
    page.get_by_role("button", name="Inspect", exact=True).click()
    page.locator("#inspected").wait_for()
    assert page.locator("#inspect-credential-id").inner_text() == SPEC_VECTOR_ID
    assert python_credential_id(SPEC_VECTOR_TOKEN) == SPEC_VECTOR_ID
    text = page.locator("#inspected").inner_text()
    for want in ["my-bucket", "object-read-only", "GetObject, HeadObject", "data/", "expired"]:
        assert want in text, want
    # Decoding sent nothing, and the token is in no request made since (icon fetches included).
    assert world["recorder"].sent_by_the_page(before) == []
    for r in world["recorder"].requests[before:]:
        assert SPEC_VECTOR_TOKEN not in r["url"] + json.dumps(r["headers"]) + r["body"].decode("latin-1")

    minted = world["minted"]
    page.get_by_label("Session token", exact=True).fill(minted["token"])
    page.get_by_role("button", name="Inspect", exact=True).click()
    page.locator("#inspect-credential-id", has_text=minted["id"]).wait_for()
    # `mayfly creds inspect` names the same credential, once it prints ids (branch revoke).
    shown = json.loads(subprocess.run(
        [str(e2e.MAYFLY_BIN), "creds", "inspect", "--json", "-"],
        input=minted["token"], capture_output=True, text=True, check=True, timeout=60,
    ).stdout)
    assert shown["bucket"] == world["bucket"]
    for field in ("credential_id", "credentialId"):
        if field in shown:
            assert shown[field] == minted["id"]
    left = page.locator("#inspect-time-left").inner_text()
    assert left.startswith("0 h 9 min") or left.startswith("0 h 10 min"), left
    assert "team/" in page.locator("#inspected").inner_text()
    screenshot(page, "console-inspect")


def test_revoke_the_minted_credential_from_the_inspector(server, world):
    page, minted, bucket = world["page"], world["minted"], world["bucket"]
    s3 = s3_client(server, minted["key_id"], minted["secret"], minted["token"])
    assert s3.get_object(Bucket=bucket, Key="team/plan.txt")["Body"].read() == b"inside the prefix"
    nav(page, "Inspect a token")
    page.get_by_label("Session token", exact=True).fill(minted["token"])
    page.get_by_role("button", name="Inspect", exact=True).click()
    page.locator("#inspect-credential-id", has_text=minted["id"]).wait_for()
    page.locator("#revoke-credential").click()
    page.locator(".msg-ok", has_text=f"Credential {minted['id']} revoked").wait_for()
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=bucket, Key="team/plan.txt")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    # The revocations page lists it, newest first.
    nav(page, "Revocations")
    first = page.locator("#revocations-table tbody tr").first
    first.wait_for()
    assert minted["id"] in first.inner_text()
    screenshot(page, "console-revocations")


def test_audit_trail_filters_by_credential(server, world):
    page, minted = world["page"], world["minted"]
    nav(page, "Audit trail")
    form = page.locator("#audit-form")
    form.get_by_label("Credential id").fill(minted["id"])
    form.get_by_role("button", name="Show events").click()
    table = page.locator(".audit-table", has=page.locator("caption", has_text=f"credential_id={minted['id']}"))
    table.get_by_role("cell", name="credential.mint", exact=True).first.wait_for()
    rows = table.locator("tbody tr")
    assert rows.count() >= 2
    for i in range(rows.count()):
        assert minted["id"] in rows.nth(i).inner_text()
    form.get_by_label("Kind").select_option("s3")
    form.get_by_role("button", name="Show events").click()
    table = page.locator(".audit-table", has=page.locator("caption", has_text="kind=s3"))
    table.wait_for()
    kinds = table.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert kinds and set(kinds) == {"s3"}, kinds
    assert "team/plan.txt" in table.inner_text()
    screenshot(page, "console-audit")


def test_tokens_create_downgrade_disable_revoke(server, world):
    page, bucket = world["page"], world["bucket"]
    nav(page, "API tokens")
    page.locator("#tokens-table").wait_for()
    form = page.locator("#create-token")
    form.get_by_label("Name", exact=True).fill("console-reader")
    form.get_by_label("Permission", exact=True).select_option("object-read-only")
    form.get_by_label("Buckets (object permissions only)").fill(bucket)
    form.get_by_role("button", name="Create token").click()
    value = page.locator("#new-token-value").inner_text()
    assert len(value) >= 32
    world["reader_token"] = value
    world["secrets"].append(value)

    form.get_by_label("Name", exact=True).fill("console-writer")
    form.get_by_label("Permission", exact=True).select_option("object-read-write")
    form.get_by_label("Buckets (object permissions only)").fill("")
    form.get_by_role("button", name="Create token").click()
    page.locator("#token-created", has_text="console-writer").wait_for()
    writer_value = page.locator("#new-token-value").inner_text()
    world["secrets"].append(writer_value)
    page.locator("#tokens-table").get_by_role("cell", name="console-writer", exact=True).wait_for()

    def record(name):
        tokens = requests.get(f"{server.api_url}/accounts/{server.account_id}/tokens", headers=server.headers(), timeout=10).json()["result"]
        return next(t for t in tokens if t["name"] == name)

    # Downgrade the writer to read-only, then disable it.
    page.get_by_label("Permission of console-writer").select_option("object-read-only")
    page.get_by_role("button", name="Update console-writer").click()
    page.locator(".msg-ok", has_text="console-writer updated: object-read-only").wait_for()
    assert record("console-writer")["permission"] == "object-read-only"
    page.get_by_label("Status of console-writer").select_option("disabled")
    page.get_by_role("button", name="Update console-writer").click()
    page.locator(".msg-ok", has_text="console-writer updated: object-read-only, disabled").wait_for()
    assert record("console-writer")["status"] == "disabled"
    screenshot(page, "console-tokens")
    # Revoke it; the server agrees it is gone for good (a revoked token cannot be updated).
    page.get_by_role("button", name="Revoke console-writer").click()
    page.locator(".msg-ok", has_text="console-writer revoked").wait_for()
    r = requests.get(f"{server.api_url}/user/tokens/verify", headers=server.headers(writer_value), timeout=10)
    assert r.status_code == 401


def test_a_read_only_token_sees_a_restricted_console_and_the_server_refuses_forced_actions(server, world, chromium):
    reader = world["reader_token"]
    context = chromium.new_context()
    world["recorder"].attach(context)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{server.base}/console/")
    page.get_by_label("Account id").fill(server.account_id)
    page.get_by_label("API token", exact=True).fill(reader)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#nav").wait_for(state="visible")
    assert "object-read-only" in page.locator("#who-text").inner_text()
    for hidden in ["API tokens", "Audit trail"]:
        assert not page.get_by_role("button", name=hidden, exact=True).is_visible(), hidden
    # Buckets: only its bucket, no delete or rule editing, creation disabled.
    page.locator(f'button[data-bucket="{world["bucket"]}"]').wait_for()
    assert page.locator("#buckets-table tbody tr").count() == 1
    assert page.get_by_role("button", name=f"Delete bucket {world['bucket']}").count() == 0
    assert page.get_by_role("button", name=f"CORS rules of {world['bucket']}").count() == 0
    create = page.get_by_role("button", name="Create bucket")
    assert create.is_disabled()
    screenshot(page, "console-restricted")
    # Forced: enable the button and submit; the server refuses and the console shows its words.
    refusal = requests.post(
        f"{server.api_url}/accounts/{server.account_id}/r2/buckets",
        headers=server.headers(reader), json={"name": "forced-by-reader"}, timeout=10,
    )
    assert refusal.status_code == 403
    page.get_by_label("New bucket name").fill("forced-by-reader")
    create.evaluate("b => { b.disabled = false; }")
    create.click()
    page.locator(".msg-error", has_text=refusal.json()["errors"][0]["message"]).wait_for()
    # Objects: listing works (read-only), upload and delete are not offered.
    nav(page, "Objects")
    page.locator("#objects-table").get_by_role("button", name="Open folder docs/").wait_for()
    assert page.get_by_label("Files to upload").is_disabled()
    page.get_by_label("Go to prefix (uploads land under it)").fill("docs/")
    page.get_by_role("button", name="Open prefix").click()
    page.get_by_role("button", name="Download docs/hello.txt").wait_for()
    assert page.get_by_role("button", name="Delete docs/hello.txt").count() == 0
    # Forced token management from the page's own script context: refused by the server.
    status = page.evaluate(
        """async (acct) => {
            const t = Object.entries(sessionStorage).find(([k]) => k.endsWith("apiToken"))[1];
            const r = await fetch(`/client/v4/accounts/${acct}/tokens`, {headers: {Authorization: `Bearer ${t}`}});
            return r.status;
        }""",
        server.account_id,
    )
    assert status == 403
    # Minting write access is refused by the server, shown verbatim.
    nav(page, "Temporary credentials")
    page.get_by_label("Permission", exact=True).select_option("object-read-write")
    page.get_by_role("button", name="Mint", exact=True).click()
    reader_id = requests.get(f"{server.api_url}/user/tokens/verify", headers=server.headers(reader), timeout=10).json()["result"]["id"]
    refusal = requests.post(
        f"{server.api_url}/accounts/{server.account_id}/r2/temp-access-credentials",
        headers=server.headers(reader),
        json={"bucket": world["bucket"], "parentAccessKeyId": reader_id, "permission": "object-read-write", "ttlSeconds": 900},
        timeout=10,
    )
    assert refusal.status_code == 403
    page.locator("#view .msg-error", has_text=refusal.json()["errors"][0]["message"]).wait_for()
    context.close()


INSECURE_PROBE = """
import json, sys
from playwright.sync_api import sync_playwright
chromium, url, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=chromium, headless=True,
                                args=[*args, "--host-resolver-rules=MAP console.test 127.0.0.1"])
    page = browser.new_page()
    page.goto(url)
    warning = page.locator("#insecure")
    warning.wait_for(state="visible", timeout=30000)
    print(json.dumps({"secure": page.evaluate("window.isSecureContext"), "text": warning.inner_text()}))
    browser.close()
"""


def test_an_insecure_context_is_told_that_webcrypto_is_missing(server):
    """Opened as http://console.test:<port> (not localhost, not https), the page is no secure
    context: it says so. A browser of its own (a host-resolver rule is a launch flag), in a child
    process, since this thread's Playwright driver is already running."""
    port = server.base.rsplit(":", 1)[1]
    done = subprocess.run(
        [sys.executable, "-c", INSECURE_PROBE, str(CHROMIUM), f"http://console.test:{port}/console/", json.dumps(CHROMIUM_ARGS)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["secure"] is False
    assert "not a secure context" in seen["text"] and "localhost" in seen["text"]


def test_no_api_token_in_any_url_or_foreign_header(server, world):
    reqs = world["recorder"].requests
    assert len(reqs) > 50
    s3_origin = server.s3_url
    assert any(r["url"].startswith(s3_origin) for r in reqs), "the console never reached S3"
    for secret in world["secrets"]:
        for r in reqs:
            assert secret not in r["url"], r["url"]
            if not r["url"].startswith(world["origin"] + "/client/v4/"):
                assert all(secret not in v for v in r["headers"].values()), r["url"]
    for m in world["messages"]:
        assert all(secret not in m for secret in world["secrets"]), m
    assert not [m for m in world["messages"] if m.startswith("pageerror")], world["messages"]
