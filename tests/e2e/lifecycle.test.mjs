// The tenant's and the user's lifecycle (API.md "Admin additions"): policy PATCH,
// policies that cannot work, the tenant's identity, the operator's list and
// deletion, erasing a user, ending a bypass, the locked assess, and the proof that
// ends a first enrollment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ORIGIN, OPERATOR_KEY, api, assertProblem, at, createTenant, enrollPasskey, enrollTotp, now, oathtool,
  ticketFor, uniqueId, verifyMfaToken, wrongCode,
} from './client.mjs';

const etag = (res) => Number(JSON.parse(res.headers.get('etag')));
const policyOf = (tenant) => api('GET', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key });
const patch = (tenant, body, contentType = 'application/merge-patch+json') => api('PATCH', `/v1/${tenant.id}/admin/policy`, {
  token: tenant.admin_key, raw: JSON.stringify(body), headers: { 'content-type': contentType },
});

test('PATCH /admin/policy changes only what it sends; null resets a field; PUT replaces', async () => {
  const tenant = await createTenant({ grace_period_days: 14, remember_device: { enabled: true, days: 7 }, groups: { exempt: ['kiosk'] } });
  // The README's examples, one after another, no longer undo each other.
  let r = await patch(tenant, { mode: 'optional' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.mode, 'optional');
  assert.equal(r.body.grace_period_days, 14);
  assert.deepEqual(r.body.remember_device, { enabled: true, days: 7, token_in_body: false });
  assert.deepEqual(r.body.groups.exempt, ['kiosk']);
  r = await patch(tenant, { mode: 'adaptive', adaptive: { deny_countries: ['XX'] } }, 'application/json');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.mode, 'adaptive', 'an adaptive PATCH keeps the mode it sets');
  assert.deepEqual(r.body.adaptive.deny_countries, ['XX']);
  assert.equal(r.body.adaptive.challenge_new_device, true, 'nested defaults stay');
  assert.equal(r.body.grace_period_days, 14);
  // null puts a field back to its default (grace 0), nested too.
  r = await patch(tenant, { grace_period_days: null, adaptive: { deny_countries: null } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.grace_period_days, 0);
  assert.deepEqual(r.body.adaptive.deny_countries, []);
  assert.deepEqual(r.body.groups.exempt, ['kiosk']);
  const stored = await policyOf(tenant);
  assert.deepEqual(stored.body, r.body, 'what PATCH answers is what is stored');
  assert.equal(etag(stored), etag(r));

  // A result that is invalid changes nothing: not the body, not the version.
  for (const [body, message] of [
    [{ mode: 'sometimes' }, /mode/],
    [{ totp: { digits: 7 } }, /digits/],
    [{ mdoe: 'off' }, /mdoe/],
    [{ mode: 'required', adaptive: { challenge_new_device: false } }, /adaptive settings apply only in mode adaptive/],
    [{ lockout: { max_failures: 100, window_seconds: 60 } }, /at most 100/],
  ]) {
    const refused = await patch(tenant, body);
    assertProblem(refused, 400, 'invalid_request');
    assert.match(refused.body.detail, message);
  }
  for (const raw of ['[1]', '"off"', 'null', '{"mode":']) {
    const refused = await api('PATCH', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key, raw, headers: { 'content-type': 'application/merge-patch+json' } });
    assertProblem(refused, 400, 'invalid_request');
  }
  const after = await policyOf(tenant);
  assert.deepEqual(after.body, stored.body);
  assert.equal(etag(after), etag(stored));

  // Leaving adaptive mode resets its settings in the same PATCH (README).
  const leave = await patch(tenant, { mode: 'required', adaptive: null });
  assert.equal(leave.status, 200, leave.text);
  assert.equal(leave.body.mode, 'required');
  assert.deepEqual(leave.body.groups.exempt, ['kiosk']);

  // PUT is still the documented full replace.
  const put = await api('PUT', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key, body: { mode: 'optional' } });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.body.grace_period_days, 0);
  assert.deepEqual(put.body.groups.exempt, []);
  assert.equal(put.body.remember_device.days, 30);
});

