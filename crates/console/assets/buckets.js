// Buckets: list, create, delete, and their CORS and lifecycle rules (the v4 API only).

import { acct, api, ApiError, listAll } from "./api.js";
import { field, h, message, replace, table } from "./dom.js";

/** The account's buckets the token may see (the server filters). */
export async function bucketNames() {
  const list = await listAll(acct("/r2/buckets"), { per_page: 1000 }, (r) => r.buckets);
  return list.map((b) => b.name);
}

/** The rule the console needs on a bucket to talk to S3 from this origin. */
export function consoleCorsRule() {
  return {
    id: `mayfly-console ${location.origin}`,
    allowed: {
      origins: [location.origin],
      methods: ["GET", "PUT", "POST", "DELETE", "HEAD"],
      headers: ["content-type"],
    },
    exposeHeaders: ["ETag"],
    maxAgeSeconds: 600,
  };
}

/** Whether `rules` let this origin make the console's requests (and read ETag). */
export function corsCovers(rules) {
  const want = consoleCorsRule();
  const ok = (rule) => {
    const a = rule.allowed || {};
    const origins = a.origins || [];
    const methods = a.methods || [];
    const headers = (a.headers || []).map((x) => x.toLowerCase());
    const expose = (rule.exposeHeaders || []).map((x) => x.toLowerCase());
    return (
      (origins.includes(location.origin) || origins.includes("*")) &&
      want.allowed.methods.every((m) => methods.includes(m)) &&
      (headers.includes("content-type") || headers.includes("*")) &&
      expose.includes("etag")
    );
  };
  return rules.some(ok);
}

/** A bucket's CORS rules; none set (404, code 10059) is an empty list. */
export async function corsRules(bucket) {
  try {
    return (await api("GET", acct(`/r2/buckets/${encodeURIComponent(bucket)}/cors`))).result.rules || [];
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && e.errors.some((x) => x.code === 10059)) return [];
    throw e;
  }
}

/** Adds the console's rule to `bucket`'s CORS rules through the API, keeping the others. */
export async function addConsoleCorsRule(bucket) {
  const path = acct(`/r2/buckets/${encodeURIComponent(bucket)}/cors`);
  const current = await corsRules(bucket);
  const mine = consoleCorsRule();
  const rules = current.filter((r) => r.id !== mine.id).concat([mine]);
  await api("PUT", path, { body: { rules } });
}

function configEditor(root, ctx, bucket, kind) {
  const path = acct(`/r2/buckets/${encodeURIComponent(bucket)}/${kind}`);
  const title = kind === "cors" ? "CORS rules" : "Lifecycle rules";
  const area = h("textarea", { class: "mono", rows: 14, cols: 80, spellcheck: "false" });
  const status = h("div", { "aria-live": "polite" });
  const save = h("button", { type: "submit", class: "primary", disabled: !ctx.caps.editConfig, text: `Save ${title.toLowerCase()}` });
  const clear = h("button", { type: "button", class: "danger", disabled: !ctx.caps.editConfig, text: "Remove all rules" });
  const form = h(
    "form",
    { class: "panel", "aria-label": `${title} of ${bucket}` },
    h("h3", { text: `${title} of ${bucket}` }),
    field(`${title} (JSON, the API's own shape)`, area, kind === "cors"
      ? '{"rules":[{"id","allowed":{"origins","methods","headers"},"exposeHeaders","maxAgeSeconds"}]}'
      : '{"rules":[{"id","enabled","conditions":{"prefix"},"deleteObjectsTransition":{"condition":{"type":"Age","maxAge":86400}}}]}'),
    ctx.caps.editConfig ? null : h("p", { class: "hint", text: `Your token (${ctx.me.permission}) may read but not change these rules.` }),
    h("div", { class: "row" }, save, clear),
    status,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    let body;
    try {
      body = JSON.parse(area.value);
    } catch (e) {
      replace(status, message("error", `Not JSON: ${e.message}`));
      return;
    }
    try {
      await api("PUT", path, { body });
      replace(status, message("ok", `${title} saved.`));
    } catch (e) {
      replace(status, message("error", e.message));
    }
  });
  clear.addEventListener("click", async () => {
    try {
      if (kind === "cors") await api("DELETE", path);
      else await api("PUT", path, { body: { rules: [] } });
      area.value = JSON.stringify({ rules: [] }, null, 2);
      replace(status, message("ok", `${title} removed.`));
    } catch (e) {
      replace(status, message("error", e.message));
    }
  });
  (kind === "cors" ? corsRules(bucket) : api("GET", path).then((env) => env.result.rules || []))
    .then((rules) => {
      area.value = JSON.stringify({ rules }, null, 2);
    })
    .catch((e) => replace(status, message("error", e.message)));
  replace(root, form);
  area.focus();
}

