// The console's shell: sign-in, what the token may do, navigation between pages.

import { acct, api, ApiError, clearSession, saveSession, session } from "./api.js";
import { message, replace } from "./dom.js";
import { setEndpoint } from "./s3.js";
import * as buckets from "./buckets.js";
import * as objects from "./objects.js";
import * as tokens from "./tokens.js";
import * as credentials from "./credentials.js";
import * as activity from "./activity.js";

const PAGES = {
  buckets: buckets.render,
  objects: objects.render,
  tokens: tokens.render,
  credentials: credentials.renderMint,
  inspect: credentials.renderInspect,
  revocations: activity.renderRevocations,
  audit: activity.renderAudit,
};

const $ = (id) => document.getElementById(id);

/** What the signed-in token is and may do; pages read it through `ctx`. */
const ctx = {
  me: null,
  caps: null,
  /** Shows page `name` with `params`. */
  go(name, params = {}) {
    show(name, params);
  },
  /** Mints a temporary credential with the signed-in token as its parent. */
  async mint(body) {
    const env = await api("POST", acct("/r2/temp-access-credentials"), {
      body: { parentAccessKeyId: ctx.me.id, ttlSeconds: 900, ...body },
    });
    return env.result;
  },
  secure: Boolean(window.isSecureContext && window.crypto && crypto.subtle),
};

/** Rights by permission, mirroring mayfly-core's manage.rs (the server decides regardless). */
function capabilities(permission) {
  const adminRW = permission === "admin-read-write";
  const admin = adminRW || permission === "admin-read-only";
  return {
    createBuckets: adminRW,
    deleteBuckets: adminRW,
    readConfig: admin,
    editConfig: adminRW,
    manageTokens: adminRW,
    objectWrite: adminRW || permission === "object-read-write",
    audit: admin,
    // Revoking by id and listing revocations; any token may revoke what it minted itself.
    revoke: adminRW,
  };
}

async function loadMe() {
  const verified = await api("GET", "/user/tokens/verify");
  const id = verified.result.id;
  const token = (await api("GET", acct(`/tokens/${encodeURIComponent(id)}`))).result;
  ctx.me = {
    id,
    name: token.name,
    permission: token.permission,
    buckets: token.buckets || null,
    expiresOn: token.expires_on || null,
  };
  ctx.caps = capabilities(token.permission);
}

async function loadConfig() {
  const res = await fetch("config.json", { cache: "no-store", credentials: "omit" });
  const cfg = await res.json();
  const host = cfg.s3Hosts && cfg.s3Hosts[0];
  setEndpoint(host ? `${location.protocol}//${host}` : null);
}

let current = null;

function show(name, params = {}) {
  if (!PAGES[name]) name = "buckets";
  const btn = document.querySelector(`#nav button[data-view="${name}"]`);
  if (btn && btn.hidden) name = "buckets";
  current = name;
  for (const b of document.querySelectorAll("#nav button")) {
    if (b.dataset.view === name) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
  if (location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
  const root = $("view");
  replace(root);
  PAGES[name](root, ctx, params).catch((e) => root.append(message("error", e.message)));
}

function signedIn() {
  $("signin").hidden = true;
  $("nav").hidden = false;
  $("who").hidden = false;
  const exp = ctx.me.expiresOn ? `, expires ${ctx.me.expiresOn}` : "";
  const scope = ctx.me.buckets ? ` on ${ctx.me.buckets.join(", ")}` : "";
  $("who-text").textContent = `${ctx.me.name} (${ctx.me.permission}${scope}${exp})`;
  const hide = { tokens: !ctx.caps.manageTokens, audit: !ctx.caps.audit };
  for (const b of document.querySelectorAll("#nav button")) b.hidden = Boolean(hide[b.dataset.view]);
  show(location.hash.slice(1) || "buckets");
}

function signedOut(note) {
  ctx.me = null;
  ctx.caps = null;
  $("nav").hidden = true;
  $("who").hidden = true;
  replace($("view"));
  $("signin").hidden = false;
  replace($("signin-status"), note ? message("error", note) : null);
  $("signin-account").focus();
}

async function start() {
  $("insecure").hidden = ctx.secure;
  for (const b of document.querySelectorAll("#nav button")) {
    b.addEventListener("click", () => show(b.dataset.view));
  }
  $("sign-out").addEventListener("click", () => {
    clearSession();
    signedOut();
  });
  $("signin-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const account = $("signin-account").value.trim();
    const token = $("signin-token").value.trim();
    $("signin-token").value = "";
    saveSession(account, token);
    replace($("signin-status"), message("info", "Checking the token…"));
    try {
      await loadMe();
      replace($("signin-status"));
      signedIn();
    } catch (e) {
      clearSession();
      signedOut(e instanceof ApiError ? `The server refused the token: ${e.message}` : e.message);
    }
  });
  try {
    await loadConfig();
  } catch {
    setEndpoint(null);
  }
  if (session()) {
    try {
      await loadMe();
      signedIn();
      return;
    } catch (e) {
      clearSession();
      signedOut(`Signed out: ${e.message}`);
      return;
    }
  }
  signedOut();
}

start();
