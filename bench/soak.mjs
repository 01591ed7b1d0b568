// Memory under sustained load: N requests from C concurrent clients against one
// endpoint of a local runtime, sampling the Worker isolate's wasm linear memory
// (the `x-edge-mfa-wasm-pages` header the Worker adds when test hooks are on) and
// the runtime's resident memory (RSS of its process tree) along the way. `worker`
// is workerd directly (bench/workerd.mjs); `worker-wrangler` and `spin` are started
// by tests/e2e/runtimes.mjs exactly as in the tests.
//   node bench/soak.mjs worker|worker-wrangler|spin [requests] [concurrency]
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { runtimes } from '../tests/e2e/runtimes.mjs';
import { startWorkerd } from './workerd.mjs';

const [name = 'worker', total = '20000', concurrency = '64'] = process.argv.slice(2);
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
  const sample = () => samples.push({ requests: sent, wasm_pages: pages, wasm_mib: pages / 16, rss_mib: rssMiB(processPattern) });
  async function client() {
    while (sent < Number(total)) {
      const n = sent++;
      const r = await api('POST', `/v1/${tenant.id}/assess`, { token: tickets[n % tickets.length] });
      if (r.status !== 200) errors++;
      pages = Number(r.headers.get('x-edge-mfa-wasm-pages') ?? 0) || pages;
      if (n === 1000 || n % 10000 === 0) sample();
    }
  }
  await Promise.all(Array.from({ length: Number(concurrency) }, client));
  clearInterval(renew);
  sample();
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ runtime: name, endpoint: 'POST assess (64 users)', concurrency: Number(concurrency), requests: Number(total), errors,
    seconds: Math.round(seconds), rps: Math.round(Number(total) / seconds), samples }));
} finally {
  await runtime.stop();
}
