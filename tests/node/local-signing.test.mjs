// Cloudflare's documented local (client-side) signing of R2 temporary credentials, written
// here from the documentation with `jose` and `aws4fetch`, not from Mayfly's code: first
// checked against SPEC §2's test vector, then used against a real Mayfly. Also drives
// API-minted temporary credentials through aws4fetch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import { AwsClient } from 'aws4fetch';
import { PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import {
  startServer, stopServer, createBucket, mintTemporary, assertXmlError, randomBody, md5hex, sha256hex,
  s3Client, assertAddressing,
} from './s3kit.mjs';

/**
 * The documented helper: a JWT (HS256, keyed with the parent's secret access key as its 64 hex
 * chars) over {bucket, scope, actions?, paths?, sub, iss, aud, iat, exp}, in that order;
 * secret = hex sha256(jwt); session token = base64('jwt/' + jwt); key id = the parent's.
 */
async function signTemporaryCredentials({
  accountId, parentAccessKeyId, parentSecretAccessKey, bucket, permission,
  actions, prefixes, objects, audience, ttlSeconds = 900, now = Math.floor(Date.now() / 1000),
}) {
  const claims = { bucket, scope: permission };
  if (actions && actions.length > 0) claims.actions = actions;
  if ((prefixes && prefixes.length > 0) || (objects && objects.length > 0)) {
    claims.paths = { prefixPaths: prefixes ?? [], objectPaths: objects ?? [] };
  }
  claims.sub = accountId;
  claims.iss = parentAccessKeyId;
  claims.aud = audience;
  claims.iat = now;
  claims.exp = now + ttlSeconds;
  const jwt = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(parentSecretAccessKey));
  return {
    accessKeyId: parentAccessKeyId,
    secretAccessKey: createHash('sha256').update(jwt).digest('hex'),
    sessionToken: Buffer.from(`jwt/${jwt}`, 'ascii').toString('base64'),
    jwt,
  };
}

test('the local-signing helper reproduces the SPEC §2 test vector', async () => {
  const parentSecret = createHash('sha256').update('example-parent-api-token-value-0000000000').digest('hex');
  assert.equal(parentSecret, '185c3470580df7f25e8ff38cd591f6966c393160cd4d1c7f1a27e7850054aead');
  const creds = await signTemporaryCredentials({
    accountId: '023e105f4ecef8ad9ca31a8372d0c353',
    parentAccessKeyId: '0123456789abcdef0123456789abcdef',
    parentSecretAccessKey: parentSecret,
    bucket: 'my-bucket',
    permission: 'object-read-only',
    actions: ['GetObject', 'HeadObject'],
    prefixes: ['data/'],
    audience: '023e105f4ecef8ad9ca31a8372d0c353.r2.cloudflarestorage.com',
    now: 1750000000,
    ttlSeconds: 900,
  });
  const [h, c, sig] = creds.jwt.split('.');
  assert.equal(Buffer.from(h, 'base64url').toString(), '{"alg":"HS256","typ":"JWT"}');
  assert.equal(
    Buffer.from(c, 'base64url').toString(),
    '{"bucket":"my-bucket","scope":"object-read-only","actions":["GetObject","HeadObject"],"paths":{"prefixPaths":["data/"],"objectPaths":[]},"sub":"023e105f4ecef8ad9ca31a8372d0c353","iss":"0123456789abcdef0123456789abcdef","aud":"023e105f4ecef8ad9ca31a8372d0c353.r2.cloudflarestorage.com","iat":1750000000,"exp":1750000900}',
  );
  assert.equal(sig, 'haOtFwtg4UU5S5RhzFiqqYDkXF7LrE0H7QKRyQbgC0o');
  assert.equal(creds.secretAccessKey, '947cb3c34949b949560bbac48d7cc00251a20b0bd7ea91f6d9f21e526c41f22f');
  assert.equal(creds.sessionToken.length, 684);
  assert.ok(creds.sessionToken.startsWith('and0L2V5'));
  assert.equal(creds.accessKeyId, '0123456789abcdef0123456789abcdef');
});

let server;
let s3host;

before(async () => {
  server = await startServer();
  s3host = new URL(server.s3Url).host;
});

after(async () => {
  await stopServer(server);
});

/** Signs locally with the bootstrap key as parent, for this server's S3 host. */
function signLocally(opts) {
  return signTemporaryCredentials({
    accountId: server.account_id,
    parentAccessKeyId: server.access_key_id,
    parentSecretAccessKey: server.secret_access_key,
    audience: s3host,
    ...opts,
  });
}

