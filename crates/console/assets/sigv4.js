// AWS Signature Version 4 query signing ("presigned URLs") with WebCrypto. The secret key never
// leaves this module's arguments: it only keys HMACs.

const enc = new TextEncoder();

export function hex(buf) {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function sha256(data) {
  return crypto.subtle.digest("SHA-256", typeof data === "string" ? enc.encode(data) : data);
}

async function hmac(key, msg) {
  const k = await crypto.subtle.importKey(
    "raw",
    typeof key === "string" ? enc.encode(key) : key,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return crypto.subtle.sign("HMAC", k, enc.encode(msg));
}

/** RFC 3986 percent-encoding, as SigV4 wants it (everything but unreserved characters). */
export function uriEncode(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The path-style path of `bucket`/`key`, each key segment encoded, slashes kept. */
export function objectPath(bucket, key) {
  const k = key === undefined || key === null ? "" : `/${key.split("/").map(uriEncode).join("/")}`;
  return `/${uriEncode(bucket)}${k}`;
}

function amzDate(now) {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/**
 * A presigned URL: `method` on `endpoint` (an origin, e.g. http://127.0.0.1:8788) at `path`
 * with `query` (operation parameters), signed with `creds` ({accessKeyId, secretAccessKey,
 * sessionToken?}) for `expires` seconds. Only the host header is signed, and the payload is
 * UNSIGNED-PAYLOAD, so the browser may send any body.
 */
export async function presign({ method, endpoint, path, query = {}, creds, expires = 900, region = "auto", now = new Date() }) {
  const url = new URL(endpoint);
  const stamp = amzDate(now);
  const day = stamp.slice(0, 8);
  const scope = `${day}/${region}/s3/aws4_request`;
  const params = { ...query };
  params["X-Amz-Algorithm"] = "AWS4-HMAC-SHA256";
  params["X-Amz-Credential"] = `${creds.accessKeyId}/${scope}`;
  params["X-Amz-Date"] = stamp;
  params["X-Amz-Expires"] = String(expires);
  params["X-Amz-SignedHeaders"] = "host";
  if (creds.sessionToken) params["X-Amz-Security-Token"] = creds.sessionToken;
  const pairs = Object.entries(params)
    .map(([k, v]) => [uriEncode(k), uriEncode(String(v))])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  const canonicalQuery = pairs.map(([k, v]) => `${k}=${v}`).join("&");
  const canonical = [method, path, canonicalQuery, `host:${url.host}`, "", "host", "UNSIGNED-PAYLOAD"].join("\n");
  const toSign = ["AWS4-HMAC-SHA256", stamp, scope, hex(await sha256(canonical))].join("\n");
  let key = await hmac(`AWS4${creds.secretAccessKey}`, day);
  key = await hmac(key, region);
  key = await hmac(key, "s3");
  key = await hmac(key, "aws4_request");
  const signature = hex(await hmac(key, toSign));
  return `${url.origin}${path}?${canonicalQuery}&X-Amz-Signature=${signature}`;
}
