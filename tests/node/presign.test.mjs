// Presigned URLs from @aws-sdk/s3-request-presigner (getSignedUrl), fetched with Node's fetch,
// with the long-lived bootstrap key and with API-minted temporary credentials. A JS-presigned
// PUT carries x-amz-checksum-crc32 of an *empty* body in its query (SPEC §4); Mayfly must
// ignore checksum query parameters on presigned PUTs, so a real body upload has to work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { PutObjectCommand, GetObjectCommand, HeadObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  startServer, stopServer, createBucket, mintTemporary, KEY_KINDS, s3Client, assertXmlError,
  md5hex, randomBody, bodyBytes, httpRequest, xmlCode,
} from './s3kit.mjs';

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  await stopServer(server);
});

for (const [kind, credentialsFor] of Object.entries(KEY_KINDS)) {
  test(`presigned PUT then GET (path style, fetch), ${kind}`, async () => {
    const bucket = await createBucket(server, 'pre');
    const creds = await credentialsFor(server, bucket);
    const { client } = s3Client(server, creds, 'path');
    const key = 'dir/hello world+ünï.bin';
    const body = randomBody(200 * 1024 + 3);

    const putUrl = new URL(await getSignedUrl(client, new PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 300 }));
    assert.equal(putUrl.host, new URL(server.s3Url).host);
    assert.equal(putUrl.searchParams.get('X-Amz-Credential').split('/')[0], creds.accessKeyId);
    assert.equal(putUrl.searchParams.get('X-Amz-Expires'), '300');
    assert.equal(putUrl.searchParams.get('X-Amz-Security-Token'), creds.sessionToken ?? null,
      'temporary credentials travel in X-Amz-Security-Token, long-lived keys carry none');
    // What the JS presigner signs: the CRC32 of an empty body (SPEC §4).
    assert.equal(putUrl.searchParams.get('x-amz-checksum-crc32'), 'AAAAAA==');

    const put = await fetch(putUrl, { method: 'PUT', body });
    assert.equal(put.status, 200, await put.clone().text());
    assert.equal(put.headers.get('etag'), `"${md5hex(body)}"`);

    const getUrl = new URL(await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 300 }));
    assert.equal(getUrl.searchParams.get('X-Amz-Security-Token'), creds.sessionToken ?? null);
    const got = await fetch(getUrl);
    assert.equal(got.status, 200);
    assert.ok(Buffer.from(await got.arrayBuffer()).equals(body), 'presigned PUT body round-trips byte-exact');

    // The object is the same one the SDK sees.
    const viaSdk = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
    assert.ok((await bodyBytes(viaSdk)).equals(body));

    // Presigned HEAD and DELETE: the same signer, other methods.
    const headUrl = await getSignedUrl(client, new HeadObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 60 });
    const head = await fetch(headUrl, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(body.length));
    const delUrl = await getSignedUrl(client, new DeleteObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 60 });
    assert.equal((await fetch(delUrl, { method: 'DELETE' })).status, 204);
    await assertXmlError(await fetch(getUrl), 404, 'NoSuchKey');
  });

  test(`presigned PUT with ContentType, and tampered / expired URLs, ${kind}`, async () => {
    const bucket = await createBucket(server, 'pre');
    const creds = await credentialsFor(server, bucket);
    const { client } = s3Client(server, creds, 'path');

    const putUrl = await getSignedUrl(client, new PutObjectCommand({ Bucket: bucket, Key: 'page.html', ContentType: 'text/html' }), { expiresIn: 300 });
    const html = '<!doctype html><p>presigned</p>';
    const put = await fetch(putUrl, { method: 'PUT', body: html, headers: { 'content-type': 'text/html' } });
    assert.equal(put.status, 200, await put.clone().text());
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'page.html' }));
    assert.equal(got.ContentType, 'text/html');
    assert.equal(await got.Body.transformToString(), html);

    // A flipped signature byte: 403 SignatureDoesNotMatch, and nothing is written.
    const tampered = new URL(await getSignedUrl(client, new PutObjectCommand({ Bucket: bucket, Key: 'evil.txt' }), { expiresIn: 300 }));
    const sig = tampered.searchParams.get('X-Amz-Signature');
    tampered.searchParams.set('X-Amz-Signature', (sig[0] === '0' ? '1' : '0') + sig.slice(1));
    await assertXmlError(await fetch(tampered, { method: 'PUT', body: 'evil' }), 403, 'SignatureDoesNotMatch');
    // Same URL for another key: the path is signed.
    const moved = new URL(await getSignedUrl(client, new PutObjectCommand({ Bucket: bucket, Key: 'good.txt' }), { expiresIn: 300 }));
    moved.pathname = moved.pathname.replace('good.txt', 'evil.txt');
    await assertXmlError(await fetch(moved, { method: 'PUT', body: 'evil' }), 403, 'SignatureDoesNotMatch');
    const missing = await fetch(await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: 'evil.txt' }), { expiresIn: 60 }));
    await assertXmlError(missing, 404, 'NoSuchKey');

    // An expired presigned URL is refused (403 AccessDenied, as S3 does).
    const shortLived = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: 'page.html' }), { expiresIn: 1 });
    await sleep(2100);
    await assertXmlError(await fetch(shortLived), 403, 'AccessDenied');
  });
}

