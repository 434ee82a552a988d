// Shared pieces for the S3-side node:test suites (client-s3, presigned URLs, local signing):
// one server per test file (harness.mjs starts it), buckets and temporary credentials made
// through the real API, S3 clients in path and virtual-hosted style, and small readers for
// S3 XML errors. Nothing here knows how Mayfly is implemented: only its documented surface.
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startServer, uniqueBucket } from './harness.mjs';

export { startServer, uniqueBucket };

/** Stops the server with SIGTERM and checks the clean exit the contract promises. */
export async function stopServer(server) {
  const { code, signal } = await server.stop();
  assert.equal(signal, null, 'mayfly serve was not killed by a signal');
  assert.equal(code, 0, 'mayfly serve exits 0 on SIGTERM');
}

/** One call to the management API with the bootstrap token; returns { status, body }. */
export async function api(server, method, path, body) {
  const res = await fetch(`${server.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${server.api_token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** Creates a bucket through the API (temporary credentials cannot create buckets). */
export async function createBucket(server, prefix = 'n') {
  const name = uniqueBucket(prefix);
  const { status, body } = await api(server, 'POST', `/accounts/${server.account_id}/r2/buckets`, { name });
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.success, true);
  assert.equal(body.result.name, name);
  return name;
}

/**
 * Mints temporary credentials with POST /accounts/{a}/r2/temp-access-credentials, the
 * bootstrap token as bearer and as parent. Returns the S3 credential triple.
 */
export async function mintTemporary(server, { bucket, permission = 'object-read-write', ttlSeconds = 900, prefixes, objects }) {
  const req = { bucket, parentAccessKeyId: server.access_key_id, permission, ttlSeconds };
  if (prefixes) req.prefixes = prefixes;
  if (objects) req.objects = objects;
  const { status, body } = await api(server, 'POST', `/accounts/${server.account_id}/r2/temp-access-credentials`, req);
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.success, true);
  const { accessKeyId, secretAccessKey, sessionToken } = body.result;
  assert.equal(accessKeyId, server.access_key_id, 'temporary access key id = parent key id');
  assert.match(secretAccessKey, /^[0-9a-f]{64}$/);
  assert.ok(Buffer.from(sessionToken, 'base64').toString('ascii').startsWith('jwt/'));
  return { accessKeyId, secretAccessKey, sessionToken };
}

/**
 * The two kinds of key every S3 test runs with: the long-lived bootstrap key pair from
 * `mayfly init`, and temporary object-read-write credentials on the test's bucket minted
 * from it through the API.
 */
export const KEY_KINDS = {
  'long-lived key': async (server) => ({
    accessKeyId: server.access_key_id,
    secretAccessKey: server.secret_access_key,
  }),
  'temporary credentials': async (server, bucket) => mintTemporary(server, { bucket }),
};

/**
 * A DNS lookup that answers 127.0.0.1 for every name (`<bucket>.localhost` need not resolve
 * on this machine) and records the names asked for. The Host header is untouched.
 */
export function loopbackLookup(asked = new Set()) {
  const lookup = (hostname, options, callback) => {
    if (typeof options === 'function') {
      callback = options;
      options = {};
    }
    asked.add(hostname);
    if (options && options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
    else callback(null, '127.0.0.1', 4);
  };
  return { lookup, asked };
}

/**
 * An S3Client for Mayfly.
 * - style 'path': endpoint = the S3 listen URL (127.0.0.1:port), path-style addressing.
 * - style 'virtual': endpoint http://localhost:<port>, forcePathStyle false, so the SDK sends
 *   requests to <bucket>.localhost:<port>; a loopback lookup routes them to the server.
 * `targets` collects { hostname, path, method, headers } of every request the SDK sends.
 */
export function s3Client(server, credentials, style) {
  const port = new URL(server.s3Url).port;
  const { lookup, asked } = loopbackLookup();
  const targets = [];
  const client = new S3Client({
    region: 'auto',
    endpoint: style === 'virtual' ? `http://localhost:${port}` : server.s3Url,
    forcePathStyle: style !== 'virtual',
    credentials,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true, lookup }) }),
  });
  client.middlewareStack.add(
    (next) => async (args) => {
      const { hostname, path, method, headers } = args.request;
      targets.push({ hostname, path, method, headers: { ...headers } });
      return next(args);
    },
    // Low priority: runs after signing, so the recorded headers are the ones sent.
    { step: 'finalizeRequest', priority: 'low', name: 'mayflyRecordTarget' },
  );
  return { client, asked, targets, port };
}

/** Checks that every request of a client went to the address style it was built for. */
export function assertAddressing(s3, bucket, style) {
  assert.ok(s3.targets.length > 0);
  for (const t of s3.targets) {
    if (style === 'virtual') {
      assert.equal(t.hostname, `${bucket}.localhost`);
      assert.ok(!t.path.startsWith(`/${bucket}`), `virtual-hosted path carries no bucket: ${t.path}`);
    } else {
      assert.equal(t.hostname, '127.0.0.1');
      assert.ok(t.path.startsWith(`/${bucket}`), `path-style path starts with the bucket: ${t.path}`);
    }
  }
  if (style === 'virtual') assert.deepEqual([...s3.asked], [`${bucket}.localhost`]);
}

/** Asserts an @aws-sdk error: S3 error code (from the XML) and HTTP status. */
export async function assertS3Error(promise, code, status) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.name, code, `${e.name}: ${e.message}`);
    assert.equal(e.$metadata?.httpStatusCode, status);
    return true;
  });
}

/** The <Code> of an S3 XML error body. */
export function xmlCode(xml) {
  const m = /<Error>[\s\S]*?<Code>([^<]+)<\/Code>/.exec(xml);
  return m ? m[1] : null;
}

/** Asserts a fetch Response is an S3 XML error with this status and code. */
export async function assertXmlError(res, status, code) {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.equal(xmlCode(text), code, text);
}

/** Base64 of the big-endian CRC32, as in x-amz-checksum-crc32. */
export function crc32b64(buf) {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc32(buf) >>> 0);
  return b.toString('base64');
}

export function md5hex(buf) {
  return createHash('md5').update(buf).digest('hex');
}

export function sha256hex(buf) {
  return createHash('sha256').update(buf).digest('hex');
}

export function randomBody(n) {
  return randomBytes(n);
}

/** Reads a whole SDK GetObject body as a Buffer. */
export async function bodyBytes(out) {
  return Buffer.from(await out.Body.transformToByteArray());
}

/**
 * One HTTP request to a URL whose host may be `<bucket>.localhost` (Node's fetch cannot take
 * a custom lookup): resolves to 127.0.0.1, keeps the Host header. Returns { status, headers, body }.
 */
export function httpRequest(url, { method = 'GET', headers = {}, body } = {}) {
  const { lookup } = loopbackLookup();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, lookup }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
