// Objects of one bucket through the S3 endpoint: browse by prefix, upload (drag and drop or
// file picker), download, delete. Each S3 call uses a temporary credential the API mints for it:
// read-only on the bucket to list, and scoped to the one key to upload, download or delete.

import { bytes, field, h, message, replace, table } from "./dom.js";
import { addConsoleCorsRule, bucketNames, corsCovers, corsRules } from "./buckets.js";
import * as s3 from "./s3.js";

/** Listing credentials per bucket, reused until a minute before they expire (memory only). */
const listCreds = new Map();

async function readCreds(ctx, bucket) {
  const cached = listCreds.get(bucket);
  if (cached && cached.until > Date.now()) return cached.creds;
  const creds = await ctx.mint({ bucket, permission: "object-read-only", ttlSeconds: 900 });
  listCreds.set(bucket, { creds, until: Date.now() + 840_000 });
  return creds;
}

function keyCreds(ctx, bucket, key, write) {
  return ctx.mint({
    bucket,
    permission: write ? "object-read-write" : "object-read-only",
    objects: [key],
    ttlSeconds: write ? 3600 : 300,
  });
}

async function corsBanner(ctx, bucket, box, onFixed) {
  const offer = () => {
    const btn = h("button", {
      type: "button",
      class: "primary",
      id: "add-console-cors",
      disabled: !ctx.caps.editConfig,
      text: `Add a CORS rule for ${location.origin}`,
    });
    btn.addEventListener("click", async () => {
      try {
        await addConsoleCorsRule(bucket);
        replace(box, message("ok", `CORS rule for ${location.origin} added to ${bucket}.`));
        onFixed();
      } catch (e) {
        replace(box, message("error", e.message));
      }
    });
    replace(
      box,
      h(
        "div",
        { class: "msg msg-info", role: "status", id: "cors-missing" },
        h("p", {
          text: `The S3 endpoint is another origin: the browser lets this page read its answers only if ${bucket} has a CORS rule for ${location.origin} (methods GET, PUT, POST, DELETE, HEAD; header content-type; exposing ETag).`,
        }),
        btn,
        ctx.caps.editConfig ? null : h("p", { class: "hint", text: "Your token may not change bucket rules: ask an administrator to add it." }),
      ),
    );
  };
  if (!ctx.caps.readConfig) return offer;
  try {
    if (!corsCovers(await corsRules(bucket))) offer();
  } catch (e) {
    replace(box, message("error", e.message));
  }
  return offer;
}

