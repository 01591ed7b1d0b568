// What workerd itself allows here: bench/floor/worker.mjs, a JavaScript Worker
// making the calls edge-mfa's TOTP verify makes (a KV read, the user's Durable
// Object writing once, an event appended to the tenant's log object, an ES256
// signature), one step at a time, on workerd directly (Miniflare's API, a socket
// bound straight to the Worker, as bench/workerd.mjs) and driven the way
// bench/compare.mjs drives edge-mfa. The ceiling for any Worker doing that work on
// this machine, to set beside compare.mjs's figures.
//   node bench/floor.mjs [seconds=10] [concurrencies=16,64]
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const [seconds = '10', levels = '16,64'] = process.argv.slice(2);
const { Miniflare, Log, LogLevel } = createRequire(resolve(root, 'node_modules/wrangler/package.json'))('miniflare');
const STEPS = ['empty', 'kv', 'kv-user', 'kv-user-log', 'kv-user-log-sign'];

const mf = new Miniflare({
  cf: false,
  logRequests: false,
  log: new Log(LogLevel.WARN),
  workers: [{
    config: {
      name: 'floor',
      compatibilityDate: '2025-09-01',
      manifest: {
        mainModule: 'worker.mjs',
        modulesRoot: resolve(import.meta.dirname, 'floor'),
        modules: { 'worker.mjs': { type: 'esm', contents: readFileSync(resolve(import.meta.dirname, 'floor/worker.mjs'), 'utf8') } },
      },
      env: {
        TENANTS: { type: 'kv', id: 'floor-tenants' },
        USERS: { type: 'durable-object', worker: 'floor', exportName: 'User' },
        LOG: { type: 'durable-object', worker: 'floor', exportName: 'Log' },
      },
      exports: { User: { type: 'durable-object', storage: 'sqlite' }, Log: { type: 'durable-object', storage: 'sqlite' } },
    },
    dev: { unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }] },
  }],
});
await mf.ready;
const base = (await mf.unsafeGetDirectURL('floor')).href.replace(/\/$/, '');
// About the size of a real tenant record (1,663 B of JSON for a new tenant).
const tenant = { id: 'bench', name: 'Bench', policy: { mode: 'required', methods: ['totp', 'webauthn'] }, sealed: 'x'.repeat(1400) };
await (await mf.getKVNamespace('TENANTS', 'floor')).put('tenant:bench', JSON.stringify(tenant));

const rows = [];
try {
  for (const step of STEPS) {
    for (const concurrency of levels.split(',').map(Number)) {
      const latencies = [];
      let errors = 0;
      const deadline = performance.now() + Number(seconds) * 1000;
      const client = async (_, i) => {
        for (let n = 0; performance.now() < deadline; n++) {
          const started = performance.now();
          const r = await fetch(`${base}/${step}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: `u${i}`, step: n, code: '123456' }) });
          const answer = await r.json().catch(() => null);
          if (r.status === 200 && (step.endsWith('sign') ? typeof answer?.mfa_token === 'string' : answer?.ok)) latencies.push(performance.now() - started);
          else errors++;
        }
      };
      const started = performance.now();
      await Promise.all(Array.from({ length: concurrency }, client));
      const elapsed = (performance.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      const p = (q) => +(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN).toFixed(2);
      const row = { target: 'floor', step, concurrency, seconds: Number(seconds), ok: latencies.length, errors, rps: Math.round(latencies.length / elapsed), p50_ms: p(0.5), p99_ms: p(0.99) };
      console.log(JSON.stringify(row));
      rows.push(row);
    }
  }
} finally {
  await mf.dispose();
}
console.log('\n| a JavaScript Worker doing | clients | req/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.step} | ${r.concurrency} | ${r.rps.toLocaleString('en-US')} | ${r.p50_ms} | ${r.p99_ms} | ${r.errors} |`);
if (rows.some((r) => r.errors > 0 || r.ok === 0)) process.exitCode = 1;
