// Starts a real `mayfly` (init --json, then serve on port 0 with a ready file) for node:test
// suites, and stops it with SIGTERM, checking for exit code 0. Nothing here builds: the binary
// comes from MAYFLY_BIN or <repo>/target/debug/mayfly (scripts/test builds it first).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, existsSync, readFileSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MAYFLY_BIN = process.env.MAYFLY_BIN ?? path.join(repo, 'target', 'debug', 'mayfly');

function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('MAYFLY_') && !k.startsWith('CLOUDFLARE_')) env[k] = v;
  }
  return env;
}

// Cluster mode (MAYFLY_E2E_CLUSTER=1, needs MAYFLY_TEST_PG_URL): `startServer` runs crates/e2e's
// `mayfly-cluster` instead, two PostgreSQL-backed nodes behind round-robin balancers, and
// returns the balancers' URLs and the bootstrap credentials in the same shape.
const CLUSTER = process.env.MAYFLY_E2E_CLUSTER === '1';
export const MAYFLY_CLUSTER_BIN =
  process.env.MAYFLY_CLUSTER_BIN ?? path.join(path.dirname(MAYFLY_BIN), 'mayfly-cluster');

async function startCluster() {
  if (!process.env.MAYFLY_TEST_PG_URL) throw new Error('MAYFLY_E2E_CLUSTER=1 needs MAYFLY_TEST_PG_URL');
  if (!existsSync(MAYFLY_CLUSTER_BIN)) throw new Error(`${MAYFLY_CLUSTER_BIN} not found: run scripts/test (it builds first)`);
  const dir = mkdtempSync(path.join(tmpdir(), 'mayfly-node-cluster-'));
  const ready = path.join(dir, 'cluster.json');
  const env = { ...cleanEnv(), MAYFLY_TEST_PG_URL: process.env.MAYFLY_TEST_PG_URL, MAYFLY_BIN };
  const err = openSync(path.join(dir, 'stderr.txt'), 'w');
  const out = openSync(path.join(dir, 'stdout.txt'), 'w');
  const proc = spawn(MAYFLY_CLUSTER_BIN, ['--ready-file', ready, '--log-file', path.join(dir, 'nodes.log')], {
    env,
    stdio: ['ignore', out, err],
  });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 120_000;
  while (!existsSync(ready)) {
    if (proc.exitCode !== null) throw new Error(`mayfly-cluster exited ${proc.exitCode}: ${readFileSync(path.join(dir, 'stderr.txt'), 'utf8')}`);
    if (Date.now() > deadline) { proc.kill('SIGKILL'); throw new Error('mayfly-cluster not ready after 120 s'); }
    await new Promise((r) => setTimeout(r, 50));
  }
  const info = JSON.parse(readFileSync(ready, 'utf8'));
  const { account_id, api_token, token_id, access_key_id, secret_access_key } = info;
  return {
    account_id, api_token, token_id, access_key_id, secret_access_key,
    apiUrl: info.api_url,
    s3Url: info.s3_url,
    dataDir: dir,
    async stop() {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

export async function startServer() {
  if (CLUSTER) return startCluster();
  if (!existsSync(MAYFLY_BIN)) throw new Error(`${MAYFLY_BIN} not found: run scripts/test (it builds first)`);
  const dir = mkdtempSync(path.join(tmpdir(), 'mayfly-node-'));
  const dataDir = path.join(dir, 'data');
  const creds = JSON.parse(
    execFileSync(MAYFLY_BIN, ['init', '--data-dir', dataDir, '--json'], { env: cleanEnv(), encoding: 'utf8' }),
  );
  const ready = path.join(dir, 'ready.json');
  const err = openSync(path.join(dir, 'stderr.txt'), 'w');
  const out = openSync(path.join(dir, 'stdout.txt'), 'w');
  const proc = spawn(
    MAYFLY_BIN,
    ['serve', '--data-dir', dataDir, '--api-listen', '127.0.0.1:0', '--s3-listen', '127.0.0.1:0', '--ready-file', ready],
    { env: cleanEnv(), stdio: ['ignore', out, err] },
  );
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 30_000;
  while (!existsSync(ready)) {
    if (proc.exitCode !== null) throw new Error(`mayfly serve exited ${proc.exitCode}: ${readFileSync(path.join(dir, 'stderr.txt'), 'utf8')}`);
    if (Date.now() > deadline) { proc.kill('SIGKILL'); throw new Error('mayfly serve not ready after 30 s'); }
    await new Promise((r) => setTimeout(r, 20));
  }
  const info = JSON.parse(readFileSync(ready, 'utf8'));
  return {
    ...creds,
    apiUrl: info.api_url,
    s3Url: info.s3_url,
    dataDir,
    async stop() {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

export function uniqueBucket(prefix = 'n') {
  return `${prefix}-${randomBytes(10).toString('hex')}`;
}