export async function render(root, ctx) {
  const status = h("div", { "aria-live": "polite" });
  const editor = h("div");
  const name = h("input", { name: "name", required: true, spellcheck: "false" });
  const createBtn = h("button", { type: "submit", class: "primary", disabled: !ctx.caps.createBuckets, text: "Create bucket" });
  const create = h(
    "form",
    { class: "panel", id: "create-bucket", "aria-label": "Create a bucket" },
    h("div", { class: "row" }, field("New bucket name", name, "3 to 63 of a-z, 0-9 and -"), createBtn),
    ctx.caps.createBuckets ? null : h("p", { class: "hint", text: `Your token (${ctx.me.permission}) may not create buckets.` }),
  );
  create.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api("POST", acct("/r2/buckets"), { body: { name: name.value.trim() } });
      const done = `Bucket ${name.value.trim()} created.`;
      name.value = "";
      await refresh();
      replace(status, message("ok", done));
    } catch (e) {
      replace(status, message("error", e.message));
    }
  });
  const listBox = h("div");
  async function refresh() {
    const list = await listAll(acct("/r2/buckets"), { per_page: 1000 }, (r) => r.buckets);
    const rows = list.map((b) => [
      h("button", { type: "button", class: "linkish", "data-bucket": b.name, text: b.name, onclick: () => ctx.go("objects", { bucket: b.name }) }),
      b.creation_date || "",
      b.location || "",
      h(
        "div",
        { class: "row" },
        ctx.caps.readConfig ? h("button", { type: "button", text: "CORS", "aria-label": `CORS rules of ${b.name}`, onclick: () => configEditor(editor, ctx, b.name, "cors") }) : null,
        ctx.caps.readConfig ? h("button", { type: "button", text: "Lifecycle", "aria-label": `Lifecycle rules of ${b.name}`, onclick: () => configEditor(editor, ctx, b.name, "lifecycle") }) : null,
        ctx.caps.deleteBuckets
          ? h("button", {
              type: "button",
              class: "danger",
              text: "Delete",
              "aria-label": `Delete bucket ${b.name}`,
              onclick: async () => {
                if (!confirm(`Delete bucket ${b.name}? It must be empty.`)) return;
                try {
                  await api("DELETE", acct(`/r2/buckets/${encodeURIComponent(b.name)}`));
                  await refresh();
                  replace(status, message("ok", `Bucket ${b.name} deleted.`));
                } catch (e) {
                  replace(status, message("error", e.message));
                }
              },
            })
          : null,
      ),
    ]);
    replace(
      listBox,
      rows.length
        ? table(`${rows.length} bucket(s)`, ["Name", "Created", "Location", "Actions"], rows, { id: "buckets-table" })
        : h("p", { text: "No buckets yet." }),
    );
  }
  replace(root, h("h2", { text: "Buckets" }), create, status, listBox, editor);
  try {
    await refresh();
  } catch (e) {
    replace(status, message("error", e.message));
  }
}
