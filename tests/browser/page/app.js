// The test page's upload code. The Playwright test calls these functions with credentials it
// minted through the official Cloudflare SDK; every request goes from this page's origin to the
// S3 endpoint's (another origin), so the browser applies CORS to each of them.
import { AwsClient } from '/vendor/aws4fetch.mjs';

document.getElementById('origin').textContent = location.origin;

/** Adds a row to the page's table (what the screenshot shows). */
function record(step, ok, detail) {
  const row = document.createElement('tr');
  row.className = ok ? 'pass' : 'fail';
  for (const text of [step, ok ? 'PASS' : 'FAIL', detail]) {
    const cell = document.createElement('td');
    cell.textContent = text;
    row.appendChild(cell);
  }
  document.getElementById('steps').appendChild(row);
}

function client(creds) {
  return new AwsClient({
    accessKeyId: creds.accessKeyId,
    secretAccessKey: creds.secretAccessKey,
    sessionToken: creds.sessionToken,
    service: 's3',
    region: 'auto',
    retries: 0,
  });
}

function objectUrl(endpoint, bucket, key) {
  return `${endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

function xmlText(xml, tag) {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const node = doc.getElementsByTagName(tag)[0];
  return node ? node.textContent : null;
}

async function sha256Hex(buffer) {
  const digest = await crypto.subtle.digest('SHA-256', buffer);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** A byte pattern that differs per part, so a swapped or dropped part changes the hash. */
function partBytes(n, size) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + n * 7) & 0xff;
  return bytes;
}

window.setEndpoint = (endpoint) => {
  document.getElementById('endpoint').textContent = endpoint;
};

/** (a) PUT to a presigned URL, then read the object back with a presigned GET. */
window.presignedRoundTrip = async ({ putUrl, getUrl, body }) => {
  const put = await fetch(putUrl, { method: 'PUT', body });
  const etag = put.headers.get('ETag');
  const get = await fetch(getUrl);
  const text = await get.text();
  const ok = put.status === 200 && etag !== null && get.status === 200 && text === body;
  record('presigned PUT, then GET', ok, `PUT ${put.status} ETag ${etag}; GET ${get.status} "${text}"`);
  return { putStatus: put.status, etag, getStatus: get.status, text };
};

/** (b) aws4fetch with the temporary credentials: one PUT, then a two-part multipart upload. */
window.signedUploads = async ({ creds, endpoint, bucket, key, multipartKey, partSize, tailSize }) => {
  const aws = client(creds);
  const single = await aws.fetch(objectUrl(endpoint, bucket, key), {
    method: 'PUT',
    body: 'signed by aws4fetch',
    headers: { 'Content-Type': 'text/plain' },
  });
  record('aws4fetch PUT', single.status === 200, `status ${single.status}, ETag ${single.headers.get('ETag')}`);

  const base = objectUrl(endpoint, bucket, multipartKey);
  const init = await aws.fetch(`${base}?uploads`, { method: 'POST' });
  const uploadId = xmlText(await init.text(), 'UploadId');
  const parts = [partBytes(1, partSize), partBytes(2, tailSize)];
  const etags = [];
  for (const [i, body] of parts.entries()) {
    const url = `${base}?partNumber=${i + 1}&uploadId=${encodeURIComponent(uploadId)}`;
    const r = await aws.fetch(url, { method: 'PUT', body });
    // Readable only because the bucket's CORS rule exposes ETag.
    etags.push(r.headers.get('ETag'));
  }
  const complete = '<CompleteMultipartUpload>' +
    etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('') +
    '</CompleteMultipartUpload>';
  const done = await aws.fetch(`${base}?uploadId=${encodeURIComponent(uploadId)}`, {
    method: 'POST',
    body: complete,
    headers: { 'Content-Type': 'application/xml' },
  });
  const doneXml = await done.text();
  const back = await aws.fetch(base);
  const bytes = await back.arrayBuffer();
  const whole = new Uint8Array(partSize + tailSize);
  whole.set(parts[0], 0);
  whole.set(parts[1], partSize);
  const [got, want] = await Promise.all([sha256Hex(bytes), sha256Hex(whole)]);
  const ok = done.status === 200 && etags.every((e) => e) && got === want;
  record('aws4fetch multipart (ETag per part)', ok,
    `init ${init.status}; part ETags ${etags.join(' ')}; complete ${done.status}; read back ${bytes.byteLength} bytes, sha256 ${got === want ? 'matches' : 'DIFFERS'}`);
  return {
    singleStatus: single.status,
    initStatus: init.status,
    uploadId,
    etags,
    completeStatus: done.status,
    completeEtag: xmlText(doneXml, 'ETag'),
    readStatus: back.status,
    readBytes: bytes.byteLength,
    sha256Matches: got === want,
  };
};

/** (c) A request the bucket's rules do not allow from this origin: the browser refuses it. */
window.blockedRequest = async ({ url, method, body }) => {
  const step = `${method} from an origin no rule allows`;
  try {
    const r = await fetch(url, { method, body });
    record(step, false, `not blocked: status ${r.status}`);
    return { blocked: false, status: r.status };
  } catch (e) {
    record(step, e instanceof TypeError, `fetch rejected: ${e.name}: ${e.message}`);
    return { blocked: true, name: e.name };
  }
};

/** (d) A write outside the credential's prefix: the page reads the 403 and its S3 code. */
window.forbiddenWrite = async ({ creds, endpoint, bucket, key }) => {
  const r = await client(creds).fetch(objectUrl(endpoint, bucket, key), { method: 'PUT', body: 'not mine' });
  const text = await r.text();
  const code = xmlText(text, 'Code');
  record('write outside the prefix', r.status === 403 && code === 'AccessDenied', `status ${r.status}, <Code>${code}</Code>`);
  return { status: r.status, code };
};
