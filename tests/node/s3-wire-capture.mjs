// Captures what the official `@aws-sdk/client-s3` (pinned in package.json) sends to an S3
// endpoint, over plain HTTP and over HTTPS. Not a test (so not *.test.mjs): scripts/capture-s3-wire
// runs it against tests/wire/s3_capture_server.py, which records every request for
// crates/s3/tests/fixtures/wire_requests.json.
//
// Usage: node s3-wire-capture.mjs <port> <tls-port> <ca.pem>
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { NodeHttpHandler } from '@smithy/node-http-handler';

const [port, tlsPort, caFile] = process.argv.slice(2);
const ca = readFileSync(caFile);
const CLIENT = 'node';
const BUCKET = 'example-bucket';
// Fake credentials, the same as the Python drivers' (tests/wire/s3_control.py).
const credentials = {
  accessKeyId: '8b1a9953c4611296a827abf8c47804d7',
  secretAccessKey: 'f0e4c2f76c58916ec258f246851bea091d14d4247a2fc3e18694461b1816e13b',
  sessionToken: 'FAKE-SESSION-TOKEN-AQoDYXdzEJr//////////wEaDEXAMPLE+/==',
};

async function control(path, msg) {
  const res = await fetch(`http://127.0.0.1:${port}/__capture/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(msg),
  });
  if (!res.ok) throw new Error(`control ${path}: ${res.status}`);
  await res.json();
}
const scenario = (name, queue = []) => control('scenario', { client: CLIENT, scenario: name, queue });

function client(endpoint, extra = {}) {
  return new S3Client({
    endpoint,
    region: 'auto',
    forcePathStyle: true,
    credentials,
    maxAttempts: 3,
    requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca }) }),
    ...extra,
  });
}

// Sends a presigned URL as a browser or curl would: no signing, just the URL.
function send(url, method, body) {
  const mod = url.startsWith('https') ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { method, ca, headers: body ? { 'content-length': body.length } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function common(endpoint, suffix) {
  const s3 = client(endpoint);
  const sc = (name, queue) => scenario(name + suffix, queue);
  await sc("PutObject Body='hello world' (string), ContentType text/plain");
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'dir/hello.txt', Body: 'hello world', ContentType: 'text/plain' }));
  await sc('PutObject Body=Buffer');
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'dir/buf.txt', Body: Buffer.from('hello world') }));
  await sc('PutObject Body=Readable stream with ContentLength: 11');
  await s3.send(new PutObjectCommand({
    Bucket: BUCKET, Key: 'dir/stream.txt', Body: Readable.from([Buffer.from('hello '), Buffer.from('world')]), ContentLength: 11,
  }));
  await sc('GetObject (response has correct x-amz-checksum-crc32)');
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'dir/hello.txt', ChecksumMode: 'ENABLED' }));
  if ((await got.Body.transformToString()) !== 'hello world') throw new Error('GetObject body');
  await sc('ListObjectsV2 Prefix=dir/');
  await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'dir/' }));
  await sc('HeadObject');
  await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'dir/hello.txt' }));
  await sc('CreateMultipartUpload / UploadPart (Buffer) / CompleteMultipartUpload');
  const Key = 'big/object.bin';
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key }));
  const part = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 1, Body: Buffer.from('part 1 '.repeat(8)) }));
  await s3.send(new CompleteMultipartUploadCommand({
    Bucket: BUCKET, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
  }));
  await sc('DeleteObjects (2 keys)');
  await s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: 'dir/a.txt' }, { Key: 'dir/b.txt' }] } }));
  await sc('CopyObject');
  await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'dir/copy.txt', CopySource: `${BUCKET}/dir/hello.txt` }));
  await sc('DeleteObject');
  await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'dir/hello.txt' }));
  const lazy = client(endpoint, { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  await sc("PutObject string body with requestChecksumCalculation='WHEN_REQUIRED'");
  await lazy.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'dir/hello.txt', Body: 'hello world' }));

  const scheme = endpoint.split(':')[0];
  const presigned = [
    [`presign GetObject ${scheme}`, new GetObjectCommand({ Bucket: BUCKET, Key: 'dir/hello world+.txt' }), 'GET'],
    [`presign PutObject ${scheme}`, new PutObjectCommand({ Bucket: BUCKET, Key: 'dir/hello world+.txt' }), 'PUT'],
    [`presign PutObject with ContentType ${scheme}`,
      new PutObjectCommand({ Bucket: BUCKET, Key: 'dir/hello.txt', ContentType: 'text/plain' }), 'PUT'],
  ];
  for (const [name, command, method] of presigned) {
    const url = await getSignedUrl(s3, command, { expiresIn: 3600 });
    await control('note', { client: CLIENT, scenario: name, presigned_url: url });
    await scenario(name);
    // Sent without the headers the signature may name (content-type): the record is the URL.
    await send(url, method, method === 'PUT' ? Buffer.from('hello world') : undefined);
  }
}

async function errorsAndSizes(endpoint) {
  const s3 = client(endpoint);
  await scenario('GetObject -> 404 NoSuchKey', [{ status: 404, code: 'NoSuchKey' }]);
  await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'nope' })).then(
    () => { throw new Error('404 not raised'); },
    (e) => { if (e.name !== 'NoSuchKey') throw e; },
  );
  await scenario('HeadObject -> 404 (no body)', [{ status: 404, code: 'NoSuchKey' }]);
  await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'nope' })).then(
    () => { throw new Error('404 not raised'); },
    (e) => { if (e.$metadata?.httpStatusCode !== 404) throw e; },
  );
  await scenario('GetObject -> wrong x-amz-checksum-crc32', [{
    status: 200, headers: [['Content-Type', 'text/plain'], ['Content-Length', '11'], ['x-amz-checksum-crc32', 'AAAAAA==']], body: 'hello world',
  }]);
  await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'k', ChecksumMode: 'ENABLED' }))
    .then((r) => r.Body.transformToString())
    .then(() => { throw new Error('checksum mismatch not raised'); }, (e) => { if (!/checksum/i.test(e.message)) throw e; });
  await scenario('ListObjectsV2 -> 200 empty body', [{ status: 200, body: '' }]);
  await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  await scenario('PutObject -> 500 once then 200 (retry)', [{ status: 500, code: 'InternalError' }]);
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k', Body: 'hello world' }));
  await scenario('PutObject 3 MiB Buffer (Expect: 100-continue threshold is 2 MiB)');
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'big/3m.bin', Body: Buffer.alloc(3 * 1024 * 1024, 'c') }));
}

await common(`http://127.0.0.1:${port}`, '');
await common(`https://127.0.0.1:${tlsPort}`, ' [https]');
await errorsAndSizes(`http://127.0.0.1:${port}`);