test('presigned URLs of prefix-scoped temporary credentials stay in scope', async () => {
  const bucket = await createBucket(server, 'pre');
  const admin = s3Client(server, await KEY_KINDS['long-lived key'](server), 'path').client;
  await admin.send(new PutObjectCommand({ Bucket: bucket, Key: 'private/plan.txt', Body: 'secret plan' }));
  const creds = await mintTemporary(server, { bucket, prefixes: ['public/'] });
  const { client } = s3Client(server, creds, 'path');

  const okPut = await getSignedUrl(client, new PutObjectCommand({ Bucket: bucket, Key: 'public/a.txt' }), { expiresIn: 60 });
  assert.equal((await fetch(okPut, { method: 'PUT', body: 'public a' })).status, 200);
  const okGet = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' }), { expiresIn: 60 });
  assert.equal(await (await fetch(okGet)).text(), 'public a');

  const badGet = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: 'private/plan.txt' }), { expiresIn: 60 });
  await assertXmlError(await fetch(badGet), 403, 'AccessDenied');
  const badPut = await getSignedUrl(client, new PutObjectCommand({ Bucket: bucket, Key: 'private/plan.txt' }), { expiresIn: 60 });
  await assertXmlError(await fetch(badPut, { method: 'PUT', body: 'overwritten' }), 403, 'AccessDenied');
  const plan = await admin.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/plan.txt' }));
  assert.equal(await plan.Body.transformToString(), 'secret plan', 'denied presigned PUT changed nothing');

  // A malformed session token in the query: 400 InvalidArgument (SPEC §4).
  const broken = new URL(okGet);
  broken.searchParams.set('X-Amz-Security-Token', 'bm90LWEtdG9rZW4=');
  const res = await fetch(broken);
  const text = await res.text();
  assert.equal(res.status, 400, text);
  assert.equal(xmlCode(text), 'InvalidArgument');
});

for (const [kind, credentialsFor] of Object.entries(KEY_KINDS)) {
  test(`presigned PUT and GET in virtual-hosted style (<bucket>.localhost), ${kind}`, async () => {
    const bucket = await createBucket(server, 'vpre');
    const creds = await credentialsFor(server, bucket);
    const { client, port } = s3Client(server, creds, 'virtual');
    const body = randomBody(64 * 1024);

    const putUrl = await getSignedUrl(client, new PutObjectCommand({ Bucket: bucket, Key: 'v/obj.bin' }), { expiresIn: 300 });
    assert.equal(new URL(putUrl).host, `${bucket}.localhost:${port}`);
    assert.equal(new URL(putUrl).pathname, '/v/obj.bin');
    const put = await httpRequest(putUrl, { method: 'PUT', body, headers: { 'content-length': String(body.length) } });
    assert.equal(put.status, 200, put.body.toString());

    const getUrl = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: 'v/obj.bin' }), { expiresIn: 300 });
    const got = await httpRequest(getUrl);
    assert.equal(got.status, 200);
    assert.ok(got.body.equals(body));

    // The bucket is part of the signed Host: the same URL against another bucket's host fails.
    const other = await createBucket(server, 'vpre');
    const moved = new URL(getUrl);
    moved.hostname = `${other}.localhost`;
    const denied = await httpRequest(moved.toString());
    assert.equal(denied.status, 403, denied.body.toString());
    assert.equal(xmlCode(denied.body.toString()), 'SignatureDoesNotMatch');
  });
}
