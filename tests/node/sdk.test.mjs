// The core flows with the official `cloudflare` npm SDK (and @aws-sdk/client-s3 for the S3
// half), against a real Mayfly on port 0.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import Cloudflare from 'cloudflare';
import { S3Client, PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { startServer, uniqueBucket } from './harness.mjs';

let server;
let cf;

before(async () => {
  server = await startServer();
  cf = new Cloudflare({ apiToken: server.api_token, baseURL: server.apiUrl });
});

after(async () => {
  const { code, signal } = await server.stop();
  assert.equal(signal, null);
  assert.equal(code, 0, 'mayfly serve exits 0 on SIGTERM');
});

function decodeSessionToken(token) {
  const raw = Buffer.from(token, 'base64');
  assert.equal(raw.toString('base64'), token, 'standard padded base64');
  const text = raw.toString('ascii');
  assert.ok(text.startsWith('jwt/'));
  const jwt = text.slice(4);
  const [h, c] = jwt.split('.');
  return { jwt, header: JSON.parse(Buffer.from(h, 'base64url')), claims: JSON.parse(Buffer.from(c, 'base64url')) };
}

test('seed example: temporary credentials decode per the spec', async () => {
  const bucket = uniqueBucket();
  await cf.r2.buckets.create({ account_id: server.account_id, name: bucket });
  const creds = await cf.r2.temporaryCredentials.create({
    account_id: server.account_id,
    bucket,
    parentAccessKeyId: server.access_key_id,
    permission: 'object-read-write',
    ttlSeconds: 3600,
  });
  assert.equal(creds.accessKeyId, server.access_key_id);
  const { jwt, header, claims } = decodeSessionToken(creds.sessionToken);
  assert.deepEqual(header, { alg: 'HS256', typ: 'JWT' });
  assert.equal(claims.bucket, bucket);
  assert.equal(claims.scope, 'object-read-write');
  assert.equal(claims.sub, server.account_id);
  assert.equal(claims.iss, server.access_key_id);
  assert.equal(claims.aud, new URL(server.s3Url).host);
  assert.equal(claims.exp - claims.iat, 3600);
  const [h, c, sig] = jwt.split('.');
  const mac = createHmac('sha256', Buffer.from(server.secret_access_key, 'ascii')).update(`${h}.${c}`).digest('base64url');
  assert.equal(mac, sig);
  assert.equal(creds.secretAccessKey, createHash('sha256').update(jwt).digest('hex'));
});

test('bucket CRUD round-trips through SDK models', async () => {
  const name = uniqueBucket('crud');
  const created = await cf.r2.buckets.create({ account_id: server.account_id, name });
  assert.equal(created.name, name);
  const got = await cf.r2.buckets.get(name, { account_id: server.account_id });
  assert.equal(got.creation_date, created.creation_date);
  const listed = await cf.r2.buckets.list({ account_id: server.account_id });
  assert.ok(listed.buckets.some((b) => b.name === name));
  await cf.r2.buckets.delete(name, { account_id: server.account_id });
  await assert.rejects(cf.r2.buckets.get(name, { account_id: server.account_id }), (e) => {
    assert.ok(e instanceof Cloudflare.NotFoundError);
    assert.equal(e.errors[0].code, 10006);
    return true;
  });
});

test('error classes: 400, 401, 404, 409 surface as the SDK exception classes', async () => {
  const quiet = new Cloudflare({ apiToken: server.api_token, baseURL: server.apiUrl, maxRetries: 0 });
  await assert.rejects(quiet.r2.buckets.create({ account_id: server.account_id, name: 'Bad_Name' }), (e) => {
    assert.ok(e instanceof Cloudflare.BadRequestError);
    assert.equal(e.errors[0].code, 10005);
    return true;
  });
  const stranger = new Cloudflare({ apiToken: 'not-a-token-0000000000000000000000000000', baseURL: server.apiUrl, maxRetries: 0 });
  await assert.rejects(stranger.r2.buckets.list({ account_id: server.account_id }), (e) => {
    assert.ok(e instanceof Cloudflare.AuthenticationError);
    assert.equal(e.errors[0].code, 9109);
    return true;
  });
  await assert.rejects(
    quiet.r2.temporaryCredentials.create({
      account_id: server.account_id, bucket: uniqueBucket('gone'), parentAccessKeyId: server.access_key_id,
      permission: 'object-read-only', ttlSeconds: 60,
    }),
    (e) => e instanceof Cloudflare.NotFoundError && e.errors[0].code === 10006,
  );
  const name = uniqueBucket('dup');
  await quiet.r2.buckets.create({ account_id: server.account_id, name });
  await assert.rejects(quiet.r2.buckets.create({ account_id: server.account_id, name }), (e) => {
    assert.ok(e instanceof Cloudflare.ConflictError);
    assert.equal(e.errors[0].code, 10004);
    return true;
  });
});

test('minted credentials work with @aws-sdk/client-s3', async () => {
  const bucket = uniqueBucket('s3');
  await cf.r2.buckets.create({ account_id: server.account_id, name: bucket });
  const creds = await cf.r2.temporaryCredentials.create({
    account_id: server.account_id, bucket, parentAccessKeyId: server.access_key_id,
    permission: 'object-read-write', ttlSeconds: 900,
  });
  const s3 = new S3Client({
    endpoint: server.s3Url,
    region: 'auto',
    forcePathStyle: true,
    credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, sessionToken: creds.sessionToken },
  });
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'hello.txt', Body: 'hello from node' }));
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }));
  assert.equal(await got.Body.transformToString(), 'hello from node');
});