test('a policy that cannot work here is refused, on create, PUT and PATCH', async () => {
  const tenant = await createTenant();
  const unusable = [
    [{ allowed_methods: ['sms'], default_method: 'sms' }, /allowed_methods must include a method users can enroll/],
    [{ allowed_methods: ['backup_code'], default_method: 'backup_code' }, /allowed_methods must include/],
    [{ mode: 'adaptive', adaptive: { trusted_networks: ['0.0.0.0/0'] } }, /large part of the Internet/],
    [{ mode: 'adaptive', adaptive: { trusted_networks: ['::/0'] } }, /large part of the Internet/],
    [{ mode: 'adaptive', adaptive: { trusted_networks: ['198.51.100.0/24', '128.0.0.0/1'] } }, /large part of the Internet/],
  ];
  const before = await policyOf(tenant);
  for (const [policy, message] of unusable) {
    for (const res of [
      await api('PUT', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key, body: policy }),
      await patch(tenant, policy),
      await api('POST', '/v1/tenants', { token: OPERATOR_KEY, body: { id: uniqueId('t'), name: 'x', rp_id: 'localhost', origins: [ORIGIN], policy } }),
    ]) {
      assertProblem(res, 400, 'invalid_request');
      assert.match(res.body.detail, message, JSON.stringify(policy));
    }
  }
  const after = await policyOf(tenant);
  assert.deepEqual(after.body, before.body);
  assert.equal(etag(after), etag(before));
  // What remains usable is accepted.
  const ok = await patch(tenant, { allowed_methods: ['webauthn', 'sms', 'backup_code'], default_method: 'webauthn' });
  assert.equal(ok.status, 200, ok.text);
});

test('the tenant: GET shows no secret; PATCH changes name and origins within rp_id', async () => {
  const tenant = await createTenant();
  const view = await api('GET', `/v1/${tenant.id}/admin/tenant`, { token: tenant.admin_key });
  assert.equal(view.status, 200, view.text);
  assert.equal(view.body.id, tenant.id);
  assert.equal(view.body.rp_id, 'localhost');
  assert.deepEqual(view.body.origins, [ORIGIN]);
  assert.equal(view.body.signing_keys.length, 1);
  for (const secret of [tenant.admin_key, tenant.ticket_secret]) assert.ok(!view.text.includes(secret));
  assert.ok(!/sealed|sha256|pepper|v2\./.test(view.text), view.text);

  const other = 'http://app.localhost:3000';
  const r = await api('PATCH', `/v1/${tenant.id}/admin/tenant`, { token: tenant.admin_key, body: { name: ' Renamed ', origins: [ORIGIN, other] } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.name, 'Renamed');
  assert.deepEqual(r.body.origins, [ORIGIN, other]);
  assert.equal(r.body.version, view.body.version + 1);
  // The new origin is served at once (CORS), the tenant's requests unchanged.
  const ticket = await ticketFor(tenant, 'cors');
  const cors = await api('POST', `/v1/${tenant.id}/assess`, { token: ticket, headers: { origin: other } });
  assert.equal(cors.status, 200, cors.text);
  assert.equal(cors.headers.get('access-control-allow-origin'), other);

  for (const body of [
    { origins: ['https://evil.example'] },
    { origins: [] },
    { name: '' },
    { rp_id: 'Not A Domain' },
    { colour: 'blue' },
  ]) {
    const refused = await api('PATCH', `/v1/${tenant.id}/admin/tenant`, { token: tenant.admin_key, body });
    assertProblem(refused, 400, 'invalid_request');
  }
  const ticketAuth = await api('GET', `/v1/${tenant.id}/admin/tenant`, { token: ticket });
  assertProblem(ticketAuth, 401, 'unauthorized');
});

test('changing rp_id under WebAuthn credentials needs confirm_rp_id_change, and strands them', async () => {
  const tenant = await createTenant();
  const ticket = await ticketFor(tenant, 'keyholder');
  const key = await enrollPasskey(tenant, ticket);
  const move = { rp_id: 'app.localhost', origins: ['http://app.localhost:5173'] };
  const refused = await api('PATCH', `/v1/${tenant.id}/admin/tenant`, { token: tenant.admin_key, body: move });
  assertProblem(refused, 409, 'conflict');
  assert.match(refused.body.detail, /1 users have WebAuthn credentials/);
  const unchanged = await api('GET', `/v1/${tenant.id}/admin/tenant`, { token: tenant.admin_key });
  assert.equal(unchanged.body.rp_id, 'localhost');

  const moved = await api('PATCH', `/v1/${tenant.id}/admin/tenant`, { token: tenant.admin_key, body: { ...move, confirm_rp_id_change: true } });
  assert.equal(moved.status, 200, moved.text);
  assert.equal(moved.body.rp_id, 'app.localhost');
  // The credential was bound to the old rp_id: its assertion no longer verifies.
  const challenge = await api('POST', `/v1/${tenant.id}/challenge`, { token: ticket, body: { factor_id: key.id } });
  assert.equal(challenge.status, 201, challenge.text);
  assert.equal(challenge.body.public_key.rpId, 'app.localhost');
  key.authenticator.origin = 'http://app.localhost:5173';
  const assertion = key.authenticator.assert(challenge.body.public_key);
  const verify = await api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { challenge_id: challenge.body.challenge_id, credential: assertion } });
  assertProblem(verify, 422, 'verification_failed');
});

