// @aws-sdk/client-s3 against a real Mayfly, in path style and in virtual-hosted style
// (<bucket>.localhost:<port>), each with the long-lived bootstrap key and with temporary
// credentials minted through the API. Covers what the SDK does by default: CRC32 checksums on
// every upload, aws-chunked STREAMING-UNSIGNED-PAYLOAD-TRAILER for stream bodies (even over
// HTTP), checksum validation on GetObject with ChecksumMode ENABLED.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import {
  PutObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, DeleteObjectCommand,
  CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand, ListPartsCommand,
  AbortMultipartUploadCommand, DeleteObjectsCommand, CopyObjectCommand, ListBucketsCommand,
} from '@aws-sdk/client-s3';
import {
  startServer, stopServer, createBucket, mintTemporary, KEY_KINDS, s3Client, assertAddressing,
  assertS3Error, crc32b64, md5hex, randomBody, bodyBytes,
} from './s3kit.mjs';

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  await stopServer(server);
});

const MIB = 1024 * 1024;

/** A Readable that hands out `buf` in pieces of `size` bytes (several aws-chunks). */
function streamOf(buf, size = 64 * 1024) {
  const pieces = [];
  for (let i = 0; i < buf.length; i += size) pieces.push(buf.subarray(i, i + size));
  return Readable.from(pieces);
}

