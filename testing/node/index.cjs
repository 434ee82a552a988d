'use strict';
// mayfly-testing: a throwaway Mayfly (Cloudflare R2 temporary access credentials + the S3
// endpoint that enforces them) for node:test, vitest and jest. No build step: this CommonJS file
// is the implementation (so jest's CommonJS runtime can require it) and index.mjs re-exports it
// for ESM. Needs Node 18+ (global fetch).
//
//   const mayfly = await startMayfly();   // `mayfly serve --ephemeral --exit-on-stdin-eof`
//   const creds = await mayfly.mint(bucket, 'object-read-write', { prefixes: ['uploads/'] });
//   const s3 = new S3Client(creds.s3Config);
//   await mayfly.stop();
//
// The binary comes from the `bin` option, then MAYFLY_BIN, then `mayfly` on PATH. The server's
// stdin is a pipe only this process holds: if the test process dies, even by SIGKILL, the
// server exits and removes its data by itself.

const { spawn } = require('node:child_process');
const { accessSync, constants, openSync, closeSync, mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');
const { randomBytes } = require('node:crypto');

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const PERMISSIONS = ['admin-read-write', 'admin-read-only', 'object-read-write', 'object-read-only'];

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The `mayfly` executable: `bin`, then MAYFLY_BIN, then PATH. */
function findMayfly(bin) {
  const explicit = bin ?? process.env.MAYFLY_BIN;
  if (explicit) {
    if (!isExecutable(explicit)) throw new Error(`${explicit} is not an executable file`);
    return explicit;
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, process.platform === 'win32' ? 'mayfly.exe' : 'mayfly');
    if (isExecutable(candidate)) return candidate;
  }
  throw new Error('no mayfly binary: set MAYFLY_BIN or put `mayfly` on PATH');
}

/** An account and an admin-read-write token in it (the token id is its S3 access key id). */
class Account {
  constructor({ apiUrl, s3Url, accountId, apiToken, accessKeyId, secretAccessKey }) {
    this.apiUrl = apiUrl;
    this.s3Url = s3Url;
    this.accountId = accountId;
    this.apiToken = apiToken;
    this.accessKeyId = accessKeyId;
    this.secretAccessKey = secretAccessKey;
  }