test('the operator lists tenants page by page and deletes one with all its users', async () => {
  const mine = [await createTenant(), await createTenant(), await createTenant()];
  const seen = new Map();
  let cursor;
  for (let page = 0; page < 1000; page++) {
    const q = new URLSearchParams({ limit: '2', ...(cursor ? { cursor } : {}) });
    const r = await api('GET', `/v1/tenants?${q}`, { token: OPERATOR_KEY });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.tenants.length <= 2);
    for (const t of r.body.tenants) {
      assert.deepEqual(Object.keys(t).sort(), ['created_at', 'id', 'name']);
      assert.ok(!seen.has(t.id), `${t.id} listed twice`);
      seen.set(t.id, t);
    }
    cursor = r.body.next;
    if (!cursor) break;
  }
  for (const t of mine) assert.equal(seen.get(t.id)?.name, `Tenant ${t.id}`);
  assertProblem(await api('GET', '/v1/tenants', { token: mine[0].admin_key }), 401, 'unauthorized');
  assertProblem(await api('GET', '/v1/tenants?limit=0', { token: OPERATOR_KEY }), 400, 'invalid_request');

  // A tenant with a user who has a factor.
  const doomed = mine[1];
  const user = await enrollTotp(doomed, 'leaving');
  assertProblem(await api('DELETE', `/v1/tenants/${doomed.id}`, { token: doomed.admin_key }), 401, 'unauthorized');
  const del = await api('DELETE', `/v1/tenants/${doomed.id}`, { token: OPERATOR_KEY });
  assert.equal(del.status, 204, del.text);
  assertProblem(await api('GET', `/v1/${doomed.id}/jwks.json`), 404, 'not_found');
  assertProblem(await api('POST', `/v1/${doomed.id}/assess`, { token: user.ticket }), 404, 'not_found');
  assertProblem(await api('GET', `/v1/${doomed.id}/admin/policy`, { token: doomed.admin_key }), 404, 'not_found');
  assertProblem(await api('DELETE', `/v1/tenants/${doomed.id}`, { token: OPERATOR_KEY }), 404, 'not_found');
  const listed = await api('GET', `/v1/tenants?cursor=${mine[0].id < doomed.id ? mine[0].id : ''}`, { token: OPERATOR_KEY });
  assert.ok(!listed.body.tenants.some((t) => t.id === doomed.id));

  // The id is free again, and nothing of the old tenant's users reaches the new one.
  const again = await api('POST', '/v1/tenants', { token: OPERATOR_KEY, body: { id: doomed.id, name: 'Again', rp_id: 'localhost', origins: [ORIGIN] } });
  assert.equal(again.status, 201, again.text);
  const reborn = again.body;
  const status = await api('GET', `/v1/${reborn.id}/admin/users/leaving`, { token: reborn.admin_key });
  assert.equal(status.status, 200, status.text);
  assert.deepEqual(status.body.factors, []);
  assert.equal(status.body.seen, false);
  const assess = await api('POST', `/v1/${reborn.id}/assess`, { token: await ticketFor(reborn, 'leaving') });
  assert.equal(assess.body.action, 'enroll', assess.text);
  // The old tenant's admin key and tickets are nothing to the new one.
  assertProblem(await api('GET', `/v1/${reborn.id}/admin/policy`, { token: doomed.admin_key }), 401, 'unauthorized');
  assertProblem(await api('POST', `/v1/${reborn.id}/assess`, { token: user.ticket }), 401, 'unauthorized');
  assertProblem(await api('POST', '/v1/tenants', { token: OPERATOR_KEY, body: { id: 'tenants', name: 'x', rp_id: 'localhost', origins: [ORIGIN] } }), 400, 'invalid_request');
});

