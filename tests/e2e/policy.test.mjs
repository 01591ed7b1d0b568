// The policy engine against the real runtime: assess in every mode, trusted
// devices, step-up, bypass, policy updates. The runtime runs with test hooks, so
// X-Edge-MFA-Test-Now / -IP / -Country set the clock and the client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, assertProblem, at, createTenant, enrollPasskey, enrollTotp, now, oathtool, ticketFor, verifyMfaToken } from './client.mjs';

const DAY = 86_400;

async function assess(tenant, ticket, { headers = {}, body } = {}) {
  const r = await api('POST', `/v1/${tenant.id}/assess`, { token: ticket, headers, ...(body ? { body } : {}) });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

/// Assess at an injected time, with a ticket the tenant would mint then.
async function assessAt(tenant, sub, t, { headers = {}, body } = {}) {
  return assess(tenant, await ticketFor(tenant, sub, { now: t }), { headers: { ...headers, ...at(t) }, body });
}

async function putPolicy(tenant, policy) {
  const r = await api('PUT', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key, body: policy });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

/// The remember-device token of a verification answer: from its cookie, the only
/// place it is given unless the tenant opts in to the body.
function cookieToken(res) {
  const cookie = res.headers.get('set-cookie');
  assert.ok(cookie, `no Set-Cookie in ${res.status} ${res.text}`);
  return cookie.split(';')[0].split('=')[1];
}

/// Verifies the code of time `t`, with the server's clock at `t` (codes of later
/// steps would otherwise fall outside the skew window).
async function verifyTotp(tenant, user, t, extra = {}, headers = {}) {
  return api('POST', `/v1/${tenant.id}/verify`, { token: user.ticket, body: { type: 'totp', code: oathtool(user.secret, t), ...extra }, headers: { ...at(t), ...headers } });
}

test('assess per mode: off, optional, required, grace and its end, with tokens that say why', async () => {
  const tenant = await createTenant({ mode: 'off' });
  const ticket = await ticketFor(tenant, 'nia');
  let d = await assess(tenant, ticket);
  assert.equal(d.action, 'allow');
  assert.deepEqual(d.reasons, ['mode_off']);
  const claims = await verifyMfaToken(tenant, d.mfa_token);
  assert.equal(claims.mfa_method, 'policy');
  assert.deepEqual(claims.amr, []);

  await putPolicy(tenant, { mode: 'optional' });
  d = await assess(tenant, ticket);
  assert.deepEqual([d.action, d.enrollment.state], ['allow', 'not_enrolled']);

  await putPolicy(tenant, { mode: 'required' });
  d = await assess(tenant, ticket);
  assert.deepEqual([d.action, d.reasons, d.enrollment.state], ['enroll', ['not_enrolled'], 'not_enrolled']);
  assert.equal(d.mfa_token, undefined, 'no token unless allowed');

  await putPolicy(tenant, { mode: 'required', grace_period_days: 3 });
  d = await assess(tenant, ticket);
  assert.deepEqual([d.action, d.enrollment.state], ['allow', 'grace']);
  assert.ok(d.reasons.includes('grace_period'));
  const deadline = d.enrollment.deadline;
  assert.ok(deadline > now() + 2 * DAY && deadline <= now() + 3 * DAY, `deadline ${deadline}`);
  d = await assessAt(tenant, 'nia', deadline - 1);
  assert.equal(d.enrollment.state, 'grace');
  d = await assessAt(tenant, 'nia', deadline);
  assert.deepEqual([d.action, d.enrollment.state, d.enrollment.deadline], ['enroll', 'expired', deadline]);

  // With a factor: challenge, and the factors to choose from.
  const user = await enrollTotp(tenant, 'nia');
  d = await assess(tenant, user.ticket);
  assert.deepEqual([d.action, d.enrollment.state], ['challenge', 'enrolled']);
  assert.deepEqual(d.factors.map((f) => f.type), ['totp']);
});

test('groups: require forces MFA even when off, exempt skips it, require wins over exempt', async () => {
  const tenant = await createTenant({ mode: 'off', groups: { require: ['admins'], exempt: ['kiosk'] } });
  const required = await assess(tenant, await ticketFor(tenant, 'g1', { extra: { groups: ['admins'] } }));
  assert.deepEqual([required.action, required.reasons], ['enroll', ['required_group', 'not_enrolled']]);
  await putPolicy(tenant, { mode: 'required', groups: { require: ['admins'], exempt: ['kiosk'] } });
  const exempt = await assess(tenant, await ticketFor(tenant, 'g2', { extra: { groups: ['kiosk'] } }));
  assert.deepEqual([exempt.action, exempt.reasons], ['allow', ['exempt_group']]);
  const both = await assess(tenant, await ticketFor(tenant, 'g3', { extra: { groups: ['kiosk', 'admins'] } }));
  assert.equal(both.action, 'enroll');
});

test('adaptive: trusted network, new country, denied country', async () => {
  const tenant = await createTenant({
    mode: 'adaptive',
    adaptive: { trusted_networks: ['198.51.100.0/24', '2001:db8::/32'], challenge_new_device: true, challenge_new_country: true, deny_countries: ['KP'] },
  });
  const user = await enrollTotp(tenant, 'ada');
  const from = (ip, country) => ({ 'x-edge-mfa-test-ip': ip, 'x-edge-mfa-test-country': country });
  // First verification from Germany: DE becomes known.
  assert.equal((await verifyTotp(tenant, user, user.t + 30, {}, from('203.0.113.5', 'DE'))).status, 200);
  let d = await assess(tenant, user.ticket, { headers: from('198.51.100.77', 'DE') });
  assert.deepEqual([d.action, d.reasons], ['allow', ['trusted_network']]);
  d = await assess(tenant, user.ticket, { headers: from('2001:db8::42', 'DE') });
  assert.deepEqual([d.action, d.reasons], ['allow', ['trusted_network']]);
  d = await assess(tenant, user.ticket, { headers: from('203.0.113.5', 'DE') });
  assert.deepEqual([d.action, d.reasons], ['challenge', ['new_device']]);
  d = await assess(tenant, user.ticket, { headers: from('198.51.100.77', 'FR') });
  assert.deepEqual([d.action, d.reasons], ['challenge', ['new_country', 'new_device']]);
  d = await assess(tenant, user.ticket, { headers: from('198.51.100.77', 'KP') });
  assert.deepEqual([d.action, d.reasons], ['deny', ['denied_country']]);
});

test('trusted device: remembered, honoured by body and cookie, refused after revoke, expiry and clear-all', async () => {
  const tenant = await createTenant({ remember_device: { enabled: true, days: 30 } });
  const user = await enrollTotp(tenant, 'dev');
  const v = await verifyTotp(tenant, user, user.t + 30, { remember_device: true }, { 'user-agent': 'Firefox on Linux' });
  assert.equal(v.status, 200, v.text);
  assert.equal(v.body.device_token, undefined, 'by default the token is in the HttpOnly cookie only');
  const token = cookieToken(v);
  assert.equal(Buffer.from(token, 'base64url').length, 32, '256-bit token');
  const cookie = v.headers.get('set-cookie');
  assert.match(cookie, new RegExp(`^edge_mfa_device_${tenant.id.replaceAll('-', '_')}=${token};`));
  for (const attr of ['HttpOnly', 'Secure', 'SameSite=None', 'Partitioned', `Path=/v1/${tenant.id}`, `Max-Age=${30 * DAY}`]) assert.ok(cookie.includes(attr), `${attr} in ${cookie}`);

  let d = await assess(tenant, user.ticket, { body: { device_token: token } });
  assert.deepEqual([d.action, d.reasons], ['allow', ['trusted_device']]);
  const claims = await verifyMfaToken(tenant, d.mfa_token);
  assert.equal(claims.mfa_method, 'trusted_device');
  const cookieName = cookie.split('=')[0];
  d = await assess(tenant, user.ticket, { headers: { cookie: `other=1; ${cookieName}=${token}` } });
  assert.equal(d.action, 'allow', 'the cookie works too');
  assert.equal((await assess(tenant, user.ticket, { body: { device_token: 'forged' } })).action, 'challenge');

  // A trusted-device token is not step-up.
  const stepUpWithDevice = await api('GET', `/v1/${tenant.id}/devices`, { token: user.ticket, headers: { 'x-mfa-token': d.mfa_token } });
  assertProblem(stepUpWithDevice, 403, 'step_up_required');

  // List and revoke need step-up.
  assertProblem(await api('GET', `/v1/${tenant.id}/devices`, { token: user.ticket }), 403, 'step_up_required');
  const fresh = await verifyTotp(tenant, user, user.t + 60);
  const stepUp = { 'x-mfa-token': fresh.body.mfa_token };
  const list = await api('GET', `/v1/${tenant.id}/devices`, { token: user.ticket, headers: stepUp });
  assert.equal(list.status, 200, list.text);
  assert.equal(list.body.devices.length, 1);
  assert.equal(list.body.devices[0].label, 'Firefox on Linux');
  assert.ok(!list.text.includes(token), 'the token is never shown again');
  const id = list.body.devices[0].id;
  assertProblem(await api('DELETE', `/v1/${tenant.id}/devices/${id}`, { token: user.ticket }), 403, 'step_up_required');
  assert.equal((await api('DELETE', `/v1/${tenant.id}/devices/${id}`, { token: user.ticket, headers: stepUp })).status, 204);
  assert.equal((await assess(tenant, user.ticket, { body: { device_token: token } })).action, 'challenge', 'revoked at once');

  // Admin clear-all.
  const again = await verifyTotp(tenant, user, user.t + 90, { remember_device: true });
  assert.equal((await assess(tenant, user.ticket, { body: { device_token: cookieToken(again) } })).action, 'allow');
  const status = await api('GET', `/v1/${tenant.id}/admin/users/dev`, { token: tenant.admin_key });
  assert.equal(status.body.trusted_devices.length, 1);
  assert.equal((await api('DELETE', `/v1/${tenant.id}/admin/users/dev/devices`, { token: tenant.admin_key })).status, 204);
  assert.equal((await assess(tenant, user.ticket, { body: { device_token: cookieToken(again) } })).action, 'challenge');

  // Expiry (clock injected; last, since the clock only moves forward).
  const third = await verifyTotp(tenant, user, user.t + 120, { remember_device: true });
  const expiresAt = user.t + 120 + 30 * DAY; // remembered at the verification's time
  d = await assessAt(tenant, 'dev', expiresAt - 1, { body: { device_token: cookieToken(third) } });
  assert.equal(d.action, 'allow', 'still valid in its last second');
  d = await assessAt(tenant, 'dev', expiresAt, { body: { device_token: cookieToken(third) } });
  assert.equal(d.action, 'challenge', 'refused from the second it expires');
});

test('assess tells the sign-in page what the policy offers: its methods, its default, remember-device', async () => {
  const tenant = await createTenant();
  const defaults = await assess(tenant, await ticketFor(tenant, 'offer'));
  assert.deepEqual(defaults.allowed_methods, ['totp', 'webauthn', 'backup_code']);
  assert.deepEqual(defaults.enrollable_methods, ['totp', 'webauthn'], 'backup codes come with the first factor');
  assert.equal(defaults.default_method, 'totp');
  assert.deepEqual(defaults.remember_device, { enabled: true, days: 30 });
  await putPolicy(tenant, { allowed_methods: ['webauthn'], default_method: 'webauthn', remember_device: { enabled: false, days: 7 } });
  const changed = await assess(tenant, await ticketFor(tenant, 'offer'));
  assert.deepEqual(changed.allowed_methods, ['webauthn']);
  assert.equal(changed.default_method, 'webauthn');
  assert.deepEqual(changed.remember_device, { enabled: false, days: 7 }, 'never token_in_body: that is the backend\'s business');
  assert.deepEqual(changed.enrollable_methods, ['webauthn']);

  // Codes need a webhook; email as a first factor is refused under email_fallback_only.
  await putPolicy(tenant, { allowed_methods: ['totp', 'email', 'sms', 'backup_code'], delivery: { email_fallback_only: true } });
  assert.deepEqual((await assess(tenant, await ticketFor(tenant, 'offer'))).enrollable_methods, ['totp'], 'no webhook: no codes');
  const hook = await api('PUT', `/v1/${tenant.id}/admin/webhook`, { token: tenant.admin_key, body: { url: 'https://hooks.example.com/edge-mfa' } });
  assert.equal(hook.status, 200, hook.text);
  assert.deepEqual((await assess(tenant, await ticketFor(tenant, 'offer'))).enrollable_methods, ['totp', 'sms'], 'email only beside another factor');
  const user = await enrollTotp(tenant, 'offered');
  assert.deepEqual((await assess(tenant, user.ticket)).enrollable_methods, ['totp', 'email', 'sms'], 'beside an app, email too');
});

test('remember_device disabled by policy: no token issued, existing tokens ignored', async () => {
  const tenant = await createTenant();
  const user = await enrollTotp(tenant, 'rd');
  const v = await verifyTotp(tenant, user, user.t + 30, { remember_device: true });
  const token = cookieToken(v);
  await putPolicy(tenant, { remember_device: { enabled: false, days: 30 } });
  assert.equal((await assess(tenant, user.ticket, { body: { device_token: token } })).action, 'challenge');
  const w = await verifyTotp(tenant, user, user.t + 60, { remember_device: true });
  assert.equal(w.status, 200);
  assert.equal(w.body.device_token, undefined);
  assert.equal(w.headers.get('set-cookie'), null);
});

test('remembered devices end with the policy and the factors: off then on, fewer days, factor deleted, codes regenerated', async () => {
  const tenant = await createTenant({ remember_device: { enabled: true, days: 30 } });
  const user = await enrollTotp(tenant, 'life');
  let t = user.t + 30;
  // A second factor (a passkey) to delete later.
  const first = await verifyTotp(tenant, user, t);
  const passkey = await enrollPasskey(tenant, user.ticket, first.body.mfa_token);
  const remember = async () => {
    t += 30;
    const v = await verifyTotp(tenant, user, t, { remember_device: true });
    assert.equal(v.status, 200, v.text);
    return { token: cookieToken(v), mfaToken: v.body.mfa_token };
  };
  const trusted = async (token, when = t) => (await assessAt(tenant, 'life', when, { body: { device_token: token } })).reasons.includes('trusted_device');
  const withStepUp = async (method, path, mfaToken) => api(method, `/v1/${tenant.id}${path}`, { token: await ticketFor(tenant, 'life', { now: t }), headers: { 'x-mfa-token': mfaToken, ...at(t) } });

  const putPolicyNow = async (policy) => {
    const r = await api('PUT', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key, body: policy, headers: at(t) });
    assert.equal(r.status, 200, r.text);
  };

  // Off, then on again (at the server's time t): the token does not come back to life.
  let { token, mfaToken } = await remember();
  assert.ok(await trusted(token));
  await putPolicyNow({ remember_device: { enabled: false, days: 30 } });
  await putPolicyNow({ remember_device: { enabled: true, days: 30 } });
  assert.equal(await trusted(token), false, 'disabling ended it');

  // Fewer days: valid only while created_at + the current days lies ahead.
  ({ token } = await remember());
  assert.ok(await trusted(token));
  await putPolicyNow({ remember_device: { enabled: true, days: 1 } });
  assert.ok(await trusted(token, t + DAY - 1));
  assert.equal(await trusted(token, t + DAY), false, 'ended a day after it was made');
  await putPolicyNow({ remember_device: { enabled: true, days: 30 } });

  // Regenerating backup codes ends devices.
  ({ token, mfaToken } = await remember());
  assert.ok(await trusted(token));
  assert.equal((await withStepUp('POST', '/backup-codes', mfaToken)).status, 201);
  assert.equal(await trusted(token), false, 'new backup codes ended it');

  // Deleting a factor ends devices.
  ({ token, mfaToken } = await remember());
  assert.ok(await trusted(token));
  assert.equal((await withStepUp('DELETE', `/factors/${passkey.id}`, mfaToken)).status, 204);
  assert.equal(await trusted(token), false, 'deleting a factor ended it');
});

