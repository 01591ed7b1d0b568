// Rotating MASTER_KEY (docs/SECURITY.md): the deployment restarts with a new key
// and the old one as MASTER_KEY_PREVIOUS; everything sealed keeps working and is
// re-sealed under the new key as it is written; then the old key goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { api, createTenant, enrollTotp, oathtool, verifyMfaToken } from './client.mjs';
import { runtimes } from './runtimes.mjs';

test('MASTER_KEY rotation: old values open under MASTER_KEY_PREVIOUS, are re-sealed as written, and the old key can go', async () => {
  const start = runtimes[process.env.EDGE_MFA_RUNTIME];
  const oldKey = randomBytes(32).toString('base64');
  const newKey = randomBytes(32).toString('base64');
  let runtime = await start({ masterKey: oldKey, keepState: true });
  const { state, operatorKey } = runtime;
  const restart = async (options) => {
    await runtime.stop();
    runtime = await start({ state, operatorKey, keepState: true, ...options });
    return runtime.baseUrl;
  };
  try {
    let base = runtime.baseUrl;
    const tenant = await createTenant(undefined, [], { base, operatorKey });
    const user = await enrollTotp(tenant, 'rot', { base });
    const verify = async (t) => {
      const r = await api('POST', `/v1/${tenant.id}/verify`, { base, token: user.ticket, body: { type: 'totp', code: oathtool(user.secret, t) }, headers: { 'x-edge-mfa-test-now': String(t) } });
      assert.equal(r.status, 200, r.text);
      return r.body.mfa_token;
    };
    await verify(user.t + 30);

    // 1. The new key, with the old one as previous: all still works, and writing
    // re-seals (a policy PUT writes the tenant, a verification the user's record).
    base = await restart({ masterKey: newKey, previousMasterKeys: oldKey });
    const token = await verify(user.t + 60);
    await verifyMfaToken(tenant, token, { base });
    const put = await api('PUT', `/v1/${tenant.id}/admin/policy`, { base, token: tenant.admin_key, body: {} });
    assert.equal(put.status, 200, put.text);

    // 2. The new key alone: what was re-sealed opens — ticket secret, signing key,
    // backup-code pepper, TOTP secret.
    base = await restart({ masterKey: newKey });
    await verifyMfaToken(tenant, await verify(user.t + 90), { base });
    const redeem = await api('POST', `/v1/${tenant.id}/backup-codes/redeem`, { base, token: user.ticket, body: { code: user.backupCodes[0] } });
    assert.equal(redeem.status, 200, redeem.text);

    // 3. A key that sealed nothing here opens nothing: readiness says so (naming
    // the key ids, never a key), and a tenant's request is an opaque 500.
    const wrongKey = randomBytes(32).toString('base64');
    base = await restart({ masterKey: wrongKey, ready: false });
    const health = await api('GET', '/health', { base });
    assert.equal(health.status, 503, health.text);
    assert.equal(health.body.status, 'misconfigured');
    assert.match(health.body.problems[0], /MASTER_KEY does not open the data this deployment stored/);
    assert.ok(!health.text.includes(wrongKey) && !health.text.includes(newKey));
    const lost = await api('POST', `/v1/${tenant.id}/assess`, { base, token: user.ticket });
    assert.equal(lost.status, 500, lost.text);
    assert.equal(lost.body.code, 'internal');
    assert.ok(!lost.text.includes('MASTER_KEY'), 'the client learns nothing of the deployment');
  } finally {
    runtime.keepState = false;
    await runtime.stop();
    const { rmSync } = await import('node:fs');
    rmSync(state, { recursive: true, force: true });
  }
});