test('erasing a user forgets the record; the admin status says when a user was never seen', async () => {
  const tenant = await createTenant();
  const never = await api('GET', `/v1/${tenant.id}/admin/users/nobody`, { token: tenant.admin_key });
  assert.equal(never.status, 200, never.text);
  assert.equal(never.body.seen, false);
  assert.equal(never.body.first_seen, null);

  const user = await enrollTotp(tenant, 'erasable');
  const before = await api('GET', `/v1/${tenant.id}/admin/users/erasable`, { token: tenant.admin_key });
  assert.equal(before.body.seen, true);
  assert.equal(before.body.factors.length, 1);
  const erase = await api('DELETE', `/v1/${tenant.id}/admin/users/erasable`, { token: tenant.admin_key });
  assert.equal(erase.status, 204, erase.text);
  const after = await api('GET', `/v1/${tenant.id}/admin/users/erasable`, { token: tenant.admin_key });
  assert.deepEqual(after.body.factors, []);
  assert.equal(after.body.backup_codes_remaining, 0);
  assert.equal(after.body.seen, false);
  // The old code and backup codes are gone with the record.
  const code = await api('POST', `/v1/${tenant.id}/verify`, { token: user.ticket, body: { type: 'totp', code: oathtool(user.secret, user.t + 30) }, headers: at(user.t + 30) });
  assert.ok([400, 404, 422].includes(code.status), code.text);
  const redeem = await api('POST', `/v1/${tenant.id}/backup-codes/redeem`, { token: user.ticket, body: { code: user.backupCodes[0] } });
  assert.ok([404, 422].includes(redeem.status), redeem.text);
  assert.equal((await api('POST', `/v1/${tenant.id}/assess`, { token: user.ticket })).body.action, 'enroll');
  assert.equal((await api('DELETE', `/v1/${tenant.id}/admin/users/erasable`, { token: tenant.admin_key })).status, 204, 'erasing again is harmless');
});

test('an admin ends a bypass early', async () => {
  const tenant = await createTenant();
  const user = await enrollTotp(tenant, 'bypassed');
  const bypass = await api('POST', `/v1/${tenant.id}/admin/users/bypassed/bypass`, { token: tenant.admin_key, body: { minutes: 60 } });
  assert.equal(bypass.status, 200, bypass.text);
  assert.equal((await api('POST', `/v1/${tenant.id}/assess`, { token: user.ticket })).body.action, 'allow');
  const end = await api('DELETE', `/v1/${tenant.id}/admin/users/bypassed/bypass`, { token: tenant.admin_key });
  assert.equal(end.status, 204, end.text);
  const assess = await api('POST', `/v1/${tenant.id}/assess`, { token: user.ticket });
  assert.equal(assess.body.action, 'challenge', assess.text);
  const status = await api('GET', `/v1/${tenant.id}/admin/users/bypassed`, { token: tenant.admin_key });
  assert.equal(status.body.bypass_until, undefined);
  assert.equal(status.body.enrollment.state, 'enrolled');
});

test('assess of a locked user says locked and when codes work again', async () => {
  const tenant = await createTenant({ lockout: { max_failures: 3, window_seconds: 600 } });
  const user = await enrollTotp(tenant, 'locked');
  const t = user.t + 60;
  for (let i = 0; i < 3; i++) {
    const r = await api('POST', `/v1/${tenant.id}/verify`, { token: user.ticket, body: { type: 'totp', code: wrongCode(user.secret, t) }, headers: at(t) });
    assertProblem(r, 422, 'verification_failed');
  }
  const assess = await api('POST', `/v1/${tenant.id}/assess`, { token: user.ticket, headers: at(t + 10) });
  assert.equal(assess.body.action, 'challenge', assess.text);
  assert.ok(assess.body.reasons.includes('locked'), assess.text);
  assert.ok(assess.body.retry_after > 0 && assess.body.retry_after <= 600, assess.text);
  const verify = await api('POST', `/v1/${tenant.id}/verify`, { token: user.ticket, body: { type: 'totp', code: oathtool(user.secret, t + 10) }, headers: at(t + 10) });
  assertProblem(verify, 429, 'rate_limited');
  // An admin unlocks at once.
  const other = await enrollTotp(tenant, 'unlockable');
  for (let i = 0; i < 3; i++) {
    await api('POST', `/v1/${tenant.id}/verify`, { token: other.ticket, body: { type: 'totp', code: wrongCode(other.secret, t) }, headers: at(t) });
  }
  assert.ok((await api('POST', `/v1/${tenant.id}/assess`, { token: other.ticket, headers: at(t) })).body.reasons.includes('locked'));
  const unlock = await api('POST', `/v1/${tenant.id}/admin/users/unlockable/unlock`, { token: tenant.admin_key });
  assert.equal(unlock.status, 204, unlock.text);
  const unlocked = await api('POST', `/v1/${tenant.id}/assess`, { token: other.ticket, headers: at(t) });
  assert.ok(!unlocked.body.reasons.includes('locked'), unlocked.text);
  const code = await api('POST', `/v1/${tenant.id}/verify`, { token: other.ticket, body: { type: 'totp', code: oathtool(other.secret, t) }, headers: at(t) });
  assert.equal(code.status, 200, code.text);

  // Once the window has passed, no longer locked.
  const then = t + 10 + assess.body.retry_after;
  const later = await api('POST', `/v1/${tenant.id}/assess`, { token: await ticketFor(tenant, 'locked', { now: then }), headers: at(then) });
  assert.ok(!later.body.reasons.includes('locked'), later.text);
  assert.equal(later.body.retry_after, undefined);
});