test('the device token is in the body only where the tenant opts in', async () => {
  const tenant = await createTenant({ remember_device: { enabled: true, days: 30, token_in_body: true } });
  const user = await enrollTotp(tenant, 'opt');
  const v = await verifyTotp(tenant, user, user.t + 30, { remember_device: true });
  assert.equal(v.status, 200, v.text);
  assert.equal(v.body.device_token, cookieToken(v));
});

test('step-up: WebAuthn enrollment and code regeneration need a fresh mfa_token of the same user', async () => {
  const tenant = await createTenant();
  const user = await enrollTotp(tenant, 'su');
  const other = await enrollTotp(tenant, 'su2');
  assertProblem(await api('POST', `/v1/${tenant.id}/enroll`, { token: user.ticket, body: { type: 'webauthn' } }), 403, 'step_up_required');
  assertProblem(await api('POST', `/v1/${tenant.id}/backup-codes`, { token: user.ticket }), 403, 'step_up_required');
  const otherToken = (await verifyTotp(tenant, other, other.t + 30)).body.mfa_token;
  assertProblem(await api('POST', `/v1/${tenant.id}/enroll`, { token: user.ticket, body: { type: 'webauthn' }, headers: { 'x-mfa-token': otherToken } }), 403, 'step_up_required');
  const mine = (await verifyTotp(tenant, user, user.t + 30)).body.mfa_token;
  const enroll = await api('POST', `/v1/${tenant.id}/enroll`, { token: user.ticket, body: { type: 'webauthn' }, headers: { 'x-mfa-token': mine } });
  assert.equal(enroll.status, 201, enroll.text);
  // An mfa_token older than 600 s no longer counts (clock injected).
  const late = await api('POST', `/v1/${tenant.id}/backup-codes`, { token: await ticketFor(tenant, 'su', { now: now() + 601 }), headers: { 'x-mfa-token': mine, ...at(now() + 601) } });
  assertProblem(late, 403, 'step_up_required');
  assert.equal((await api('POST', `/v1/${tenant.id}/backup-codes`, { token: user.ticket, headers: { 'x-mfa-token': mine } })).status, 201);
});

