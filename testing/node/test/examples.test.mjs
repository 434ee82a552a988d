// mayfly-testing's example tests (node:test, the official `cloudflare` SDK, @aws-sdk/client-s3):
// what an app's suite can check once its mocked `temp-access-credentials` is a real Mayfly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import Cloudflare from 'cloudflare';
import { S3Client, PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { startMayfly } from 'mayfly-testing';

let mayfly;
let cf;

before(async () => {
  mayfly = await startMayfly();
  cf = new Cloudflare({ apiToken: mayfly.apiToken, baseURL: mayfly.apiUrl, maxRetries: 0 });
});

after(async () => {
  const { code, signal } = await mayfly.stop();
  assert.equal(signal, null);
  assert.equal(code, 0, 'mayfly exits 0 once its stdin closes');
});

const put = (s3, Bucket, Key, Body) => s3.send(new PutObjectCommand({ Bucket, Key, Body }));

async function assertDenied(promise) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.name, 'AccessDenied');
    assert.equal(e.$metadata.httpStatusCode, 403);
    return true;
  });
}

test('a prefix-scoped credential cannot write outside its prefix', async () => {
  const bucket = await mayfly.createBucket();
  const creds = await mayfly.mint(bucket, 'object-read-write', { prefixes: ['uploads/alice/'], ttl: 600 });
  const s3 = new S3Client({ ...creds.s3Config, maxAttempts: 1 });

  await put(s3, bucket, 'uploads/alice/avatar.png', 'alice');
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'uploads/alice/avatar.png' }));
  assert.equal(await got.Body.transformToString(), 'alice');

  for (const outside of ['uploads/bob/avatar.png', 'uploads/alice', 'index.html']) {
    await assertDenied(put(s3, bucket, outside, 'mallory'));
  }
});

test('the official SDK mints what the app would, and S3 enforces it', async () => {
  const bucket = `sdk-${Date.now()}`;
  await cf.r2.buckets.create({ account_id: mayfly.accountId, name: bucket });
  const minted = await cf.r2.temporaryCredentials.create({
    account_id: mayfly.accountId,
    bucket,
    parentAccessKeyId: mayfly.accessKeyId,
    permission: 'object-read-only',
    ttlSeconds: 900,
    objects: ['reports/q1.csv'],
  });
  const admin = new S3Client({ ...mayfly.s3Config, maxAttempts: 1 });
  await put(admin, bucket, 'reports/q1.csv', 'a,b\n');

  const reader = new S3Client({
    endpoint: mayfly.s3Url,
    region: 'auto',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: {
      accessKeyId: minted.accessKeyId,
      secretAccessKey: minted.secretAccessKey,
      sessionToken: minted.sessionToken,
    },
  });
  const got = await reader.send(new GetObjectCommand({ Bucket: bucket, Key: 'reports/q1.csv' }));
  assert.equal(await got.Body.transformToString(), 'a,b\n');
  await assertDenied(put(reader, bucket, 'reports/q1.csv', 'tampered'));
  await assertDenied(reader.send(new GetObjectCommand({ Bucket: bucket, Key: 'reports/q2.csv' })));
});

test('newAccount() is a clean slate, isolated from the server account', async () => {
  const taken = await mayfly.createBucket();
  const fresh = await mayfly.newAccount();
  assert.notEqual(fresh.accountId, mayfly.accountId);
  const other = new Cloudflare({ apiToken: fresh.apiToken, baseURL: fresh.apiUrl, maxRetries: 0 });
  const listed = await other.r2.buckets.list({ account_id: fresh.accountId });
  assert.deepEqual(listed.buckets ?? [], []);
  // Bucket names are per account: the same name is free here, and it is another bucket.
  await fresh.createBucket(taken);
  const creds = await fresh.mint(taken, 'object-read-write', { prefixes: ['a/'] });
  await put(new S3Client({ ...creds.s3Config, maxAttempts: 1 }), taken, 'a/1', '1');
  const admin = new S3Client({ ...mayfly.s3Config, maxAttempts: 1 });
  await assert.rejects(admin.send(new GetObjectCommand({ Bucket: taken, Key: 'a/1' })), (e) => e.name === 'NoSuchKey');
});

test('CommonJS consumers (jest) get the same API', async () => {
  const require = createRequire(import.meta.url);
  const cjs = require('mayfly-testing');
  assert.equal(typeof cjs.startMayfly, 'function');
  const second = await cjs.startMayfly();
  assert.ok(second.apiUrl.endsWith('/client/v4'));
  assert.notEqual(second.apiUrl, mayfly.apiUrl);
  assert.ok(existsSync(`/proc/${second.pid}`));
  assert.deepEqual(await second.stop(), { code: 0, signal: null });
});
