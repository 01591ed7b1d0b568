// Tenant configuration is published in order: what requests enforce is what the
// last committed update wrote, whatever order parallel updates finish in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, createTenant, ticketFor } from './client.mjs';

const version = (res) => Number(JSON.parse(res.headers.get('etag')));

test('racing policy PUTs: the published policy is the one the last committed PUT wrote', async () => {
  const tenant = await createTenant();
  const initial = await api('GET', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key });
  assert.equal(version(initial), 1, 'a new tenant is version 1');
  const n = 12;
  const puts = await Promise.all(
    Array.from({ length: n }, (_, i) => api('PUT', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key, body: { grace_period_days: i + 1 } })),
  );
  for (const r of puts) assert.equal(r.status, 200, r.text);
  const versions = puts.map(version).sort((a, b) => a - b);
  assert.deepEqual(versions, Array.from({ length: n }, (_, i) => i + 2), 'each PUT committed once, in some order');
  const last = puts.find((r) => version(r) === n + 1);

  const published = await api('GET', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key });
  assert.equal(version(published), n + 1);
  assert.deepEqual(published.body, last.body);
  // And requests enforce it: a new user's grace period is the last PUT's.
  const assess = await api('POST', `/v1/${tenant.id}/assess`, { token: await ticketFor(tenant, 'racer') });
  assert.equal(assess.body.enrollment.state, 'grace');
  const days = (assess.body.enrollment.deadline - Math.floor(Date.now() / 1000)) / 86_400;
  assert.ok(Math.abs(days - last.body.grace_period_days) < 0.01, `grace of ${days} days, last PUT ${last.body.grace_period_days}`);
});
