// Temporary credentials: mint (with export block, credential_process line and a presigned-URL
// maker), and an inspector that decodes a pasted session token in the page, with no request.

import { api, mayflyAcct } from "./api.js";
import { field, h, list, message, replace, select } from "./dom.js";
import { bucketNames } from "./buckets.js";
import { inspect } from "./session-token.js";
import { objectPath, presign } from "./sigv4.js";
import { getEndpoint } from "./s3.js";

const PERMISSIONS = ["object-read-only", "object-read-write", "admin-read-only", "admin-read-write"];
const ACTIONS = [
  "HeadObject", "GetObject", "GetBucketLocation", "ListObjectsV1", "ListObjectsV2",
  "ListMultipartUploads", "ListParts", "PutObject", "DeleteObject", "DeleteObjects", "CopyObject",
  "CreateMultipartUpload", "UploadPart", "UploadPartCopy", "AbortMultipartUpload",
  "CompleteMultipartUpload",
];

function output(id, text) {
  return h("output", { class: "mono", id, text });
}

/**
 * Revokes one credential by its session token (allowed to its parent token itself and to an
 * admin-read-write token); shows the outcome in `box`.
 */
export function revokeButton(ctx, sessionToken, parent, box) {
  const allowed = ctx.caps.revoke || parent === ctx.me.id;
  return h("button", {
    type: "button",
    class: "danger",
    id: "revoke-credential",
    text: "Revoke this credential",
    disabled: !allowed,
    title: allowed ? null : "Only its parent token or an admin-read-write token may revoke it",
    onclick: async () => {
      try {
        const env = await api("POST", mayflyAcct("/r2/temp-access-credentials/revocations"), { body: { sessionToken } });
        replace(box, message("ok", `Credential ${env.result.credentialId} revoked at ${env.result.revokedOn}.`));
      } catch (e) {
        replace(box, message("error", e.message));
      }
    },
  });
}

function minted(ctx, req, creds, claims, credentialId) {
  const endpoint = getEndpoint() || "";
  const exp = new Date(claims.exp * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  const env = [
    `export AWS_ACCESS_KEY_ID=${creds.accessKeyId}`,
    `export AWS_SECRET_ACCESS_KEY=${creds.secretAccessKey}`,
    `export AWS_SESSION_TOKEN=${creds.sessionToken}`,
    `export AWS_ENDPOINT_URL_S3=${endpoint}`,
    "export AWS_REGION=auto",
  ].join("\n");
  const process = JSON.stringify({
    Version: 1,
    AccessKeyId: creds.accessKeyId,
    SecretAccessKey: creds.secretAccessKey,
    SessionToken: creds.sessionToken,
    Expiration: exp,
  });
  const revokeBox = h("div", { "aria-live": "polite" });
  // The presigned-URL maker, with this credential.
  const method = select("method", ["GET", "PUT", "HEAD", "DELETE"], "GET");
  const key = h("input", { name: "key", spellcheck: "false", value: (req.prefixes && req.prefixes[0]) || (req.objects && req.objects[0]) || "" });
  const expires = h("input", { name: "expires", type: "number", min: 1, max: 604800, value: 300 });
  const urlOut = h("div");
  const maker = h(
    "form",
    { class: "panel", id: "presign-form", "aria-label": "Presigned URL maker" },
    h("h3", { text: "Presigned URL" }),
    h("div", { class: "row" }, field("Method", method), field("Object key", key), field("Expires in (seconds)", expires)),
    h("button", { type: "submit", text: "Make URL", disabled: !ctx.secure }),
    urlOut,
  );
  maker.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const url = await presign({
        method: method.value,
        endpoint,
        path: objectPath(req.bucket, key.value),
        creds,
        expires: Number(expires.value),
      });
      replace(urlOut, field("Presigned URL (it carries the session token: share it like the credential)", h("textarea", { class: "mono", id: "presigned-url", rows: 4, readonly: true, text: url })));
    } catch (e) {
      replace(urlOut, message("error", e.message));
    }
  });
  return h(
    "div",
    { class: "panel", id: "minted", role: "status" },
    h("h3", { text: `Credential for ${req.bucket}, ${req.permission}, until ${exp}` }),
    h(
      "dl",
      { class: "kv" },
      h("dt", { text: "Access key id" }), h("dd", {}, output("minted-access-key-id", creds.accessKeyId)),
      h("dt", { text: "Secret access key" }), h("dd", {}, output("minted-secret", creds.secretAccessKey)),
      h("dt", { text: "Session token" }), h("dd", {}, output("minted-session-token", creds.sessionToken)),
      h("dt", { text: "Credential id" }), h("dd", {}, output("minted-credential-id", credentialId)),
    ),
    h("h3", { text: "Shell" }),
    h("pre", { id: "minted-export", text: env }),
    h("h3", { text: "credential_process output (one JSON line)" }),
    h("pre", { id: "minted-process", text: process }),
    maker,
    revokeButton(ctx, creds.sessionToken, req.parentAccessKeyId, revokeBox),
    revokeBox,
  );
}

