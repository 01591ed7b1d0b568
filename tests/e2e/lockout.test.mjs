// The lockout: parallel guesses cannot get more evaluations than the allowance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, assertProblem, createTenant, enrollTotp, oathtool } from './client.mjs';

function wrongCode(secret, t) {
  const right = new Set([-1, 0, 1, 2].map((k) => oathtool(secret, t + 30 * k)));
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, '0');
    if (!right.has(code)) return code;
  }
}

test('thirty parallel wrong guesses: five evaluated, the rest 429 with Retry-After; the right code is refused while locked', async () => {
  const tenant = await createTenant();
  const { ticket, secret, t } = await enrollTotp(tenant, 'gina');
  const code = wrongCode(secret, t);
  const results = await Promise.all(
    Array.from({ length: 30 }, () => api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { type: 'totp', code } })),
  );
  const statuses = results.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 422).length, 5, `statuses: ${statuses}`);
  assert.equal(statuses.filter((s) => s === 429).length, 25, `statuses: ${statuses}`);
  for (const r of results.filter((r) => r.status === 429)) {
    assertProblem(r, 429, 'rate_limited');
    const retry = Number(r.headers.get('retry-after'));
    assert.ok(retry > 0 && retry <= 900, `Retry-After ${retry}`);
  }
  const right = await api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { type: 'totp', code: oathtool(secret, t + 30) } });
  assertProblem(right, 429, 'rate_limited');
  const backup = await api('POST', `/v1/${tenant.id}/backup-codes/redeem`, { token: ticket, body: { code: 'aaaa-aaaa-aaaa' } });
  assertProblem(backup, 429, 'rate_limited');
});

test('the lockout is per user: another user of the tenant is unaffected', async () => {
  const tenant = await createTenant({ lockout: { max_failures: 2, window_seconds: 600 } });
  const a = await enrollTotp(tenant, 'hank');
  const b = await enrollTotp(tenant, 'ivy');
  for (let i = 0; i < 3; i++) {
    await api('POST', `/v1/${tenant.id}/verify`, { token: a.ticket, body: { type: 'totp', code: wrongCode(a.secret, a.t) } });
  }
  const locked = await api('POST', `/v1/${tenant.id}/verify`, { token: a.ticket, body: { type: 'totp', code: oathtool(a.secret, a.t + 30) } });
  assertProblem(locked, 429, 'rate_limited');
  const other = await api('POST', `/v1/${tenant.id}/verify`, { token: b.ticket, body: { type: 'totp', code: oathtool(b.secret, b.t + 30) } });
  assert.equal(other.status, 200, other.text);
  const status = await api('GET', `/v1/${tenant.id}/admin/users/hank`, { token: tenant.admin_key });
  assert.equal(status.status, 200, status.text);
  assert.ok(status.body.locked_until > Math.floor(Date.now() / 1000));
});

test('no lost updates: twenty parallel failures all count, so the next attempt is locked', async () => {
  // A read-then-write store without atomicity would lose some of these increments
  // and leave the user unlocked.
  const tenant = await createTenant({ lockout: { max_failures: 20, window_seconds: 600 } });
  const { ticket, secret, t } = await enrollTotp(tenant, 'lou');
  const code = wrongCode(secret, t);
  const results = await Promise.all(
    Array.from({ length: 20 }, () => api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { type: 'totp', code } })),
  );
  assert.deepEqual(results.map((r) => r.status), Array(20).fill(422));
  const next = await api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { type: 'totp', code: oathtool(secret, t + 30) } });
  assertProblem(next, 429, 'rate_limited');
});
