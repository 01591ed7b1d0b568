// Memory under sustained load: N requests (or, written `10m`/`90s`, as many as fit
// in that time) from C concurrent clients against one endpoint of a local runtime, sampling the Worker isolate's wasm linear memory
// (the `x-edge-mfa-wasm-pages` header the Worker adds when test hooks are on) and
// the runtime's resident memory (RSS of its process tree) along the way. `worker`
// is workerd directly (bench/workerd.mjs); `worker-wrangler` and `spin` are started
// by tests/e2e/runtimes.mjs exactly as in the tests.
//   node bench/soak.mjs worker|worker-wrangler|spin [requests|duration] [concurrency]
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { runtimes } from '../tests/e2e/runtimes.mjs';
import { startWorkerd } from './workerd.mjs';

const [name = 'worker', amount = '20000', concurrency = '64'] = process.argv.slice(2);
const duration = amount.match(/^(\d+)(s|m)$/);
const durationMs = duration ? Number(duration[1]) * (duration[2] === 'm' ? 60_000 : 1000) : Infinity;
const total = duration ? Infinity : Number(amount);
if (!duration && !(total > 0)) throw new Error(`requests or a duration (10m, 90s), not ${amount}`);
async function start() {
  if (name === 'worker-wrangler') return runtimes.worker();
  if (name !== 'worker') return runtimes[name]();
  const keys = { MASTER_KEY: randomBytes(32).toString('base64'), OPERATOR_KEY: randomBytes(32).toString('base64url') };
  const w = await startWorkerd({ vars: { ...keys, EDGE_MFA_TEST_HOOKS: 'enabled' } });
  return { baseUrl: w.url, operatorKey: keys.OPERATOR_KEY, stop: w.stop };
}
const runtime = await start();
process.env.EDGE_MFA_BASE_URL = runtime.baseUrl;
process.env.EDGE_MFA_OPERATOR_KEY = runtime.operatorKey;
const { api, createTenant, ticketFor } = await import('../tests/e2e/client.mjs');

/// Resident memory (MiB) of every process whose command line names `pattern`.
function rssMiB(pattern) {
  let kib = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes(pattern)) continue;
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      kib += Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
    } catch { /* gone */ }
  }
  return Math.round(kib / 1024);
}

const processPattern = name.startsWith('worker') ? 'workerd' : 'spin-test-host';
try {
  const tenant = await createTenant({ mode: 'required' });
  const mint = () => Promise.all(Array.from({ length: 64 }, (_, i) => ticketFor(tenant, `soak-${i}`, { ttl: 900 })));
  let tickets = await mint();
  // Tickets live at most 15 minutes: a long run mints new ones every ten.
  const renew = setInterval(async () => { tickets = await mint(); }, 600_000);
  const samples = [];
  let sent = 0;
  let errors = 0;
  let pages = 0;
  const started = performance.now();
  const sample = () => samples.push({ requests: sent, seconds: Math.round((performance.now() - started) / 1000), wasm_pages: pages, wasm_mib: pages / 16, rss_mib: rssMiB(processPattern) });
  // By count: at the 1,000th request and every 10,000th; by time: every minute too.
  const minutely = duration ? setInterval(sample, 60_000) : null;
  async function client() {
    while (sent < total && performance.now() - started < durationMs) {
      const n = sent++;
      const r = await api('POST', `/v1/${tenant.id}/assess`, { token: tickets[n % tickets.length] });
      if (r.status !== 200) errors++;
      pages = Number(r.headers.get('x-edge-mfa-wasm-pages') ?? 0) || pages;
      if (n === 1000 || (!duration && n % 10000 === 0)) sample();
    }
  }
  await Promise.all(Array.from({ length: Number(concurrency) }, client));
  clearInterval(renew);
  if (minutely) clearInterval(minutely);
  sample();
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ runtime: name, endpoint: 'POST assess (64 users)', concurrency: Number(concurrency), requests: sent, errors,
    seconds: Math.round(seconds), rps: Math.round(sent / seconds), samples }));
} finally {
  await runtime.stop();
}
