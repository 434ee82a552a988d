// S3 calls from the browser, each a presigned request made with a temporary credential the API
// minted for exactly what the call needs. The S3 endpoint is another origin: the bucket needs a
// CORS rule for the console's origin, or the browser refuses to show the answers.

import { objectPath, presign } from "./sigv4.js";

/** Parts of multipart uploads, and the size above which an upload goes multipart. */
export const PART_SIZE = 8 * 1024 * 1024;

let endpoint = null;

/** Sets the S3 endpoint origin (from /console/config.json). */
export function setEndpoint(origin) {
  endpoint = origin;
}

export function getEndpoint() {
  return endpoint;
}

/** An S3 failure: the XML error's code and message, or a hint when the browser refused. */
export class S3Error extends Error {
  constructor(text, { status = 0, code = "", cors = false } = {}) {
    super(text);
    this.status = status;
    this.code = code;
    this.cors = cors;
  }
}

function corsFailure(what) {
  return new S3Error(
    `${what}: the browser could not read the S3 endpoint's answer. Most likely the bucket has no CORS rule for ${location.origin}.`,
    { cors: true },
  );
}

async function errorOf(status, text) {
  const doc = new DOMParser().parseFromString(text || "", "application/xml");
  const pick = (n) => {
    const el = doc.getElementsByTagName(n)[0];
    return el ? el.textContent : "";
  };
  const code = pick("Code");
  const msg = pick("Message");
  return new S3Error(code ? `${status} ${code}: ${msg}` : `HTTP ${status}`, { status, code });
}

async function send(method, url, body) {
  let res;
  try {
    res = await fetch(url, { method, body, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" });
  } catch {
    throw corsFailure(`${method} failed`);
  }
  if (!res.ok) throw await errorOf(res.status, await res.text());
  return res;
}

function sign(method, creds, bucket, key, query, expires = 900) {
  return presign({ method, endpoint, path: objectPath(bucket, key), query, creds, expires });
}

/** One page of ListObjectsV2 with delimiter `/`: {folders, objects, next}. */
export async function list(creds, bucket, prefix, token) {
  const query = { "list-type": "2", delimiter: "/", "max-keys": "1000", prefix };
  if (token) query["continuation-token"] = token;
  const res = await send("GET", await sign("GET", creds, bucket, null, query));
  const doc = new DOMParser().parseFromString(await res.text(), "application/xml");
  const text = (el, n) => {
    const c = el.getElementsByTagName(n)[0];
    return c ? c.textContent : "";
  };
  const objects = Array.from(doc.getElementsByTagName("Contents"), (c) => ({
    key: text(c, "Key"),
    size: Number(text(c, "Size")),
    modified: text(c, "LastModified"),
  }));
  const folders = Array.from(doc.getElementsByTagName("CommonPrefixes"), (c) => text(c, "Prefix"));
  const truncated = text(doc, "IsTruncated") === "true";
  return { objects, folders, next: truncated ? text(doc, "NextContinuationToken") : null };
}

/** A presigned GET URL for `key`, valid `expires` seconds. */
export function downloadUrl(creds, bucket, key, expires = 300) {
  return sign("GET", creds, bucket, key, {}, expires);
}

/** GETs `key` and returns it as a Blob. */
export async function getObject(creds, bucket, key) {
  const res = await send("GET", await downloadUrl(creds, bucket, key));
  return res.blob();
}

export async function deleteObject(creds, bucket, key) {
  await send("DELETE", await sign("DELETE", creds, bucket, key, {}));
}

/** A PUT with upload progress (fetch has none): resolves to the ETag header. */
function xhrPut(url, body, contentType, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    if (contentType) xhr.setRequestHeader("Content-Type", contentType);
    xhr.upload.addEventListener("progress", (e) => onProgress(e.loaded));
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.getResponseHeader("ETag"));
      else errorOf(xhr.status, xhr.responseText).then(reject);
    });
    xhr.addEventListener("error", () => reject(corsFailure("PUT failed")));
    xhr.send(body);
  });
}

/**
 * Uploads `file` to `key`: one presigned PUT, or a multipart upload in PART_SIZE parts when it
 * is larger. `onProgress(sentBytes, totalBytes)`; returns {etag, parts}.
 */
export async function upload(creds, bucket, key, file, onProgress) {
  const type = file.type || "application/octet-stream";
  const total = file.size;
  if (total <= PART_SIZE) {
    const etag = await xhrPut(await sign("PUT", creds, bucket, key, {}), file, type, (n) => onProgress(n, total));
    onProgress(total, total);
    return { etag, parts: 1 };
  }
  const created = await send("POST", await sign("POST", creds, bucket, key, { uploads: "" }));
  const doc = new DOMParser().parseFromString(await created.text(), "application/xml");
  const uploadId = doc.getElementsByTagName("UploadId")[0]?.textContent;
  if (!uploadId) throw new S3Error("CreateMultipartUpload answered without an UploadId");
  const etags = [];
  try {
    let done = 0;
    for (let n = 1, off = 0; off < total; n += 1, off += PART_SIZE) {
      const part = file.slice(off, Math.min(off + PART_SIZE, total));
      const url = await sign("PUT", creds, bucket, key, { partNumber: String(n), uploadId });
      const etag = await xhrPut(url, part, null, (sent) => onProgress(done + sent, total));
      if (!etag) throw new S3Error("UploadPart answered without an ETag the page may read (the CORS rule must expose ETag)");
      etags.push(etag);
      done += part.size;
      onProgress(done, total);
    }
    const xml = `<CompleteMultipartUpload>${etags
      .map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</ETag></Part>`)
      .join("")}</CompleteMultipartUpload>`;
    const res = await send("POST", await sign("POST", creds, bucket, key, { uploadId }), xml);
    const body = await res.text();
    // S3 may answer 200 with an <Error> document for a failed completion.
    if (body.includes("<Error>")) throw await errorOf(200, body);
    const out = new DOMParser().parseFromString(body, "application/xml");
    return { etag: out.getElementsByTagName("ETag")[0]?.textContent || "", parts: etags.length };
  } catch (e) {
    try {
      await send("DELETE", await sign("DELETE", creds, bucket, key, { uploadId }));
    } catch {
      // The abort is best effort; the lifecycle rules or GC clean up what it leaves.
    }
    throw e;
  }
}