test('bypass: allows, shows in the status, and stops when it ends', async () => {
  const tenant = await createTenant();
  const user = await enrollTotp(tenant, 'by');
  assertProblem(await api('POST', `/v1/${tenant.id}/admin/users/by/bypass`, { token: tenant.admin_key, body: { minutes: 0 } }), 400, 'invalid_request');
  assertProblem(await api('POST', `/v1/${tenant.id}/admin/users/by/bypass`, { token: tenant.admin_key, body: { minutes: 10081 } }), 400, 'invalid_request');
  const b = await api('POST', `/v1/${tenant.id}/admin/users/by/bypass`, { token: tenant.admin_key, body: { minutes: 5 } });
  assert.equal(b.status, 200, b.text);
  const until = b.body.bypass_until;
  assert.ok(Math.abs(until - (now() + 300)) < 30);
  let d = await assess(tenant, user.ticket);
  assert.deepEqual([d.action, d.reasons, d.enrollment.state], ['allow', ['bypass_active'], 'bypassed']);
  assert.equal((await verifyMfaToken(tenant, d.mfa_token)).mfa_method, 'bypass');
  const status = await api('GET', `/v1/${tenant.id}/admin/users/by`, { token: tenant.admin_key });
  assert.equal(status.body.bypass_until, until);
  assert.equal(status.body.enrollment.state, 'bypassed');
  d = await assessAt(tenant, 'by', until);
  assert.deepEqual([d.action, d.enrollment.state], ['challenge', 'enrolled']);
});