export async function render(root, ctx, params = {}) {
  const names = await bucketNames();
  let bucket = params.bucket || names[0];
  let prefix = params.prefix || "";
  const chooser = h("select", { name: "bucket" }, names.map((n) => h("option", { value: n, text: n, selected: n === bucket })));
  const corsBox = h("div");
  const status = h("div", { "aria-live": "polite" });
  const crumbs = h("nav", { class: "crumbs", "aria-label": "Prefix" });
  const listBox = h("div");
  const uploads = h("div", { id: "uploads" });
  const picker = h("input", { type: "file", multiple: true, name: "files", disabled: !ctx.caps.objectWrite || !ctx.secure });
  const drop = h(
    "div",
    { class: "dropzone", id: "dropzone" },
    h("p", { text: ctx.caps.objectWrite ? "Drop files here to upload them under the current prefix, or choose them:" : `Your token (${ctx.me.permission}) may not upload.` }),
    field("Files to upload", picker),
  );
  if (!names.length) {
    replace(root, h("h2", { text: "Objects" }), message("info", "No bucket to browse: create one first."));
    return;
  }
  let offerCors = () => {};
  const fail = (e) => {
    replace(status, message("error", e.message));
    if (e.cors) offerCors();
  };

  let generation = 0;
  async function load(token, append) {
    if (!ctx.secure) {
      replace(listBox, message("error", "Listing needs WebCrypto (a secure context)."));
      return;
    }
    // Only the latest listing renders: a slower answer for another prefix must not win.
    generation += 1;
    const mine = generation;
    const creds = await readCreds(ctx, bucket);
    const page = await s3.list(creds, bucket, prefix, token);
    if (mine !== generation) return;
    const rows = [];
    for (const f of page.folders) {
      rows.push([
        h("button", { type: "button", text: `${f.slice(prefix.length)}`, "aria-label": `Open folder ${f}`, onclick: () => open(f) }),
        "folder",
        "",
        "",
      ]);
    }
    for (const o of page.objects) rows.push(objectRow(o));
    const more = page.next ? h("button", { type: "button", text: "More", onclick: () => load(page.next, true).catch(fail) }) : null;
    const t = table(`${bucket}/${prefix}`, ["Name", "Size", "Modified", "Actions"], rows, { id: "objects-table" });
    if (append) replace(listBox, ...listBox.children, t, more);
    else replace(listBox, rows.length ? t : h("p", { text: "Nothing here yet." }), more);
  }

  function objectRow(o) {
    const linkOut = h("span");
    const actions = h(
      "div",
      { class: "row" },
      h("button", { type: "button", text: "Download", "aria-label": `Download ${o.key}`, disabled: !ctx.secure, onclick: () => download(o.key).catch(fail) }),
      h("button", {
        type: "button",
        text: "Link",
        "aria-label": `Presigned link to ${o.key}`,
        disabled: !ctx.secure,
        onclick: async () => {
          try {
            const url = await s3.downloadUrl(await keyCreds(ctx, bucket, o.key, false), bucket, o.key, 300);
            replace(linkOut, h("a", { href: url, rel: "noreferrer noopener", target: "_blank", class: "presigned", text: "presigned GET (5 min)" }));
          } catch (e) {
            fail(e);
          }
        },
      }),
      ctx.caps.objectWrite
        ? h("button", {
            type: "button",
            class: "danger",
            text: "Delete",
            "aria-label": `Delete ${o.key}`,
            onclick: async () => {
              if (!confirm(`Delete ${o.key}?`)) return;
              try {
                await s3.deleteObject(await keyCreds(ctx, bucket, o.key, true), bucket, o.key);
                replace(status, message("ok", `Deleted ${o.key}.`));
                await load();
              } catch (e) {
                fail(e);
              }
            },
          })
        : null,
      linkOut,
    );
    return [o.key.slice(prefix.length), bytes(o.size), o.modified, actions];
  }

  async function download(key) {
    const blob = await s3.getObject(await keyCreds(ctx, bucket, key, false), bucket, key);
    const url = URL.createObjectURL(blob);
    const a = h("a", { href: url, download: key.split("/").pop() || "download" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    replace(status, message("ok", `Downloaded ${key} (${bytes(blob.size)}).`));
  }

  async function uploadFiles(files) {
    for (const file of files) {
      const key = prefix + file.name;
      const bar = h("progress", { max: file.size || 1, value: 0 });
      const label = h("span", { text: `${key}: 0 %` });
      const line = h("div", { class: "row upload" }, field(`Upload of ${key}`, bar), label);
      uploads.append(line);
      try {
        const creds = await keyCreds(ctx, bucket, key, true);
        const done = await s3.upload(creds, bucket, key, file, (sent, total) => {
          bar.value = sent;
          label.textContent = `${key}: ${Math.floor((100 * sent) / (total || 1))} %`;
        });
        label.textContent = `${key}: uploaded (${bytes(file.size)}, ${done.parts} part${done.parts > 1 ? "s" : ""})`;
        label.classList.add("done");
      } catch (e) {
        label.textContent = `${key}: failed`;
        fail(e);
      }
    }
    await load().catch(fail);
  }

  function open(p) {
    prefix = p;
    drawCrumbs();
    load().catch(fail);
  }

  function drawCrumbs() {
    const parts = prefix.split("/").filter((x) => x);
    const items = [h("button", { type: "button", text: `${bucket}/`, onclick: () => open("") })];
    let acc = "";
    for (const p of parts) {
      acc += `${p}/`;
      const target = acc;
      items.push(h("button", { type: "button", text: `${p}/`, onclick: () => open(target) }));
    }
    replace(crumbs, h("span", { text: "Prefix: " }), items);
  }

  chooser.addEventListener("change", async () => {
    bucket = chooser.value;
    prefix = "";
    drawCrumbs();
    replace(corsBox);
    replace(status);
    offerCors = await corsBanner(ctx, bucket, corsBox, () => load().catch(fail));
    load().catch(fail);
  });
  picker.addEventListener("change", () => {
    const files = Array.from(picker.files);
    picker.value = "";
    uploadFiles(files);
  });
  drop.addEventListener("dragover", (ev) => {
    ev.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    drop.classList.remove("over");
    if (!ctx.caps.objectWrite) {
      replace(status, message("error", `Your token (${ctx.me.permission}) may not upload.`));
      return;
    }
    uploadFiles(Array.from(ev.dataTransfer.files));
  });

  const goInput = h("input", { name: "prefix", spellcheck: "false" });
  const goForm = h(
    "form",
    { class: "row", id: "prefix-form", "aria-label": "Go to a prefix" },
    field("Go to prefix (uploads land under it)", goInput, "e.g. reports/2026/"),
    h("button", { type: "submit", text: "Open prefix" }),
  );
  goForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    let p = goInput.value.trim().replace(/^\/+/, "");
    if (p && !p.endsWith("/")) p += "/";
    open(p);
  });

  replace(root, h("h2", { text: "Objects" }), h("div", { class: "row" }, field("Bucket", chooser), goForm), corsBox, crumbs, drop, uploads, status, listBox);
  drawCrumbs();
  offerCors = await corsBanner(ctx, bucket, corsBox, () => load().catch(fail));
  await load().catch(fail);
}
