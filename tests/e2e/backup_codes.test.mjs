// Backup codes: single use, counted, regenerated only with step-up, and exactly one
// success when fifty requests race for the same code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, assertProblem, createTenant, enrollTotp, oathtool, verifyMfaToken } from './client.mjs';

test('a code redeems once, remaining drops, regeneration needs step-up and invalidates the old set', async () => {
  const tenant = await createTenant();
  const { ticket, secret, backupCodes, t } = await enrollTotp(tenant, 'dave');
  assert.equal(backupCodes.length, 10);
  for (const code of backupCodes) assert.match(code, /^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);

  // Typed sloppily: upper case, spaces instead of hyphens.
  const typed = backupCodes[0].toUpperCase().replaceAll('-', ' ');
  const redeem = await api('POST', `/v1/${tenant.id}/backup-codes/redeem`, { token: ticket, body: { code: typed } });
  assert.equal(redeem.status, 200, redeem.text);
  assert.equal(redeem.body.remaining, 9);
  const claims = await verifyMfaToken(tenant, redeem.body.mfa_token);
  assert.equal(claims.mfa_method, 'backup_code');
  assert.equal(claims.sub, 'dave');

  const again = await api('POST', `/v1/${tenant.id}/backup-codes/redeem`, { token: ticket, body: { code: backupCodes[0] } });
  assertProblem(again, 422, 'verification_failed');
  const factors = await api('GET', `/v1/${tenant.id}/factors`, { token: ticket });
  assert.equal(factors.body.backup_codes_remaining, 9);

  // Regenerating without a fresh mfa_token is refused.
  const bare = await api('POST', `/v1/${tenant.id}/backup-codes`, { token: ticket });
  assertProblem(bare, 403, 'step_up_required');

  const verify = await api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { type: 'totp', code: oathtool(secret, t + 30) } });
  assert.equal(verify.status, 200, verify.text);
  const regen = await api('POST', `/v1/${tenant.id}/backup-codes`, { token: ticket, headers: { 'x-mfa-token': verify.body.mfa_token } });
  assert.equal(regen.status, 201, regen.text);
  assert.equal(regen.body.codes.length, 10);

  const old = await api('POST', `/v1/${tenant.id}/backup-codes/redeem`, { token: ticket, body: { code: backupCodes[1] } });
  assertProblem(old, 422, 'verification_failed');
  const fresh = await api('POST', `/v1/${tenant.id}/backup-codes/redeem`, { token: ticket, body: { code: regen.body.codes[0] } });
  assert.equal(fresh.status, 200, fresh.text);
  assert.equal(fresh.body.remaining, 9);
});

test('fifty parallel redemptions of one code: exactly one succeeds', async () => {
  const tenant = await createTenant({ lockout: { max_failures: 100, window_seconds: 3600 } });
  const { ticket, backupCodes } = await enrollTotp(tenant, 'erin');
  const results = await Promise.all(
    Array.from({ length: 50 }, () => api('POST', `/v1/${tenant.id}/backup-codes/redeem`, { token: ticket, body: { code: backupCodes[3] } })),
  );
  const statuses = results.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses}`);
  assert.equal(statuses.filter((s) => s === 422).length, 49, `statuses: ${statuses}`);
  const factors = await api('GET', `/v1/${tenant.id}/factors`, { token: ticket });
  assert.equal(factors.body.backup_codes_remaining, 9);
});

test('fifty parallel redemptions under the default lockout: one success at most, the rest refused', async () => {
  const tenant = await createTenant();
  const { ticket, backupCodes } = await enrollTotp(tenant, 'frank');
  const results = await Promise.all(
    Array.from({ length: 50 }, () => api('POST', `/v1/${tenant.id}/backup-codes/redeem`, { token: ticket, body: { code: backupCodes[5] } })),
  );
  const statuses = results.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses}`);
  assert.ok(statuses.every((s) => [200, 422, 429].includes(s)), `statuses: ${statuses}`);
});