function aws(creds) {
  return new AwsClient({
    accessKeyId: creds.accessKeyId,
    secretAccessKey: creds.secretAccessKey,
    sessionToken: creds.sessionToken,
    service: 's3',
    region: 'auto',
    retries: 0,
  });
}

const parent = () => aws({ accessKeyId: server.access_key_id, secretAccessKey: server.secret_access_key });
const url = (bucket, key = '', query = '') => `${server.s3Url}/${bucket}${key ? `/${key}` : ''}${query}`;

async function seed(bucket, key, body) {
  const res = await parent().fetch(url(bucket, key), { method: 'PUT', body });
  assert.equal(res.status, 200, await res.text());
}

test('locally signed object-read-write prefix token: in scope works, out of scope is 403', async () => {
  const bucket = await createBucket(server, 'local');
  await seed(bucket, 'other/existing.txt', 'parent wrote this');
  const creds = await signLocally({ bucket, permission: 'object-read-write', prefixes: ['uploads/'] });
  const client = aws(creds);

  // UNSIGNED-PAYLOAD (aws4fetch's S3 default) and a signed SHA-256 payload.
  const body = randomBody(100 * 1024 + 1);
  const put = await client.fetch(url(bucket, 'uploads/a.bin'), { method: 'PUT', body });
  assert.equal(put.status, 200, await put.text());
  assert.equal(put.headers.get('etag'), `"${md5hex(body)}"`);
  const text = 'signed payload ✓';
  const put2 = await client.fetch(url(bucket, 'uploads/b.txt'), {
    method: 'PUT', body: text, headers: { 'X-Amz-Content-Sha256': sha256hex(Buffer.from(text)), 'Content-Type': 'text/plain' },
  });
  assert.equal(put2.status, 200, await put2.text());

  const got = await client.fetch(url(bucket, 'uploads/a.bin'));
  assert.equal(got.status, 200);
  assert.ok(Buffer.from(await got.arrayBuffer()).equals(body), 'round-trips byte-exact');
  const got2 = await client.fetch(url(bucket, 'uploads/b.txt'));
  assert.equal(got2.headers.get('content-type'), 'text/plain');
  assert.equal(await got2.text(), text);
  const head = await client.fetch(url(bucket, 'uploads/a.bin'), { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(body.length));

  const list = await client.fetch(url(bucket, '', '?list-type=2&prefix=uploads%2F'));
  const xml = await list.text();
  assert.equal(list.status, 200, xml);
  assert.deepEqual([...xml.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]), ['uploads/a.bin', 'uploads/b.txt']);

  await assertXmlError(await client.fetch(url(bucket, 'other/new.txt'), { method: 'PUT', body: 'no' }), 403, 'AccessDenied');
  await assertXmlError(await client.fetch(url(bucket, 'other/existing.txt')), 403, 'AccessDenied');
  await assertXmlError(await client.fetch(url(bucket, 'other/missing.txt')), 403, 'AccessDenied');
  await assertXmlError(await client.fetch(url(bucket, 'uploadsX/a.bin'), { method: 'PUT', body: 'no' }), 403, 'AccessDenied');
  await assertXmlError(await client.fetch(url(bucket, '', '?list-type=2')), 403, 'AccessDenied');
  await assertXmlError(await client.fetch(url(bucket, 'other/existing.txt'), { method: 'DELETE' }), 403, 'AccessDenied');

  assert.equal((await client.fetch(url(bucket, 'uploads/b.txt'), { method: 'DELETE' })).status, 204);
  await assertXmlError(await client.fetch(url(bucket, 'uploads/b.txt')), 404, 'NoSuchKey');
  const still = await parent().fetch(url(bucket, 'other/existing.txt'));
  assert.equal(await still.text(), 'parent wrote this', 'denied calls changed nothing');
  assert.equal((await parent().fetch(url(bucket, 'other/new.txt'))).status, 404);
});