export async function renderMint(root, ctx) {
  let names = [];
  try {
    names = await bucketNames();
  } catch {
    // The bucket field stays free text.
  }
  const listId = "mint-bucket-names";
  const bucket = h("input", { name: "bucket", required: true, list: listId, spellcheck: "false", value: names[0] || "" });
  const parent = h("input", { name: "parentAccessKeyId", required: true, spellcheck: "false", value: ctx.me.id });
  const perm = select("permission", PERMISSIONS, "object-read-only");
  const prefixes = h("textarea", { name: "prefixes", rows: 2, spellcheck: "false" });
  const objects = h("textarea", { name: "objects", rows: 2, spellcheck: "false" });
  const ttl = h("input", { name: "ttlSeconds", type: "number", min: 1, max: 604800, value: 900, required: true });
  const actionBoxes = ACTIONS.map((a) => h("input", { type: "checkbox", name: "actions", value: a, id: `action-${a}` }));
  const status = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "panel", id: "mint-form", "aria-label": "Mint a temporary credential" },
    h("h3", { text: "Mint a temporary credential" }),
    h("datalist", { id: listId }, names.map((n) => h("option", { value: n }))),
    h("div", { class: "row" }, field("Bucket", bucket), field("Parent access key id", parent, ctx.caps.revoke ? "any active token of the account" : "your own token"), field("Permission", perm), field("TTL (seconds)", ttl)),
    h("div", { class: "row" }, field("Prefixes", prefixes, "one per line or comma-separated"), field("Objects (exact keys)", objects, "one per line or comma-separated")),
    h(
      "fieldset",
      {},
      h("legend", { text: "Actions (none checked: everything the permission allows)" }),
      h("div", { class: "checks" }, actionBoxes.map((b) => h("label", { for: b.id }, b, ` ${b.value}`))),
    ),
    h("button", { type: "submit", class: "primary", text: "Mint" }),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const req = {
      bucket: bucket.value.trim(),
      parentAccessKeyId: parent.value.trim(),
      permission: perm.value,
      ttlSeconds: Number(ttl.value),
    };
    const p = list(prefixes.value);
    const o = list(objects.value);
    const a = actionBoxes.filter((b) => b.checked).map((b) => b.value);
    if (p.length) req.prefixes = p;
    if (o.length) req.objects = o;
    if (a.length) req.actions = a;
    try {
      const creds = await ctx.mint(req);
      const info = ctx.secure ? await inspect(creds.sessionToken) : { claims: { exp: Date.now() / 1000 + req.ttlSeconds }, credentialId: "(needs WebCrypto)" };
      replace(status, minted(ctx, req, creds, info.claims, info.credentialId));
    } catch (e) {
      replace(status, message("error", e.message));
    }
  });
  replace(root, h("h2", { text: "Temporary credentials" }), form, status);
}

function timeLeft(exp) {
  const s = Math.floor(exp - Date.now() / 1000);
  if (s <= 0) return `expired ${-s} s ago`;
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  return `${hh} h ${mm} min ${s % 60} s`;
}

export async function renderInspect(root, ctx) {
  const input = h("textarea", { name: "sessionToken", rows: 5, class: "mono", spellcheck: "false", autocomplete: "off" });
  const out = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "panel", id: "inspect-form", "aria-label": "Inspect a session token" },
    field("Session token", input, "Decoded here, in the page: nothing is sent anywhere."),
    h("button", { type: "submit", class: "primary", text: "Inspect", disabled: !ctx.secure }),
  );
  let timer = null;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (timer) clearInterval(timer);
    try {
      const { claims, credentialId } = await inspect(input.value);
      const paths = claims.paths || {};
      const left = h("dd", { id: "inspect-time-left", text: timeLeft(claims.exp) });
      timer = setInterval(() => {
        if (!left.isConnected) clearInterval(timer);
        else left.textContent = timeLeft(claims.exp);
      }, 1000);
      const when = (t) => (typeof t === "number" ? new Date(t * 1000).toISOString() : "?");
      const revokeBox = h("div", { "aria-live": "polite" });
      const kv = [
        ["Credential id", h("code", { id: "inspect-credential-id", text: credentialId })],
        ["Bucket", claims.bucket],
        ["Permission (scope)", claims.scope],
        ["Actions", (claims.actions || []).join(", ") || "all the permission allows"],
        ["Prefixes", (paths.prefixPaths || []).join(", ") || "—"],
        ["Objects", (paths.objectPaths || []).join(", ") || "—"],
        ["Account (sub)", claims.sub],
        ["Parent access key id (iss)", claims.iss],
        ["S3 endpoint (aud)", claims.aud],
        ["Issued", when(claims.iat)],
        ["Expires", when(claims.exp)],
      ];
      replace(
        out,
        h(
          "div",
          { class: "panel", id: "inspected" },
          h(
            "dl",
            { class: "kv" },
            kv.map(([k, v]) => [h("dt", { text: k }), v instanceof Node ? h("dd", {}, v) : h("dd", { text: String(v ?? "") })]),
            h("dt", { text: "Time left" }),
            left,
          ),
          h("p", { class: "hint", text: "The signature is not checked here: this is what the token claims." }),
          revokeButton(ctx, input.value.trim(), claims.iss, revokeBox),
          revokeBox,
        ),
      );
    } catch (e) {
      replace(out, message("error", `Not a session token: ${e.message}`));
    }
  });
  replace(root, h("h2", { text: "Inspect a session token" }), form, out);
}
