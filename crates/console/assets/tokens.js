// API tokens: list, create (the value is shown once), downgrade or disable, revoke.

import { acct, api } from "./api.js";
import { field, h, list, message, replace, select, table } from "./dom.js";

const PERMISSIONS = ["admin-read-write", "admin-read-only", "object-read-write", "object-read-only"];

/** A `datetime-local` value as RFC 3339 UTC, or undefined. */
function rfc3339(local) {
  if (!local) return undefined;
  return new Date(local).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function created(result) {
  return h(
    "div",
    { class: "panel", id: "token-created", role: "status" },
    h("h3", { text: `Token “${result.name}” created: copy the value now, it is shown this once` }),
    h(
      "dl",
      { class: "kv" },
      h("dt", { text: "Token value" }), h("dd", {}, h("output", { class: "mono", id: "new-token-value", text: result.value })),
      h("dt", { text: "Token id / S3 access key id" }), h("dd", {}, h("output", { class: "mono", text: result.access_key_id })),
      h("dt", { text: "S3 secret access key" }), h("dd", {}, h("output", { class: "mono", text: result.secret_access_key })),
      h("dt", { text: "Permission" }), h("dd", { text: result.permission }),
    ),
  );
}

export async function render(root, ctx) {
  const status = h("div", { "aria-live": "polite" });
  const listBox = h("div");
  const name = h("input", { name: "name", required: true, maxlength: 120 });
  const perm = select("permission", PERMISSIONS, "object-read-only");
  const buckets = h("input", { name: "buckets", spellcheck: "false" });
  const expires = h("input", { name: "expires_on", type: "datetime-local" });
  const form = h(
    "form",
    { class: "panel", id: "create-token", "aria-label": "Create an API token" },
    h("h3", { text: "Create a token" }),
    h(
      "div",
      { class: "row" },
      field("Name", name),
      field("Permission", perm),
      field("Buckets (object permissions only)", buckets, "comma-separated; empty means every bucket"),
      field("Expires (your local time)", expires, "empty: never, or when your own token expires"),
    ),
    h("button", { type: "submit", class: "primary", text: "Create token" }),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { name: name.value.trim(), permission: perm.value };
    const b = list(buckets.value);
    if (b.length) body.buckets = b;
    const e = rfc3339(expires.value);
    if (e) body.expires_on = e;
    try {
      const env = await api("POST", acct("/tokens"), { body });
      form.reset();
      await refresh();
      replace(status, created(env.result));
    } catch (err) {
      replace(status, message("error", err.message));
    }
  });

  async function refresh() {
    const env = await api("GET", acct("/tokens"), { query: { per_page: 1000 } });
    const rows = env.result.map((t) => {
      const p = select("permission", PERMISSIONS, t.permission);
      const st = select("status", ["active", "disabled"], t.status === "active" ? "active" : "disabled");
      p.setAttribute("aria-label", `Permission of ${t.name}`);
      st.setAttribute("aria-label", `Status of ${t.name}`);
      const update = h("button", {
        type: "button",
        text: "Update",
        "aria-label": `Update ${t.name}`,
        onclick: async () => {
          const body = { name: t.name, permission: p.value, status: st.value };
          if (t.buckets) body.buckets = t.buckets;
          if (t.expires_on) body.expires_on = t.expires_on;
          try {
            await api("PUT", acct(`/tokens/${encodeURIComponent(t.id)}`), { body });
            const done = `Token ${t.name} updated: ${p.value}, ${st.value}.`;
            // The table first, then the message: the message says the table is current.
            await refresh();
            replace(status, message("ok", done));
          } catch (err) {
            replace(status, message("error", err.message));
          }
        },
      });
      const revoke = h("button", {
        type: "button",
        class: "danger",
        text: "Revoke",
        "aria-label": `Revoke ${t.name}`,
        disabled: t.id === ctx.me.id,
        title: t.id === ctx.me.id ? "This is the token you are signed in with" : null,
        onclick: async () => {
          if (!confirm(`Revoke ${t.name}? Every temporary credential minted from it stops working.`)) return;
          try {
            await api("DELETE", acct(`/tokens/${encodeURIComponent(t.id)}`));
            await refresh();
            replace(status, message("ok", `Token ${t.name} revoked.`));
          } catch (err) {
            replace(status, message("error", err.message));
          }
        },
      });
      return [
        t.name,
        h("code", { text: t.id }),
        t.buckets ? t.buckets.join(", ") : "all",
        t.status,
        t.expires_on || "never",
        h("div", { class: "row" }, p, st, update, revoke),
      ];
    });
    replace(listBox, table(`${rows.length} token(s)`, ["Name", "Id", "Buckets", "Status", "Expires", "Permission and status"], rows, { id: "tokens-table" }));
  }

  replace(root, h("h2", { text: "API tokens" }), form, status, listBox);
  if (!ctx.caps.manageTokens) {
    root.prepend(message("info", `Your token (${ctx.me.permission}) may not manage tokens; the server refuses it.`));
  }
  try {
    await refresh();
  } catch (e) {
    replace(listBox, message("error", e.message));
  }
}