test('policy PUT: bad values are 400 and change nothing; good ones apply and keep user data', async () => {
  const tenant = await createTenant();
  const user = await enrollTotp(tenant, 'pp');
  const before = (await api('GET', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key })).body;
  for (const bad of [
    { mode: 'sometimes' },
    { grace_period_days: 366 },
    { backup_codes: { enabled: true, count: 3 } },
    { totp: { digits: 7 } },
    { mode: 'adaptive', adaptive: { trusted_networks: ['10.0.0.0/33'] } },
    { mode: 'adaptive', adaptive: { deny_countries: ['germany'] } },
    { allowed_methods: ['carrier_pigeon'] },
    { webauthn: { algorithms: [-35] } },
    { mdoe: 'off' },
    { remember_device: { enabled: true, days: 0 } },
    { lockout: { max_failures: 100, window_seconds: 60 } },
    { mode: 'required', adaptive: { deny_countries: ['KP'] } },
  ]) {
    const r = await api('PUT', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key, body: bad });
    assertProblem(r, 400, 'invalid_request');
  }
  assertProblem(await api('PUT', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key, raw: '{"mode":' }), 400, 'invalid_request');
  assert.deepEqual((await api('GET', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key })).body, before);
  const after = await putPolicy(tenant, { mode: 'optional', totp: { digits: 8, algorithm: 'SHA256', period: 60, skew: 2 } });
  assert.equal(after.mode, 'optional');
  // The factor enrolled under the old policy still verifies with its own parameters.
  assert.equal((await verifyTotp(tenant, user, user.t + 30)).status, 200);
  assert.equal((await api('GET', `/v1/${tenant.id}/factors`, { token: user.ticket })).body.backup_codes_remaining, 10);
});
