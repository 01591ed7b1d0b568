// A side-by-side load run (issue 14): edge-mfa on workerd directly (Miniflare's
// API, no `wrangler dev` proxy) and on the Spin test host, against a reference a
// team would build without it (bench/reference/server.mjs: Node, otplib,
// @simplewebauthn/server, jose, state in memory). The same client drives all three
// through the same requests: TOTP verify (answering an ES256 mfa_token), WebAuthn
// assertion (challenge, then verify: an ES256 assertion in, a token out), assess.
//   node bench/compare.mjs [seconds=10] [concurrencies=16,64] [targets=reference,worker,worker-rust-crypto,spin]
// Prints a JSON line per measurement, then a Markdown table with the ratios.
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { mintTicket } from '../scripts/lib/ticket.mjs';
import { SoftAuthenticator, cbor } from '../tests/e2e/soft_authenticator.mjs';
import { runtimes } from '../tests/e2e/runtimes.mjs';
import { startWorkerd } from './workerd.mjs';

const root = resolve(import.meta.dirname, '..');
const [seconds = '10', levels = '16,64', only = 'reference,worker,worker-rust-crypto,spin'] = process.argv.slice(2);
const concurrencies = levels.split(',').map(Number);
const USERS = Math.max(...concurrencies);
const ORIGIN = 'http://localhost:5173';

// ---- the client's own TOTP (RFC 6238, SHA-1, 6 digits, 30 s): codes under load
function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const out = [];
  for (const c of s.replace(/=+$/, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 0xff); bits -= 8; }
  }
  return Buffer.from(out);
}
const base32Encode = (bytes) => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0, out = '';
  for (const b of bytes) { value = (value << 8) | b; bits += 8; while (bits >= 5) { out += alphabet[(value >>> (bits - 5)) & 31]; bits -= 5; } }
  return bits > 0 ? out + alphabet[(value << (5 - bits)) & 31] : out;
};
function totp(secret, t) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(t / 30)));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[19] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

