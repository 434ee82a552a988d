// Captures what the official `cloudflare` npm SDK (pinned in package.json) sends for each R2
// call Mayfly serves, and how it reacts to each kind of answer (returned value, error class,
// retries). Not a test: `scripts/capture-wire` runs it against tests/wire/capture_server.py and
// writes tests/fixtures/wire/cf_node.json, which the Rust wire tests read.
//
// Usage: node wire-capture.mjs <capture-server-port> <output.json>
import { readFileSync, writeFileSync } from 'node:fs';
import Cloudflare from 'cloudflare';

const ANSWERS = JSON.parse(readFileSync(new URL('../wire/answers.json', import.meta.url), 'utf8'));

// The fake account, parent key, bucket and token every capture uses.
const ACCOUNT = '023e105f4ecef8ad9ca31a8372d0c353';
const PARENT = 'example-access-key-id';
const BUCKET = 'example-bucket';
const TOKEN = 'fake-cf-api-token-Y2xvdWRmbGFyZQ';

const creds = (cf, extra = {}) =>
  cf.r2.temporaryCredentials.create({
    account_id: ACCOUNT,
    bucket: BUCKET,
    parentAccessKeyId: PARENT,
    permission: 'object-read-write',
    ttlSeconds: 3600,
    ...extra,
  });

// [name, queued answers, default answer, the call]
const SCENARIOS = [
  ['seed call, success envelope (a)', ['creds'], null, creds],
  ['with objects and prefixes', ['creds'], null,
    (cf) => creds(cf, { objects: ['photos/cat.png', 'docs/a b.txt'], prefixes: ['logs/', 'tmp/'] })],
  ['(b) HTTP 400 error envelope', ['e400_ttl'], null, creds],
  ['(c) HTTP 401', [], 'e401', creds],
  ['(c) HTTP 403', [], 'e403', creds],
  ['(c) HTTP 404', [], 'e404_bucket', creds],
  ['(c) HTTP 408', [], 'e408', creds],
  ['(c) HTTP 409', [], 'e409', creds],
  ['(c) HTTP 422', [], 'e422', creds],
  ['(c) HTTP 429 with Retry-After: 1 (every attempt)', [], 'e429_retry_after_1', creds],
  ['(c) HTTP 429 with retry-after-ms: 200', [], 'e429_retry_after_ms', creds],
  ['(c) HTTP 400 with x-should-retry: true', [], 'e400_retry_true', creds],
  ['(c) HTTP 429 without Retry-After', [], 'e429', creds],
  ['(c) HTTP 500 (every attempt)', [], 'e500', creds],
  ['(c) HTTP 502 non-JSON body', [], 'e502_text', creds],
  ['(c) HTTP 500 with x-should-retry: false', [], 'e500_retry_false', creds],
  ['(c) HTTP 500 once then 200', ['e500', 'creds'], null, creds],
  ['(d) HTTP 200 with success:false, result:null', ['success_false_null'], null, creds],
  ["(d') HTTP 200 with success:false and a result object", ['success_false_creds'], null, creds],
  ['200 envelope without result key', ['no_result_key'], null, creds],
  ['200 with text/plain body', ['text_plain_200'], null, creds],
  ["buckets.create({name:'my-bucket'})", ['bucket'], null,
    (cf) => cf.r2.buckets.create({ account_id: ACCOUNT, name: 'my-bucket' })],
  ['buckets.create with locationHint, storageClass, cf-r2-jurisdiction', ['bucket'], null,
    (cf) => cf.r2.buckets.create({
      account_id: ACCOUNT, name: 'my-bucket', locationHint: 'weur', storageClass: 'InfrequentAccess',
      'cf-r2-jurisdiction': 'eu',
    })],
  ['buckets.list (all params)', ['bucket_list_one'], null,
    (cf) => cf.r2.buckets.list({
      account_id: ACCOUNT, cursor: 'abc=', direction: 'desc', name_contains: 'my', order: 'name',
      per_page: 5, start_after: 'a', 'cf-r2-jurisdiction': 'eu',
    })],
  ["buckets.get('my-bucket')", ['bucket'], null, (cf) => cf.r2.buckets.get('my-bucket', { account_id: ACCOUNT })],
  ["buckets.get('a b/c') (path escaping)", ['bucket'], null,
    (cf) => cf.r2.buckets.get('a b/c', { account_id: ACCOUNT })],
  ["buckets.delete('my-bucket')", ['empty_result'], null,
    (cf) => cf.r2.buckets.delete('my-bucket', { account_id: ACCOUNT })],
];

async function control(port, method, path, body) {
  const r = await fetch(`http://127.0.0.1:${port}/__capture/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return r.json();
}

function chain(e) {
  const names = [];
  for (let p = Object.getPrototypeOf(e); p; p = Object.getPrototypeOf(p)) names.push(p.constructor.name);
  return names;
}

async function run(port, [name, queue, fallback, call]) {
  const plan = { queue: queue.map((a) => ANSWERS[a]) };
  if (fallback) plan.default = ANSWERS[fallback];
  await control(port, 'POST', 'plan', plan);
  const cf = new Cloudflare({ apiToken: TOKEN, baseURL: `http://127.0.0.1:${port}/client/v4` });
  const out = { name };
  const started = performance.now();
  try {
    const value = await call(cf);
    out.outcome = 'returned';
    if (value !== undefined) out.result = value;
  } catch (e) {
    Object.assign(out, {
      outcome: 'raised',
      exc_class: e.constructor.name,
      exc_chain: chain(e),
      exc_message: e.message,
      exc_status: e.status,
      exc_error: e.error,
      exc_errors: e.errors,
      exc_name: e.name,
      exc_headers: e.headers ? Object.fromEntries(e.headers) : undefined,
    });
  }
  out.elapsed_s = Math.round(performance.now() - started) / 1000;
  const requests = await control(port, 'GET', 'requests');
  const times = requests.map((r) => r.t);
  out.n_requests = requests.length;
  out.gaps_s = times.slice(1).map((t, i) => Math.round((t - times[i]) * 1000) / 1000);
  out.requests = requests;
  return out;
}

const [port, output] = process.argv.slice(2);
const results = [];
for (const s of SCENARIOS) results.push(await run(Number(port), s));
// JSON.stringify drops keys whose value is undefined, like the SDK's absent fields.
writeFileSync(output, `${JSON.stringify(results, null, 1)}\n`);
console.log(`${output}: ${results.length} scenarios`);