test("locally signed actions ['GetObject','HeadObject'] deny ListObjectsV2 (and writes)", async () => {
  const bucket = await createBucket(server, 'local');
  await seed(bucket, 'data/report.csv', 'a,b\n1,2\n');
  const narrowed = aws(await signLocally({ bucket, permission: 'object-read-only', actions: ['GetObject', 'HeadObject'] }));
  const got = await narrowed.fetch(url(bucket, 'data/report.csv'));
  assert.equal(got.status, 200);
  assert.equal(await got.text(), 'a,b\n1,2\n');
  assert.equal((await narrowed.fetch(url(bucket, 'data/report.csv'), { method: 'HEAD' })).status, 200);
  await assertXmlError(await narrowed.fetch(url(bucket, '', '?list-type=2')), 403, 'AccessDenied');
  await assertXmlError(await narrowed.fetch(url(bucket, '', '?list-type=2&prefix=data%2F')), 403, 'AccessDenied');
  await assertXmlError(await narrowed.fetch(url(bucket, 'data/new.csv'), { method: 'PUT', body: 'x' }), 403, 'AccessDenied');

  // The same scope without `actions` may list: it is `actions` that denies above.
  const plain = aws(await signLocally({ bucket, permission: 'object-read-only' }));
  const list = await plain.fetch(url(bucket, '', '?list-type=2'));
  const xml = await list.text();
  assert.equal(list.status, 200, xml);
  assert.match(xml, /<Key>data\/report\.csv<\/Key>/);

  // actions cannot widen scope: PutObject in actions of a read-only token is still denied.
  const widened = aws(await signLocally({ bucket, permission: 'object-read-only', actions: ['GetObject', 'PutObject'] }));
  await assertXmlError(await widened.fetch(url(bucket, 'data/new.csv'), { method: 'PUT', body: 'x' }), 403, 'AccessDenied');
  assert.equal((await parent().fetch(url(bucket, 'data/new.csv'))).status, 404);
});

test('locally signed exact-object token reaches that key only', async () => {
  const bucket = await createBucket(server, 'local');
  await seed(bucket, 'reports/2026-q1.pdf', 'PDF q1');
  await seed(bucket, 'reports/2026-q1.pdf.bak', 'PDF backup');
  const client = aws(await signLocally({ bucket, permission: 'object-read-only', objects: ['reports/2026-q1.pdf'] }));
  const got = await client.fetch(url(bucket, 'reports/2026-q1.pdf'));
  assert.equal(got.status, 200);
  assert.equal(await got.text(), 'PDF q1');
  await assertXmlError(await client.fetch(url(bucket, 'reports/2026-q1.pdf.bak')), 403, 'AccessDenied');
  await assertXmlError(await client.fetch(url(bucket, '', '?list-type=2&prefix=reports%2F')), 403, 'AccessDenied');
});

test('locally signed tokens that must not work', async () => {
  const bucket = await createBucket(server, 'local');
  const otherBucket = await createBucket(server, 'local');
  await seed(bucket, 'k.txt', 'v');
  const base = { bucket, permission: 'object-read-write' };
  const now = Math.floor(Date.now() / 1000);

  const expired = await signLocally({ ...base, now: now - 1000, ttlSeconds: 600 });
  await assertXmlError(await aws(expired).fetch(url(bucket, 'k.txt')), 400, 'ExpiredToken');

  const wrongAudience = await signLocally({ ...base, audience: 'elsewhere.example.com' });
  await assertXmlError(await aws(wrongAudience).fetch(url(bucket, 'k.txt')), 403, 'AccessDenied');

  const wrongKey = await signTemporaryCredentials({
    ...base, accountId: server.account_id, parentAccessKeyId: server.access_key_id,
    parentSecretAccessKey: 'f'.repeat(64), audience: s3host,
  });
  await assertXmlError(await aws(wrongKey).fetch(url(bucket, 'k.txt')), 403, 'AccessDenied');

  const wrongAccount = await signLocally({ ...base, accountId: '0'.repeat(32) });
  await assertXmlError(await aws(wrongAccount).fetch(url(bucket, 'k.txt')), 403, 'AccessDenied');

  const tooLong = await signLocally({ ...base, ttlSeconds: 604801 });
  await assertXmlError(await aws(tooLong).fetch(url(bucket, 'k.txt')), 403, 'AccessDenied');

  // A valid token for one bucket used on another.
  const ok = await signLocally(base);
  await seed(otherBucket, 'k.txt', 'other');
  await assertXmlError(await aws(ok).fetch(url(otherBucket, 'k.txt')), 403, 'AccessDenied');
  // ... and the control: the same token works on its own bucket.
  const mine = await aws(ok).fetch(url(bucket, 'k.txt'));
  assert.equal(await mine.text(), 'v');

  // Right token, but signed with the parent's secret instead of the derived one.
  const parentSecretSigned = aws({ ...ok, secretAccessKey: server.secret_access_key });
  await assertXmlError(await parentSecretSigned.fetch(url(bucket, 'k.txt')), 403, 'SignatureDoesNotMatch');

  // Not a token at all: 400 InvalidArgument (SPEC §4, as Cloudflare answers).
  await assertXmlError(await aws({ ...ok, sessionToken: 'bm90LWEtdG9rZW4=' }).fetch(url(bucket, 'k.txt')), 400, 'InvalidArgument');
});