async function call(base, method, path, { token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  if (body !== undefined) h['content-type'] = 'application/json';
  const r = await fetch(`${base}${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null, text };
}
const must = (res, status, what) => {
  if (res.status !== status) throw new Error(`${what}: ${res.status} ${res.text}`);
  return res.body;
};

// ---- targets: how to start each and seed USERS users with a TOTP and a passkey
async function startReference() {
  const child = spawn(process.execPath, [resolve(root, 'bench/reference/server.mjs'), '0'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, REFERENCE_ORIGIN: ORIGIN } });
  const line = await new Promise((ok, fail) => {
    child.stdout.once('data', (d) => ok(String(d)));
    child.once('exit', (code) => fail(new Error(`reference exited ${code}`)));
  });
  const { port, ticket_secret: secret, tenant } = JSON.parse(line);
  const base = `http://127.0.0.1:${port}`;
  return {
    base, pid: child.pid, stop: async () => { child.kill(); },
    async seed(i) {
      const authenticator = new SoftAuthenticator({ origin: ORIGIN });
      authenticator.rpId = 'localhost';
      const totpSecret = base32Encode(randomBytes(20));
      must(await call(base, 'POST', '/bench/users', { body: {
        sub: `u${i}`, totp_secret: totpSecret, credential_id: authenticator.credentialId.toString('base64url'),
        credential_public_key: cbor(authenticator.algorithm.cose(authenticator.jwk)).toString('base64url'),
      } }), 201, 'seed');
      return { tenant, secret, sub: `u${i}`, totpSecret, authenticator };
    },
  };
}

function edgeMfa(runtime, pid) {
  const base = runtime.baseUrl;
  let tenant;
  return {
    base, pid, stop: () => runtime.stop(),
    async seed(i) {
      tenant ??= must(await call(base, 'POST', '/v1/tenants', { token: runtime.operatorKey, body: {
        id: `bench-${randomBytes(4).toString('hex')}`, name: 'Bench', rp_id: 'localhost', origins: [ORIGIN], policy: { mode: 'required' },
      } }), 201, 'tenant');
      const sub = `u${i}`;
      const ticket = await mintTicket({ tenant: tenant.id, secret: tenant.ticket_secret, sub });
      const enroll = must(await call(base, 'POST', `/v1/${tenant.id}/enroll`, { token: ticket, body: { type: 'totp' } }), 201, 'enroll totp');
      const t = Math.floor(Date.now() / 1000);
      const confirmed = must(await call(base, 'POST', `/v1/${tenant.id}/enroll/${enroll.enrollment_id}/confirm`, { token: ticket, body: { code: totp(enroll.secret, t) } }), 201, 'confirm totp');
      const passkey = must(await call(base, 'POST', `/v1/${tenant.id}/enroll`, { token: ticket, body: { type: 'webauthn' }, headers: { 'x-mfa-token': confirmed.mfa_token } }), 201, 'enroll passkey');
      const authenticator = new SoftAuthenticator({ origin: ORIGIN });
      must(await call(base, 'POST', `/v1/${tenant.id}/enroll/${passkey.enrollment_id}/confirm`, { token: ticket, body: { credential: authenticator.register(passkey.public_key) } }), 201, 'confirm passkey');
      // The code confirm used is spent: the load's clock starts a step later.
      return { tenant: tenant.id, secret: tenant.ticket_secret, sub, totpSecret: enroll.secret, authenticator, start: t + 30 };
    },
  };
}

async function worker(compatibilityFlags) {
  const keys = { MASTER_KEY: randomBytes(32).toString('base64'), OPERATOR_KEY: randomBytes(32).toString('base64url') };
  const w = await startWorkerd({ vars: { ...keys, EDGE_MFA_TEST_HOOKS: 'enabled' }, compatibilityFlags });
  const target = edgeMfa({ baseUrl: w.url, operatorKey: keys.OPERATOR_KEY, stop: w.stop }, w.pid?.());
  // Checked on the first answer (test hooks): which code the signatures ran in.
  target.crypto = compatibilityFlags.includes('nodejs_compat') ? 'node' : 'rust';
  return target;
}

const targets = {
  reference: startReference,
  worker: () => worker(['nodejs_compat']),
  // The same Worker without node:crypto: every signature in wasm (RustCrypto).
  'worker-rust-crypto': () => worker([]),
  async spin() {
    const runtime = await runtimes.spin();
    return edgeMfa(runtime, runtime.pid);
  },
};

// ---- the three operations, each client on its own user (no two share a clock)
function operations(target) {
  return {
    async 'TOTP verify'(user) {
      user.clock = (user.clock ?? user.start ?? Math.floor(Date.now() / 1000) + 30) + 30;
      const t = user.clock;
      if (!user.ticketAt || t - user.ticketAt > 200) {
        user.ticket = await mintTicket({ tenant: user.tenant, secret: user.secret, sub: user.sub, now: t });
        user.ticketAt = t;
      }
      const started = performance.now();
      const r = await call(target.base, 'POST', `/v1/${user.tenant}/verify`, { token: user.ticket, body: { type: 'totp', code: totp(user.totpSecret, t) }, headers: { 'x-edge-mfa-test-now': String(t) } });
      return [r.status === 200 && typeof r.body.mfa_token === 'string', performance.now() - started];
    },
    async 'WebAuthn verify'(user) {
      const t = Math.floor(Date.now() / 1000);
      if (!user.realTicketAt || t - user.realTicketAt > 200) {
        user.realTicket = await mintTicket({ tenant: user.tenant, secret: user.secret, sub: user.sub, now: t });
        user.realTicketAt = t;
      }
      const challenge = await call(target.base, 'POST', `/v1/${user.tenant}/challenge`, { token: user.realTicket, body: { type: 'webauthn' } });
      if (challenge.status !== 201) return [false, 0];
      const credential = user.authenticator.assert(challenge.body.public_key);
      const started = performance.now();
      const r = await call(target.base, 'POST', `/v1/${user.tenant}/verify`, { token: user.realTicket, body: { challenge_id: challenge.body.challenge_id, credential } });
      return [r.status === 200 && typeof r.body.mfa_token === 'string', performance.now() - started];
    },
    async assess(user) {
      const started = performance.now();
      const r = await call(target.base, 'POST', `/v1/${user.tenant}/assess`, { token: user.realTicket, body: {} });
      return [r.status === 200 && r.body.action === 'challenge', performance.now() - started];
    },
  };
}

async function measure(target, name, op, users, concurrency) {
  const latencies = [];
  let errors = 0, iterations = 0;
  const deadline = performance.now() + Number(seconds) * 1000;
  const client = async (user) => {
    while (performance.now() < deadline) {
      const [ok, ms] = await op(user).catch(() => [false, 0]);
      iterations++;
      if (ok) latencies.push(ms); else errors++;
    }
  };
  const started = performance.now();
  await Promise.all(users.slice(0, concurrency).map(client));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const p = (q) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : NaN);
  return { target: name, concurrency, seconds: Number(seconds), ok: latencies.length, errors, rps: Math.round(latencies.length / elapsed), p50_ms: +p(0.5).toFixed(2), p99_ms: +p(0.99).toFixed(2) };
}

const results = [];
for (const name of only.split(',')) {
  const started = performance.now();
  const target = await targets[name]();
  const ready = performance.now() - started;
  // The first request after a fresh start: the module compiled and instantiated,
  // nothing warmed by earlier requests.
  const firstStarted = performance.now();
  const first = await fetch(`${target.base}/health`);
  const firstMs = performance.now() - firstStarted;
  if (target.crypto && first.headers.get('x-edge-mfa-crypto') !== target.crypto) {
    throw new Error(`${name} signs with ${first.headers.get('x-edge-mfa-crypto')}, not ${target.crypto}`);
  }
  const cold = { target: name, operation: 'cold start', start_to_ready_ms: Math.round(ready), first_request_ms: +firstMs.toFixed(1), first_status: first.status };
  console.log(JSON.stringify(cold));
  results.push(cold);
  try {
    const users = [];
    for (let i = 0; i < USERS; i++) users.push(await target.seed(i));
    for (const u of users) u.realTicket = await mintTicket({ tenant: u.tenant, secret: u.secret, sub: u.sub }), u.realTicketAt = Math.floor(Date.now() / 1000);
    const ops = operations(target);
    for (const [operation, op] of Object.entries(ops)) {
      for (const concurrency of concurrencies) {
        const r = { operation, ...(await measure(target, name, op, users, concurrency)) };
        console.log(JSON.stringify(r));
        results.push(r);
      }
    }
  } finally {
    await target.stop();
  }
}

// ---- the table, with each figure's ratio to the reference
const ref = (operation, concurrency) => results.find((r) => r.target === 'reference' && r.operation === operation && r.concurrency === concurrency);
console.log('\n| operation | clients | target | req/s | p50 ms | p99 ms | errors | req/s ÷ reference |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of results.filter((r) => r.rps !== undefined)) {
  const base = ref(r.operation, r.concurrency);
  const ratio = base && base.rps ? (r.rps / base.rps).toFixed(2) : '—';
  console.log(`| ${r.operation} | ${r.concurrency} | ${r.target} | ${r.rps} | ${r.p50_ms} | ${r.p99_ms} | ${r.errors} | ${ratio} |`);
}
console.log('\n| target | start to ready (ms) | first request (ms) |');
console.log('|---|---|---|');
for (const r of results.filter((r) => r.operation === 'cold start')) console.log(`| ${r.target} | ${r.start_to_ready_ms} | ${r.first_request_ms} |`);
