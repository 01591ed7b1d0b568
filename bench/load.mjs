// Load through a local runtime: N concurrent clients for D seconds against one
// endpoint, reporting requests/s and latency percentiles. The runtime is started
// by tests/e2e/runtimes.mjs exactly as in the tests.
//   node bench/load.mjs worker|spin [seconds] [concurrency]
import { runtimes } from '../tests/e2e/runtimes.mjs';

const [name = 'spin', seconds = '10', concurrency = '16'] = process.argv.slice(2);
const runtime = await runtimes[name]();
process.env.EDGE_MFA_BASE_URL = runtime.baseUrl;
process.env.EDGE_MFA_OPERATOR_KEY = runtime.operatorKey;
const { api, createTenant, enrollTotp, ticketFor } = await import('../tests/e2e/client.mjs');

async function measure(label, request) {
  const latencies = [];
  let errors = 0;
  const deadline = performance.now() + Number(seconds) * 1000;
  async function client() {
    while (performance.now() < deadline) {
      const start = performance.now();
      const ok = await request();
      latencies.push(performance.now() - start);
      if (!ok) errors++;
    }
  }
  const started = performance.now();
  await Promise.all(Array.from({ length: Number(concurrency) }, client));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const p = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(1);
  console.log(JSON.stringify({ runtime: name, endpoint: label, concurrency: Number(concurrency), seconds: Number(seconds),
    requests: latencies.length, errors, rps: Math.round(latencies.length / elapsed), p50_ms: p(0.5), p99_ms: p(0.99) }));
}

try {
  const tenant = await createTenant({ mode: 'required' });
  const user = await enrollTotp(tenant, 'load');
  // Ticket check + the user's record read (Durable Object / SQLite) + decision + ES256 token.
  await measure('POST assess', async () => (await api('POST', `/v1/${tenant.id}/assess`, { token: user.ticket })).status === 200);
  // One tenant's log under load: every assess of another user appends an event
  // (and the user's row) to the same tenant log (docs/AUDIT.md "Throughput").
  const users = await Promise.all(Array.from({ length: 64 }, (_, i) => ticketFor(tenant, `load-${i}`)));
  let next = 0;
  await measure('POST assess, 64 users (one tenant log)', async () => (await api('POST', `/v1/${tenant.id}/assess`, { token: users[next++ % users.length] })).status === 200);
  const logged = await api('GET', `/v1/${tenant.id}/admin/audit?type=assess.decided&limit=1`, { token: tenant.admin_key });
  if (logged.status !== 200 || logged.body.events.length !== 1) throw new Error(`the log answered ${logged.status}`);
  // Ticket check only, no user state.
  await measure('GET jwks.json', async () => (await api('GET', `/v1/${tenant.id}/jwks.json`)).status === 200);
} finally {
  await runtime.stop();
}