test('confirming the first factor ends with an mfa_token; later factors do not', async () => {
  const tenant = await createTenant();
  const ticket = await ticketFor(tenant, 'first');
  const enroll = await api('POST', `/v1/${tenant.id}/enroll`, { token: ticket, body: { type: 'totp' } });
  const t = now();
  const confirm = await api('POST', `/v1/${tenant.id}/enroll/${enroll.body.enrollment_id}/confirm`, { token: ticket, body: { code: oathtool(enroll.body.secret, t) } });
  assert.equal(confirm.status, 201, confirm.text);
  assert.equal(confirm.body.expires_in, 300);
  assert.equal(confirm.body.backup_codes.length, 10);
  const claims = await verifyMfaToken(tenant, confirm.body.mfa_token);
  assert.equal(claims.sub, 'first');
  assert.equal(claims.mfa_method, 'totp');
  assert.deepEqual(claims.amr, ['otp']);
  assert.equal(claims.acr, 'mfa');
  // It is step-up at once: a second factor needs no extra verify.
  const key = await enrollPasskey(tenant, ticket, confirm.body.mfa_token);
  assert.equal(key.type, 'webauthn');
  const status = await api('GET', `/v1/${tenant.id}/admin/users/first`, { token: tenant.admin_key });
  assert.ok(status.body.last_mfa_at >= t - 5, status.text);

  // A passkey as the first factor: its amr says hardware or synced key.
  const other = await ticketFor(tenant, 'passkey-first');
  const enrollKey = await api('POST', `/v1/${tenant.id}/enroll`, { token: other, body: { type: 'webauthn' } });
  const { SoftAuthenticator } = await import('./soft_authenticator.mjs');
  const authenticator = new SoftAuthenticator({ origin: ORIGIN });
  const confirmKey = await api('POST', `/v1/${tenant.id}/enroll/${enrollKey.body.enrollment_id}/confirm`, {
    token: other, body: { credential: authenticator.register(enrollKey.body.public_key) },
  });
  assert.equal(confirmKey.status, 201, confirmKey.text);
  const keyClaims = await verifyMfaToken(tenant, confirmKey.body.mfa_token);
  assert.equal(keyClaims.mfa_method, 'webauthn');
  assert.ok(['hwk', 'swk'].includes(keyClaims.amr[0]), JSON.stringify(keyClaims.amr));
});

test('verify with the code confirm already took is refused as used, and never locks the user', async () => {
  const tenant = await createTenant({ lockout: { max_failures: 3, window_seconds: 600 } });
  const user = await enrollTotp(tenant, 'eager');
  for (let i = 0; i < 6; i++) {
    const again = await api('POST', `/v1/${tenant.id}/verify`, { token: user.ticket, body: { type: 'totp', code: oathtool(user.secret, user.t) }, headers: at(user.t) });
    assertProblem(again, 422, 'verification_failed');
    assert.match(again.body.detail, /already used.*mfa_token confirm answered/);
  }
  const status = await api('GET', `/v1/${tenant.id}/admin/users/eager`, { token: tenant.admin_key });
  assert.equal(status.body.locked_until, undefined, 'replays are no guesses');
  const next = await api('POST', `/v1/${tenant.id}/verify`, { token: user.ticket, body: { type: 'totp', code: oathtool(user.secret, user.t + 30) }, headers: at(user.t + 30) });
  assert.equal(next.status, 200, next.text);
});

test('HEAD answers as GET without a body: /health, the JWKS', async () => {
  const tenant = await createTenant();
  for (const path of ['/health', `/v1/${tenant.id}/jwks.json`, '/openapi.json']) {
    const head = await api('HEAD', path);
    assert.equal(head.status, 200, `${path}: ${head.status}`);
    assert.equal(head.text, '');
  }
  assertProblem(await api('POST', '/health'), 405, 'method_not_allowed');
});
