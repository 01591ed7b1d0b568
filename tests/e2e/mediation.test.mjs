// Complete mediation: the policy's refusals hold on every path that issues proof or
// binds a factor, not only in assess; tickets and tokens say exactly what they are.
// The runtime runs with test hooks, so X-Edge-MFA-Test-* set the clock and country.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, assertProblem, at, createTenant, enrollTotp, now, oathtool, ticketFor, verifyMfaToken } from './client.mjs';

const from = (country) => ({ 'x-edge-mfa-test-country': country });

test('from a denied country: challenge, verify, redeem, enroll and confirm are 403, and nothing is consumed', async () => {
  // One counted failure would lock: the refusals below must count for nothing.
  const tenant = await createTenant({
    mode: 'adaptive',
    adaptive: { trusted_networks: [], challenge_new_device: false, challenge_new_country: false, deny_countries: ['KP'] },
    lockout: { max_failures: 1, window_seconds: 900 },
  });
  const user = await enrollTotp(tenant, 'dina');
  const path = (p) => `/v1/${tenant.id}${p}`;
  const t = user.t + 30;
  const code = oathtool(user.secret, t);
  const backup = user.backupCodes[0];
  const call = (method, p, body, headers = {}) => api(method, path(p), { token: user.ticket, body, headers: { ...at(t), ...headers } });

  assert.equal((await call('POST', '/assess', undefined, from('KP'))).body.action, 'deny');
  assertProblem(await call('POST', '/challenge', { type: 'totp' }, from('KP')), 403, 'forbidden');
  assertProblem(await call('POST', '/verify', { type: 'totp', code }, from('KP')), 403, 'forbidden');
  assertProblem(await call('POST', '/backup-codes/redeem', { code: backup }, from('KP')), 403, 'forbidden');
  const status = await api('GET', path('/admin/users/dina'), { token: tenant.admin_key, headers: at(t) });
  assert.equal(status.body.locked_until, undefined, 'not counted');

  // From an allowed country the same code and backup code work: nothing was consumed,
  // and the refusals were not counted as failures.
  const ok = await call('POST', '/verify', { type: 'totp', code }, from('DE'));
  assert.equal(ok.status, 200, ok.text);
  const stepUp = { 'x-mfa-token': ok.body.mfa_token };
  const redeemed = await call('POST', '/backup-codes/redeem', { code: backup }, from('DE'));
  assert.equal(redeemed.status, 200, redeemed.text);
  assert.equal(redeemed.body.remaining, user.backupCodes.length - 1);

  // Enrolling another factor from there: refused; started elsewhere, confirming
  // from there is refused too, and the enrollment survives for an allowed country.
  assertProblem(await call('POST', '/enroll', { type: 'totp' }, { ...from('KP'), ...stepUp }), 403, 'forbidden');
  const enroll = await call('POST', '/enroll', { type: 'totp' }, { ...from('DE'), ...stepUp });
  assert.equal(enroll.status, 201, enroll.text);
  const confirmCode = oathtool(enroll.body.secret, t);
  const confirmPath = `/enroll/${enroll.body.enrollment_id}/confirm`;
  assertProblem(await call('POST', confirmPath, { code: confirmCode }, from('KP')), 403, 'forbidden');
  const factors = await call('GET', '/factors', undefined, from('DE'));
  assert.equal(factors.body.factors.length, 1, 'nothing was created');
  assert.equal((await call('POST', confirmPath, { code: confirmCode }, from('DE'))).status, 201);
});

test('a country the platform does not tell counts as XX: denying XX fails closed', async () => {
  const tenant = await createTenant({
    mode: 'adaptive',
    adaptive: { trusted_networks: [], challenge_new_device: false, challenge_new_country: false, deny_countries: ['XX'] },
  });
  const ticket = await ticketFor(tenant, 'xena');
  const known = await api('POST', `/v1/${tenant.id}/assess`, { token: ticket, headers: from('DE') });
  assert.notEqual(known.body.action, 'deny', known.text);
  const unknown = await api('POST', `/v1/${tenant.id}/assess`, { token: ticket, headers: from('XX') });
  assert.equal(unknown.body.action, 'deny', unknown.text);
  if (process.env.EDGE_MFA_RUNTIME === 'spin') {
    // Spin tells no country at all.
    const none = await api('POST', `/v1/${tenant.id}/assess`, { token: ticket });
    assert.equal(none.body.action, 'deny', none.text);
  }
});

