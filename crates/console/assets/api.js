// The v4 API client. The API token lives in sessionStorage (gone when the tab closes) and
// leaves the page only in the Authorization header of same-origin requests: never in a URL,
// never in a log line, never in persistent storage.

const TOKEN_KEY = "mayfly.console.apiToken";
const ACCOUNT_KEY = "mayfly.console.accountId";

/** The signed-in session, or null. */
export function session() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const account = sessionStorage.getItem(ACCOUNT_KEY);
  return token && account ? { token, account } : null;
}

export function saveSession(account, token) {
  sessionStorage.setItem(ACCOUNT_KEY, account);
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearSession() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(ACCOUNT_KEY);
}

/** A refusal or failure of the API, carrying its v4 `errors` verbatim. */
export class ApiError extends Error {
  constructor(status, errors) {
    const text = errors.length
      ? errors
          .map((e) => {
            const at = e.source && e.source.pointer ? ` (at ${e.source.pointer})` : "";
            return `${e.message} [code ${e.code}]${at}`;
          })
          .join("; ")
      : `HTTP ${status}`;
    super(text);
    this.status = status;
    this.errors = errors;
  }
}

/**
 * Calls `/client/v4{path}` and returns the envelope (`result`, `result_info`), or throws an
 * ApiError with the server's messages. `query` values are non-secret parameters only.
 */
export async function api(method, path, { body, query } = {}) {
  const s = session();
  if (!s) throw new ApiError(401, [{ code: 0, message: "Not signed in." }]);
  const url = new URL(`/client/v4${path}`, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
  }
  const headers = { Authorization: `Bearer ${s.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
  } catch (e) {
    throw new ApiError(0, [{ code: 0, message: `The API did not answer: ${e.message}` }]);
  }
  let json = null;
  try {
    json = await res.json();
  } catch {
    throw new ApiError(res.status, [{ code: 0, message: `HTTP ${res.status} without a v4 envelope` }]);
  }
  if (!res.ok || !json.success) throw new ApiError(res.status, json.errors || []);
  return json;
}

/** `/accounts/{account}{rest}` for the signed-in account. */
export function acct(rest) {
  const s = session();
  return `/accounts/${encodeURIComponent(s ? s.account : "")}${rest}`;
}

/** `/mayfly/accounts/{account}{rest}`: Mayfly's extensions. */
export function mayflyAcct(rest) {
  const s = session();
  return `/mayfly/accounts/${encodeURIComponent(s ? s.account : "")}${rest}`;
}

/** Every page of a cursor-paginated list endpoint, up to `max` items. */
export async function listAll(path, query = {}, pick = (r) => r, max = 5000) {
  const out = [];
  let cursor;
  for (;;) {
    const env = await api("GET", path, { query: { ...query, cursor } });
    out.push(...pick(env.result));
    cursor = env.result_info && env.result_info.cursor;
    if (!cursor || out.length >= max) return out;
  }
}