test('a locally signed token for localhost:<port> works from @aws-sdk/client-s3 in virtual-hosted style', async () => {
  const bucket = await createBucket(server, 'local');
  const port = new URL(server.s3Url).port;
  // SPEC §5: a loopback listener also answers for localhost:<port>.
  const creds = await signLocally({ bucket, permission: 'object-read-write', audience: `localhost:${port}` });
  const s3 = s3Client(server, creds, 'virtual');
  const body = randomBody(10 * 1024);
  await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'via-sdk.bin', Body: body }));
  const got = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'via-sdk.bin', ChecksumMode: 'ENABLED' }));
  assert.ok(Buffer.from(await got.Body.transformToByteArray()).equals(body));
  assertAddressing(s3, bucket, 'virtual');
  const direct = await aws(creds).fetch(url(bucket, 'via-sdk.bin'));
  assert.equal(direct.status, 200, 'the same token is good at 127.0.0.1:<port> too');
  assert.ok(Buffer.from(await direct.arrayBuffer()).equals(body));
});

test('locally signed token in a presigned URL (aws4fetch signQuery) fetched with plain fetch', async () => {
  const bucket = await createBucket(server, 'local');
  await seed(bucket, 'shared/photo.jpg', 'JPEG bytes');
  const creds = await signLocally({ bucket, permission: 'object-read-only', prefixes: ['shared/'] });
  const signed = await aws(creds).sign(url(bucket, 'shared/photo.jpg?X-Amz-Expires=120'), { aws: { signQuery: true } });
  const u = new URL(signed.url);
  assert.equal(u.searchParams.get('X-Amz-Security-Token'), creds.sessionToken);
  const res = await fetch(u);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'JPEG bytes');

  const outside = await aws(creds).sign(url(bucket, 'private.txt?X-Amz-Expires=120'), { aws: { signQuery: true } });
  await assertXmlError(await fetch(outside.url), 403, 'AccessDenied');
});

test('API-minted temporary credentials through aws4fetch', async () => {
  const bucket = await createBucket(server, 'local');
  await seed(bucket, 'out/existing.txt', 'keep');
  const creds = await mintTemporary(server, { bucket, permission: 'object-read-write', prefixes: ['in/'], ttlSeconds: 600 });
  const claims = JSON.parse(Buffer.from(Buffer.from(creds.sessionToken, 'base64').toString('ascii').slice(4).split('.')[1], 'base64url'));
  assert.equal(claims.aud, s3host);
  assert.deepEqual(claims.paths, { prefixPaths: ['in/'], objectPaths: [] });
  const client = aws(creds);

  const body = randomBody(48 * 1024);
  const put = await client.fetch(url(bucket, 'in/data.bin'), { method: 'PUT', body });
  assert.equal(put.status, 200, await put.text());
  const got = await client.fetch(url(bucket, 'in/data.bin'));
  assert.equal(got.status, 200);
  assert.ok(Buffer.from(await got.arrayBuffer()).equals(body));
  const list = await client.fetch(url(bucket, '', '?list-type=2&prefix=in%2F'));
  const xml = await list.text();
  assert.equal(list.status, 200, xml);
  assert.deepEqual([...xml.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]), ['in/data.bin']);
  await assertXmlError(await client.fetch(url(bucket, 'out/x.txt'), { method: 'PUT', body: 'no' }), 403, 'AccessDenied');
  await assertXmlError(await client.fetch(url(bucket, 'out/existing.txt')), 403, 'AccessDenied');
  assert.equal((await client.fetch(url(bucket, 'in/data.bin'), { method: 'DELETE' })).status, 204);
  await assertXmlError(await client.fetch(url(bucket, 'in/data.bin')), 404, 'NoSuchKey');

  // The API-minted token verifies with the same documented algorithm the helper uses.
  const jwt = Buffer.from(creds.sessionToken, 'base64').toString('ascii').slice(4);
  assert.equal(creds.secretAccessKey, createHash('sha256').update(jwt).digest('hex'));
});