for (const style of ['path', 'virtual']) {
  for (const [kind, credentialsFor] of Object.entries(KEY_KINDS)) {
    test(`${style} style, ${kind}: put (string, stream), get with checksum, head, list, delete`, async () => {
      const bucket = await createBucket(server, 'sdk');
      const s3 = s3Client(server, await credentialsFor(server, bucket), style);
      const { client } = s3;

      // String body: CRC32 header, signed SHA-256 payload.
      const text = `hello from @aws-sdk/client-s3, ${style} style, ${kind} ✓`;
      const textBytes = Buffer.from(text, 'utf8');
      const put1 = await client.send(new PutObjectCommand({
        Bucket: bucket, Key: 'docs/hello.txt', Body: text, ContentType: 'text/plain; charset=utf-8',
      }));
      assert.equal(put1.$metadata.httpStatusCode, 200);
      assert.equal(put1.ETag, `"${md5hex(textBytes)}"`);
      assert.equal(put1.ChecksumCRC32, crc32b64(textBytes));

      // Stream body: the SDK switches to aws-chunked STREAMING-UNSIGNED-PAYLOAD-TRAILER with a
      // CRC32 trailer; 300 KiB in 64 KiB pieces spans several aws-chunks.
      const bin = randomBody(300 * 1024 + 17);
      const put2 = await client.send(new PutObjectCommand({
        Bucket: bucket, Key: 'docs/stream.bin', Body: streamOf(bin), ContentLength: bin.length,
      }));
      assert.equal(put2.$metadata.httpStatusCode, 200);
      assert.equal(put2.ETag, `"${md5hex(bin)}"`);
      assert.equal(put2.ChecksumCRC32, crc32b64(bin));
      const [sentText, sentStream] = s3.targets.filter((t) => t.method === 'PUT');
      assert.equal(sentText.headers['x-amz-checksum-crc32'], crc32b64(textBytes));
      assert.match(sentText.headers['x-amz-content-sha256'], /^[0-9a-f]{64}$/);
      assert.equal(sentStream.headers['content-encoding'], 'aws-chunked');
      assert.equal(sentStream.headers['x-amz-content-sha256'], 'STREAMING-UNSIGNED-PAYLOAD-TRAILER');
      assert.equal(sentStream.headers['x-amz-trailer'], 'x-amz-checksum-crc32');
      assert.equal(sentStream.headers['x-amz-decoded-content-length'], String(bin.length));

      // Buffer body of 3 MiB: over the SDK's Expect: 100-continue threshold.
      const big = randomBody(3 * MIB);
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'docs/big.bin', Body: big }));

      // GetObject with ChecksumMode ENABLED: the SDK validates the returned CRC32 itself.
      const got1 = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'docs/hello.txt', ChecksumMode: 'ENABLED' }));
      assert.equal(got1.ContentType, 'text/plain; charset=utf-8');
      assert.equal(got1.ChecksumCRC32, crc32b64(textBytes));
      assert.deepEqual(await bodyBytes(got1), textBytes);

      const got2 = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'docs/stream.bin', ChecksumMode: 'ENABLED' }));
      assert.equal(got2.ContentLength, bin.length);
      assert.equal(got2.ChecksumCRC32, crc32b64(bin), 'the trailer CRC32 is stored and returned');
      assert.ok((await bodyBytes(got2)).equals(bin), 'stream upload round-trips byte-exact');

      const got3 = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'docs/big.bin', ChecksumMode: 'ENABLED' }));
      assert.ok((await bodyBytes(got3)).equals(big));

      const ranged = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'docs/stream.bin', Range: 'bytes=100-199' }));
      assert.equal(ranged.$metadata.httpStatusCode, 206);
      assert.ok((await bodyBytes(ranged)).equals(bin.subarray(100, 200)));

      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'docs/stream.bin' }));
      assert.equal(head.ContentLength, bin.length);
      assert.equal(head.ETag, `"${md5hex(bin)}"`);

      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'docs/' }));
      assert.deepEqual(
        listed.Contents.map((o) => [o.Key, o.Size]),
        [['docs/big.bin', big.length], ['docs/hello.txt', textBytes.length], ['docs/stream.bin', bin.length]],
      );
      assert.equal(listed.KeyCount, 3);
      assert.equal(listed.IsTruncated, false);

      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'docs/', MaxKeys: 2 }));
      assert.deepEqual(page.Contents.map((o) => o.Key), ['docs/big.bin', 'docs/hello.txt']);
      assert.equal(page.IsTruncated, true);
      const rest = await client.send(new ListObjectsV2Command({
        Bucket: bucket, Prefix: 'docs/', MaxKeys: 2, ContinuationToken: page.NextContinuationToken,
      }));
      assert.deepEqual(rest.Contents.map((o) => o.Key), ['docs/stream.bin']);

      const del = await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'docs/hello.txt' }));
      assert.equal(del.$metadata.httpStatusCode, 204);
      await assertS3Error(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'docs/hello.txt' })), 'NoSuchKey', 404);
      const after = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'docs/' }));
      assert.deepEqual(after.Contents.map((o) => o.Key), ['docs/big.bin', 'docs/stream.bin']);

      assertAddressing(s3, bucket, style);
    });

    test(`${style} style, ${kind}: awkward keys round-trip, DeleteObjects, CopyObject`, async () => {
      const bucket = await createBucket(server, 'keys');
      const s3 = s3Client(server, await credentialsFor(server, bucket), style);
      const { client } = s3;
      // Keys are data: spaces, '+', '%', '?', '&', '=', dot segments, double slashes, non-ASCII.
      const keys = ['odd/ä b+c%20=&?.txt', 'odd/a//b/../c', "odd/~!*'()$,;:@", 'odd/emoji-😀.txt', 'odd/ '];
      for (const key of keys) {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `value of ${key}` }));
        const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
        assert.equal(await got.Body.transformToString(), `value of ${key}`, key);
      }
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'odd/' }));
      assert.deepEqual(listed.Contents.map((o) => o.Key), [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));

      // CopySource is URL-encoded by the caller (SDK documentation).
      const copied = await client.send(new CopyObjectCommand({
        Bucket: bucket, Key: 'copy/of-odd.txt', CopySource: encodeURIComponent(`${bucket}/${keys[0]}`),
      }));
      assert.equal(copied.$metadata.httpStatusCode, 200);
      const copy = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy/of-odd.txt', ChecksumMode: 'ENABLED' }));
      assert.equal(await copy.Body.transformToString(), `value of ${keys[0]}`);

      const deleted = await client.send(new DeleteObjectsCommand({
        Bucket: bucket, Delete: { Objects: [...keys, 'odd/never-existed'].map((Key) => ({ Key })) },
      }));
      assert.equal(deleted.Errors, undefined);
      assert.deepEqual(deleted.Deleted.map((d) => d.Key).sort(), [...keys, 'odd/never-existed'].sort());
      const left = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      assert.deepEqual(left.Contents.map((o) => o.Key), ['copy/of-odd.txt']);

      assertAddressing(s3, bucket, style);
    });

    test(`${style} style, ${kind}: multipart upload (buffer part + stream part), list parts, abort`, async () => {
      const bucket = await createBucket(server, 'mpu');
      const s3 = s3Client(server, await credentialsFor(server, bucket), style);
      const { client } = s3;
      const key = 'big/object.bin';
      const part1 = randomBody(5 * MIB);
      const part2 = randomBody(MIB + 123);

      const created = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: 'application/x-test' }));
      assert.ok(created.UploadId);
      const up1 = await client.send(new UploadPartCommand({
        Bucket: bucket, Key: key, UploadId: created.UploadId, PartNumber: 1, Body: part1,
      }));
      assert.equal(up1.ETag, `"${md5hex(part1)}"`);
      // The second part as a stream: aws-chunked with a CRC32 trailer on UploadPart.
      const up2 = await client.send(new UploadPartCommand({
        Bucket: bucket, Key: key, UploadId: created.UploadId, PartNumber: 2, Body: streamOf(part2), ContentLength: part2.length,
      }));
      assert.equal(up2.ETag, `"${md5hex(part2)}"`);
      const sentPart2 = s3.targets.filter((t) => t.method === 'PUT')[1];
      assert.equal(sentPart2.headers['x-amz-content-sha256'], 'STREAMING-UNSIGNED-PAYLOAD-TRAILER');

      const parts = await client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: created.UploadId }));
      assert.deepEqual(parts.Parts.map((p) => [p.PartNumber, p.Size, p.ETag]), [[1, part1.length, up1.ETag], [2, part2.length, up2.ETag]]);

      const done = await client.send(new CompleteMultipartUploadCommand({
        Bucket: bucket, Key: key, UploadId: created.UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: up1.ETag, ChecksumCRC32: up1.ChecksumCRC32 },
            { PartNumber: 2, ETag: up2.ETag, ChecksumCRC32: up2.ChecksumCRC32 },
          ],
        },
      }));
      assert.equal(done.Key, key);
      // S3 multipart ETag: md5 of the concatenated binary part md5s, then -<part count>.
      const etagOfEtags = md5hex(Buffer.concat([Buffer.from(md5hex(part1), 'hex'), Buffer.from(md5hex(part2), 'hex')]));
      assert.equal(done.ETag, `"${etagOfEtags}-2"`);

      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      assert.equal(got.ContentLength, part1.length + part2.length);
      assert.equal(got.ContentType, 'application/x-test');
      assert.equal(got.ETag, done.ETag);
      assert.ok((await bodyBytes(got)).equals(Buffer.concat([part1, part2])), 'multipart object round-trips byte-exact');

      // An aborted upload leaves nothing behind.
      const other = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'big/aborted.bin' }));
      await client.send(new UploadPartCommand({ Bucket: bucket, Key: 'big/aborted.bin', UploadId: other.UploadId, PartNumber: 1, Body: 'x' }));
      const aborted = await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'big/aborted.bin', UploadId: other.UploadId }));
      assert.equal(aborted.$metadata.httpStatusCode, 204);
      await assertS3Error(
        client.send(new ListPartsCommand({ Bucket: bucket, Key: 'big/aborted.bin', UploadId: other.UploadId })),
        'NoSuchUpload', 404,
      );
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      assert.deepEqual(listed.Contents.map((o) => o.Key), [key]);

      assertAddressing(s3, bucket, style);
    });
  }

  test(`${style} style: temporary credentials are held to their bucket, prefix and permission`, async () => {
    const bucket = await createBucket(server, 'scope');
    const otherBucket = await createBucket(server, 'other');
    const admin = s3Client(server, await KEY_KINDS['long-lived key'](server), style).client;
    await admin.send(new PutObjectCommand({ Bucket: bucket, Key: 'team-b/secret.txt', Body: 'not yours' }));
    await admin.send(new PutObjectCommand({ Bucket: otherBucket, Key: 'team-a/x.txt', Body: 'other bucket' }));

    const rw = s3Client(server, await mintTemporary(server, { bucket, prefixes: ['team-a/'] }), style).client;
    await rw.send(new PutObjectCommand({ Bucket: bucket, Key: 'team-a/ok.txt', Body: 'mine' }));
    const mine = await rw.send(new GetObjectCommand({ Bucket: bucket, Key: 'team-a/ok.txt', ChecksumMode: 'ENABLED' }));
    assert.equal(await mine.Body.transformToString(), 'mine');
    const listed = await rw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'team-a/' }));
    assert.deepEqual(listed.Contents.map((o) => o.Key), ['team-a/ok.txt']);

    await assertS3Error(rw.send(new PutObjectCommand({ Bucket: bucket, Key: 'team-b/x.txt', Body: 'no' })), 'AccessDenied', 403);
    await assertS3Error(rw.send(new GetObjectCommand({ Bucket: bucket, Key: 'team-b/secret.txt' })), 'AccessDenied', 403);
    // Never 404 for a key outside the scope, even when it does not exist.
    await assertS3Error(rw.send(new GetObjectCommand({ Bucket: bucket, Key: 'team-b/missing.txt' })), 'AccessDenied', 403);
    await assertS3Error(rw.send(new ListObjectsV2Command({ Bucket: bucket })), 'AccessDenied', 403);
    await assertS3Error(rw.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'team-b/secret.txt' })), 'AccessDenied', 403);
    // Bound to one bucket.
    await assertS3Error(rw.send(new GetObjectCommand({ Bucket: otherBucket, Key: 'team-a/x.txt' })), 'AccessDenied', 403);
    await assertS3Error(rw.send(new PutObjectCommand({ Bucket: otherBucket, Key: 'team-a/y.txt', Body: 'no' })), 'AccessDenied', 403);

    const ro = s3Client(server, await mintTemporary(server, { bucket, permission: 'object-read-only' }), style).client;
    const read = await ro.send(new GetObjectCommand({ Bucket: bucket, Key: 'team-b/secret.txt', ChecksumMode: 'ENABLED' }));
    assert.equal(await read.Body.transformToString(), 'not yours');
    await assertS3Error(ro.send(new PutObjectCommand({ Bucket: bucket, Key: 'team-a/ro.txt', Body: 'no' })), 'AccessDenied', 403);
    await assertS3Error(ro.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'team-b/secret.txt' })), 'AccessDenied', 403);
    await assertS3Error(ro.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'team-a/mpu.bin' })), 'AccessDenied', 403);

    // DeleteObjects checks every key: one key out of scope refuses the whole request.
    await assertS3Error(rw.send(new DeleteObjectsCommand({
      Bucket: bucket, Delete: { Objects: [{ Key: 'team-a/ok.txt' }, { Key: 'team-b/secret.txt' }] },
    })), 'AccessDenied', 403);
    // CopyObject needs read on the source and write on the destination.
    await assertS3Error(rw.send(new CopyObjectCommand({ Bucket: bucket, Key: 'team-a/stolen.txt', CopySource: `${bucket}/team-b/secret.txt` })), 'AccessDenied', 403);
    await assertS3Error(rw.send(new CopyObjectCommand({ Bucket: bucket, Key: 'team-b/planted.txt', CopySource: `${bucket}/team-a/ok.txt` })), 'AccessDenied', 403);
    await assertS3Error(rw.send(new CopyObjectCommand({ Bucket: bucket, Key: 'team-a/x.txt', CopySource: `${otherBucket}/team-a/x.txt` })), 'AccessDenied', 403);
    await rw.send(new CopyObjectCommand({ Bucket: bucket, Key: 'team-a/ok-copy.txt', CopySource: `${bucket}/team-a/ok.txt` }));
    // An upload id is not a capability: parts of someone else's upload outside the prefix are refused.
    const foreign = await admin.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'team-b/upload.bin' }));
    await assertS3Error(rw.send(new UploadPartCommand({
      Bucket: bucket, Key: 'team-b/upload.bin', UploadId: foreign.UploadId, PartNumber: 1, Body: 'x',
    })), 'AccessDenied', 403);
    await admin.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'team-b/upload.bin', UploadId: foreign.UploadId }));
    // Bound to one bucket: no ListBuckets.
    await assertS3Error(rw.send(new ListBucketsCommand({})), 'AccessDenied', 403);

    // Nothing the denied calls tried to write or delete exists / went away.
    const all = await admin.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.deepEqual(all.Contents.map((o) => o.Key), ['team-a/ok-copy.txt', 'team-a/ok.txt', 'team-b/secret.txt']);
    const others = await admin.send(new ListObjectsV2Command({ Bucket: otherBucket }));
    assert.deepEqual(others.Contents.map((o) => o.Key), ['team-a/x.txt']);
  });
}