  /** One v4 API call (`path` after /client/v4); resolves to `result`, rejects on failure. */
  async api(method, apiPath, body) {
    const response = await fetch(this.apiUrl + apiPath, {
      method,
      headers: { authorization: `Bearer ${this.apiToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const envelope = await response.json();
    if (!response.ok || !envelope.success) {
      throw new Error(`${method} ${apiPath}: HTTP ${response.status}: ${JSON.stringify(envelope.errors)}`);
    }
    return envelope.result;
  }

  /** The admin token's own S3 key pair, as `new S3Client(account.s3Config)` options. */
  get s3Config() {
    return s3Config(this.s3Url, { accessKeyId: this.accessKeyId, secretAccessKey: this.secretAccessKey });
  }

  /** Creates a bucket (a fresh unique name unless given); resolves to its name. */
  async createBucket(name = `test-${randomBytes(10).toString('hex')}`) {
    await this.api('POST', `/accounts/${this.accountId}/r2/buckets`, { name });
    return name;
  }

  /**
   * Temporary credentials from `temp-access-credentials`, signed by this account's admin token.
   * Resolves to { accessKeyId, secretAccessKey, sessionToken, endpoint, region, s3Config }, where
   * `s3Config` is ready for `new S3Client(creds.s3Config)` (@aws-sdk/client-s3).
   */
  async mint(bucket, permission = 'object-read-write', { prefixes, objects, ttl = 900 } = {}) {
    if (!PERMISSIONS.includes(permission)) {
      throw new Error(`permission must be one of ${PERMISSIONS.join(', ')}`);
    }
    const body = { bucket, parentAccessKeyId: this.accessKeyId, permission, ttlSeconds: ttl };
    if (prefixes) body.prefixes = [...prefixes];
    if (objects) body.objects = [...objects];
    const r = await this.api('POST', `/accounts/${this.accountId}/r2/temp-access-credentials`, body);
    const credentials = {
      accessKeyId: r.accessKeyId,
      secretAccessKey: r.secretAccessKey,
      sessionToken: r.sessionToken,
    };
    return { ...credentials, endpoint: this.s3Url, region: 'auto', s3Config: s3Config(this.s3Url, credentials) };
  }
}

function s3Config(endpoint, credentials) {
  return { endpoint, region: 'auto', forcePathStyle: true, credentials };
}

/** A running ephemeral Mayfly: the account it was bootstrapped with, plus the process. */
class Mayfly extends Account {
  constructor(ready, proc, logPath) {
    super({
      apiUrl: ready.api_url,
      s3Url: ready.s3_url,
      accountId: ready.account_id,
      apiToken: ready.api_token,
      accessKeyId: ready.access_key_id,
      secretAccessKey: ready.secret_access_key,
    });
    this.pid = ready.pid;
    this.logPath = logPath;
    this._proc = proc;
    this._exited = new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve({ code: proc.exitCode, signal: proc.signalCode });
      else proc.once('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  /** A fresh, empty account with its own admin token (the testing API): a clean slate. */
  async newAccount() {
    const r = await this.api('POST', '/mayfly/accounts');
    return new Account({
      apiUrl: this.apiUrl,
      s3Url: this.s3Url,
      accountId: r.account_id,
      apiToken: r.api_token,
      accessKeyId: r.access_key_id,
      secretAccessKey: r.secret_access_key,
    });
  }

  /** What the server logged (its stderr; removed after a clean stop). */
  logs() {
    return readFileSync(this.logPath, 'utf8');
  }

  /** Closes the server's stdin: it drains, removes its data and exits. Resolves to {code, signal}. */
  async stop() {
    this._proc.stdin.end();
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => {
        this._proc.kill('SIGKILL');
        resolve(null);
      }, STOP_TIMEOUT_MS);
    });
    const result = await Promise.race([this._exited, timeout]);
    clearTimeout(timer);
    if (result === null) throw new Error(`mayfly (pid ${this.pid}) did not stop within ${STOP_TIMEOUT_MS} ms`);
    // A clean stop leaves nothing behind; a failed one keeps its log for the report.
    if (result.code === 0) rmSync(path.dirname(this.logPath), { recursive: true, force: true });
    return result;
  }
}

/**
 * Starts `mayfly serve --ephemeral --exit-on-stdin-eof` and resolves once both listeners accept.
 * Options: `bin` (the executable), `args` (extra `serve` arguments), `timeoutMs`.
 */
async function startMayfly({ bin, args = [], timeoutMs = READY_TIMEOUT_MS } = {}) {
  const binary = findMayfly(bin);
  const logPath = path.join(mkdtempSync(path.join(tmpdir(), 'mayfly-log-')), 'stderr.log');
  const log = openSync(logPath, 'w');
  const proc = spawn(binary, ['serve', '--ephemeral', '--exit-on-stdin-eof', ...args], {
    stdio: ['pipe', 'pipe', log],
  });
  closeSync(log);
  const ready = await new Promise((resolve, reject) => {
    let buffered = '';
    const fail = (why) => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      let logs = '';
      try {
        logs = readFileSync(logPath, 'utf8').slice(-4000);
      } catch {}
      reject(new Error(`${binary} serve --ephemeral: ${why}\n${logs}`));
    };
    const timer = setTimeout(() => fail(`no JSON line within ${timeoutMs} ms`), timeoutMs);
    proc.once('error', (e) => fail(e.message));
    proc.once('exit', (code, signal) => fail(`exited (code ${code}, signal ${signal}) before it was ready`));
    proc.stdout.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      proc.removeAllListeners('error');
      try {
        resolve(JSON.parse(buffered.slice(0, nl)));
      } catch (e) {
        fail(`not JSON: ${e.message}`);
      }
    });
  });
  // A test file that forgets stop() must not hang its runner: when this process exits, the
  // server's stdin closes and it stops by itself.
  proc.unref();
  proc.stdin.unref?.();
  proc.stdout.unref?.();
  return new Mayfly(ready, proc, logPath);
}

module.exports = { startMayfly, findMayfly, Account, Mayfly, PERMISSIONS };