test('confirm after the method was removed from the policy is refused and creates nothing', async () => {
  const tenant = await createTenant();
  const ticket = await ticketFor(tenant, 'remo');
  const path = (p) => `/v1/${tenant.id}${p}`;
  const enroll = await api('POST', path('/enroll'), { token: ticket, body: { type: 'totp' } });
  assert.equal(enroll.status, 201, enroll.text);
  const policy = (body) => api('PUT', path('/admin/policy'), { token: tenant.admin_key, body });
  assert.equal((await policy({ allowed_methods: ['webauthn', 'backup_code'], default_method: 'webauthn' })).status, 200);
  const code = oathtool(enroll.body.secret, now());
  const confirm = () => api('POST', path(`/enroll/${enroll.body.enrollment_id}/confirm`), { token: ticket, body: { code } });
  const refused = await confirm();
  assertProblem(refused, 400, 'invalid_request');
  assert.match(refused.body.detail, /totp is not allowed/);
  assert.deepEqual((await api('GET', path('/factors'), { token: ticket })).body.factors, []);
  assert.equal((await policy({})).status, 200);
  assert.equal((await confirm()).status, 201, 'the enrollment was left as it was');
});

test('renaming a factor needs step-up', async () => {
  const tenant = await createTenant();
  const user = await enrollTotp(tenant, 'ren');
  const rename = (headers = {}) => api('PATCH', `/v1/${tenant.id}/factors/${user.factor.id}`, { token: user.ticket, body: { name: "Thief's phone" }, headers });
  assertProblem(await rename(), 403, 'step_up_required');
  const v = await api('POST', `/v1/${tenant.id}/verify`, { token: user.ticket, body: { type: 'totp', code: oathtool(user.secret, user.t + 30) }, headers: at(user.t + 30) });
  assert.equal(v.status, 200, v.text);
  const renamed = await rename({ 'x-mfa-token': v.body.mfa_token, ...at(user.t + 30) });
  assert.equal(renamed.status, 200, renamed.text);
  assert.equal(renamed.body.factor.name, "Thief's phone");
});

test('tickets: nbf in the future and claims we cannot hold are 401', async () => {
  const tenant = await createTenant();
  const early = await ticketFor(tenant, 'nb', { extra: { nbf: now() + 300 } });
  const r = await api('POST', `/v1/${tenant.id}/assess`, { token: early });
  assertProblem(r, 401, 'unauthorized');
  assert.equal(r.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
  const valid = await ticketFor(tenant, 'nb', { extra: { nbf: now() - 5 } });
  assert.equal((await api('POST', `/v1/${tenant.id}/assess`, { token: valid })).status, 200);
  const longSub = await ticketFor(tenant, 'x'.repeat(257));
  assertProblem(await api('POST', `/v1/${tenant.id}/assess`, { token: longSub }), 401, 'unauthorized');
});

test('tokens say whether a second factor was presented: acr "mfa" or "0"', async () => {
  const tenant = await createTenant({ mode: 'off' });
  const ticket = await ticketFor(tenant, 'acr');
  const allowed = await api('POST', `/v1/${tenant.id}/assess`, { token: ticket });
  const policyClaims = await verifyMfaToken(tenant, allowed.body.mfa_token);
  assert.deepEqual([policyClaims.acr, policyClaims.amr, policyClaims.mfa_method], ['0', [], 'policy']);
  const user = await enrollTotp(tenant, 'acr');
  const v = await api('POST', `/v1/${tenant.id}/verify`, { token: user.ticket, body: { type: 'totp', code: oathtool(user.secret, user.t + 30) }, headers: at(user.t + 30) });
  const claims = await verifyMfaToken(tenant, v.body.mfa_token);
  assert.deepEqual([claims.acr, claims.amr, claims.mfa_method], ['mfa', ['otp'], 'totp']);
});
