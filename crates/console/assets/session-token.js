// Session tokens decoded in the page, with no request: `base64("jwt/" + JWT)`, the JWT's
// claims, and the credential id (crates/core/src/credential_id.rs): lowercase hex of the first
// 16 bytes of SHA-256("mayfly credential id v1\0" || "header.payload").

import { hex, sha256 } from "./sigv4.js";

const DOMAIN = "mayfly credential id v1\0";

function base64urlJson(segment) {
  const b64 = segment.replace(/-/g, "+").replace(/_/g, "/");
  const padded = b64 + "=".repeat((4 - (b64.length % 4)) % 4);
  const bin = atob(padded);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
}

/** The credential id of a JWT's signing input `header.payload`. */
export async function credentialId(signingInput) {
  const enc = new TextEncoder();
  const a = enc.encode(DOMAIN);
  const b = enc.encode(signingInput);
  const buf = new Uint8Array(a.length + b.length);
  buf.set(a);
  buf.set(b, a.length);
  return hex(await sha256(buf)).slice(0, 32);
}

/**
 * Decodes a session token: {header, claims, credentialId}. Throws an Error saying what is
 * wrong for anything that is not one. The signature is not checked (that needs the parent's
 * secret): this shows what the token claims, not that the server will accept it.
 */
export async function inspect(sessionToken) {
  const text = sessionToken.trim();
  let decoded;
  try {
    decoded = atob(text);
  } catch {
    throw new Error("not base64: a session token is standard base64 of `jwt/` and a JWT");
  }
  if (!decoded.startsWith("jwt/")) throw new Error("does not decode to `jwt/` and a JWT");
  const parts = decoded.slice(4).split(".");
  if (parts.length !== 3) throw new Error("the JWT does not have three dot-separated parts");
  let header;
  let claims;
  try {
    header = base64urlJson(parts[0]);
    claims = base64urlJson(parts[1]);
  } catch {
    throw new Error("the JWT header or claims are not base64url JSON");
  }
  if (typeof claims !== "object" || claims === null) throw new Error("the claims are not a JSON object");
  return { header, claims, credentialId: await credentialId(`${parts[0]}.${parts[1]}`) };
}
