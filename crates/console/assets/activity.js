// Revocations of single temporary credentials, and the audit trail (Mayfly's extensions under
// /client/v4/mayfly/accounts/{account}/...).

import { api, mayflyAcct } from "./api.js";
import { field, h, message, replace, select, table } from "./dom.js";

const KINDS = [
  "", "credential.mint", "credential.revoke", "token.create", "token.update", "token.delete",
  "bucket.create", "bucket.delete", "bucket.cors", "bucket.lifecycle", "s3",
];

/** An RFC 3339 UTC string from a datetime-local value, or undefined. */
function rfc3339(local) {
  if (!local) return undefined;
  return new Date(local).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const show = (v) => (v === null || v === undefined ? "" : String(v));

export async function renderRevocations(root, ctx) {
  const credId = h("input", { name: "credentialId", spellcheck: "false", pattern: "[0-9a-f]{32}", disabled: !ctx.caps.revoke });
  const token = h("textarea", { name: "sessionToken", rows: 3, class: "mono", spellcheck: "false", autocomplete: "off" });
  const status = h("div", { "aria-live": "polite" });
  const listBox = h("div");
  const form = h(
    "form",
    { class: "panel", id: "revoke-form", "aria-label": "Revoke one temporary credential" },
    h("h3", { text: "Revoke one temporary credential" }),
    field("Credential id", credId, "32 hex characters (mayfly creds inspect, or the inspector here); admin-read-write only"),
    field("…or its session token", token, "its parent token or an admin-read-write token may revoke it"),
    h("button", { type: "submit", class: "danger", text: "Revoke" }),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = credId.value.trim() ? { credentialId: credId.value.trim() } : { sessionToken: token.value.trim() };
    try {
      const env = await api("POST", mayflyAcct("/r2/temp-access-credentials/revocations"), { body });
      replace(status, message("ok", `Credential ${env.result.credentialId} revoked at ${env.result.revokedOn}.`));
      form.reset();
      if (ctx.caps.revoke) await refresh();
    } catch (e) {
      replace(status, message("error", e.message));
    }
  });
  async function refresh(cursor, append) {
    const env = await api("GET", mayflyAcct("/r2/temp-access-credentials/revocations"), { query: { per_page: 100, cursor } });
    const rows = env.result.map((r) => [h("code", { text: r.credentialId }), show(r.bucket), show(r.parentAccessKeyId), show(r.revokedOn), show(r.expiresOn)]);
    const next = env.result_info && env.result_info.cursor;
    const t = table("Revoked credentials, newest first", ["Credential id", "Bucket", "Parent", "Revoked", "Expires"], rows, { id: "revocations-table" });
    const more = next ? h("button", { type: "button", text: "More", onclick: () => refresh(next, true).catch((e) => replace(status, message("error", e.message))) }) : null;
    if (append) replace(listBox, ...Array.from(listBox.children).filter((c) => c.tagName !== "BUTTON"), t, more);
    else replace(listBox, t, more);
  }
  replace(root, h("h2", { text: "Revocations" }), form, status, listBox);
  if (!ctx.caps.revoke) {
    replace(listBox, h("p", { class: "hint", text: `Only admin-read-write tokens may list revocations (yours: ${ctx.me.permission}).` }));
    return;
  }
  try {
    await refresh();
  } catch (e) {
    replace(listBox, message("error", e.message));
  }
}

export async function renderAudit(root, ctx) {
  const f = {
    credential_id: h("input", { name: "credential_id", spellcheck: "false" }),
    parent: h("input", { name: "parent", spellcheck: "false" }),
    bucket: h("input", { name: "bucket", spellcheck: "false" }),
    kind: select("kind", KINDS.map((k) => [k, k || "any"]), ""),
    since: h("input", { name: "since", type: "datetime-local", step: 1 }),
    until: h("input", { name: "until", type: "datetime-local", step: 1 }),
    per_page: h("input", { name: "per_page", type: "number", min: 1, max: 1000, value: 100 }),
  };
  const status = h("div", { "aria-live": "polite" });
  const listBox = h("div");
  const form = h(
    "form",
    { class: "panel", id: "audit-form", "aria-label": "Filter the audit trail" },
    h(
      "div",
      { class: "row" },
      field("Credential id", f.credential_id),
      field("Parent access key id", f.parent),
      field("Bucket", f.bucket),
      field("Kind", f.kind),
      field("Since (local time)", f.since),
      field("Until (local time)", f.until),
      field("Per page", f.per_page),
    ),
    h("button", { type: "submit", class: "primary", text: "Show events" }),
  );
  function query(cursor) {
    return {
      credential_id: f.credential_id.value.trim(),
      parent: f.parent.value.trim(),
      bucket: f.bucket.value.trim(),
      kind: f.kind.value,
      since: rfc3339(f.since.value),
      until: rfc3339(f.until.value),
      per_page: f.per_page.value,
      cursor,
    };
  }
  let generation = 0;
  async function load(cursor, append) {
    // Only the latest request renders: an older, slower answer must not replace a newer one.
    generation += 1;
    const mine = generation;
    const q = query(cursor);
    const env = await api("GET", mayflyAcct("/audit"), { query: q });
    if (mine !== generation) return;
    const filters = Object.entries(q)
      .filter(([k, v]) => v && k !== "cursor" && k !== "per_page")
      .map(([k, v]) => `${k}=${v}`)
      .join(", ");
    const rows = env.result.map((e) => [
      show(e.time), show(e.kind), h("code", { text: show(e.credentialId) }), show(e.parentAccessKeyId), show(e.bucket),
      show(e.key), show(e.operation), show(e.status), show(e.bytes), show(e.caller), show(e.requestId),
    ]);
    const next = env.result_info && env.result_info.cursor;
    const t = table(`Events, newest first${filters ? ` (${filters})` : ""}`, ["Time", "Kind", "Credential", "Parent", "Bucket", "Key", "Operation", "Status", "Bytes", "Caller", "Request id"], rows, { class: "audit-table" });
    const more = next ? h("button", { type: "button", text: "More", onclick: () => load(next, true).catch((e) => replace(status, message("error", e.message))) }) : null;
    if (append) replace(listBox, ...Array.from(listBox.children).filter((c) => c.tagName !== "BUTTON"), t, more);
    else replace(listBox, t, more);
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    replace(status);
    try {
      await load();
    } catch (e) {
      replace(status, message("error", e.message));
    }
  });
  replace(root, h("h2", { text: "Audit trail" }), form, status, listBox);
  try {
    await load();
  } catch (e) {
    replace(status, message("error", e.message));
  }
}
