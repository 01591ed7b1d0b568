// The lockout: parallel guesses cannot get more evaluations than the allowance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ORIGIN, OPERATOR_KEY, api, assertProblem, at, createTenant, enrollPasskey, enrollTotp, oathtool, verifyMfaToken, wrongCode } from './client.mjs';
import { SoftAuthenticator } from './soft_authenticator.mjs';

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
  const tenant = await createTenant({ lockout: { max_failures: 20, window_seconds: 3600 } });
  const { ticket, secret, t } = await enrollTotp(tenant, 'lou');
  const code = wrongCode(secret, t);
  const results = await Promise.all(
    Array.from({ length: 20 }, () => api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { type: 'totp', code } })),
  );
  assert.deepEqual(results.map((r) => r.status), Array(20).fill(422));
  const next = await api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { type: 'totp', code: oathtool(secret, t + 30) } });
  assertProblem(next, 429, 'rate_limited');
});

test('no lockout policy may allow more than 100 evaluated failures an hour', async () => {
  const tenant = await createTenant();
  const before = await api('GET', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key });
  for (const lockout of [{ max_failures: 100, window_seconds: 60 }, { max_failures: 26, window_seconds: 900 }, { max_failures: 2, window_seconds: 60 }]) {
    const r = await api('PUT', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key, body: { lockout } });
    assertProblem(r, 400, 'invalid_request');
    assert.match(r.body.detail, /failed attempts per hour; at most 100/);
  }
  assert.deepEqual((await api('GET', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key })).body, before.body);
  for (const lockout of [{ max_failures: 100, window_seconds: 3600 }, { max_failures: 25, window_seconds: 900 }]) {
    assert.equal((await api('PUT', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key, body: { lockout } })).status, 200);
  }
  const created = await api('POST', '/v1/tenants', {
    token: OPERATOR_KEY,
    body: { id: `${tenant.id}-x`, name: 'Loose', rp_id: 'localhost', origins: [ORIGIN], policy: { lockout: { max_failures: 100, window_seconds: 60 } } },
  });
  assertProblem(created, 400, 'invalid_request');
});

test('a type challenge for a user with two authenticator apps is 400', async () => {
  const tenant = await createTenant();
  const user = await enrollTotp(tenant, 'two');
  const v = await api('POST', `/v1/${tenant.id}/verify`, { token: user.ticket, body: { type: 'totp', code: oathtool(user.secret, user.t + 30) }, headers: at(user.t + 30) });
  assert.equal(v.status, 200, v.text);
  await enrollTotp(tenant, 'two', { stepUp: v.body.mfa_token });
  const r = await api('POST', `/v1/${tenant.id}/challenge`, { token: user.ticket, body: { type: 'totp' } });
  assertProblem(r, 400, 'invalid_request');
  const one = await api('POST', `/v1/${tenant.id}/challenge`, { token: user.ticket, body: { factor_id: user.factor.id } });
  assert.equal(one.status, 201, one.text);
});

test('codes as people type them: "123 456" and "123-456" verify; malformed codes are 400 and never lock', async () => {
  const tenant = await createTenant({ lockout: { max_failures: 3, window_seconds: 900 } });
  const user = await enrollTotp(tenant, 'typist');
  const verify = (code, t) => api('POST', `/v1/${tenant.id}/verify`, { token: user.ticket, body: { type: 'totp', code }, headers: at(t) });
  for (const malformed of ['12 34 5x', '12345', '1234567', 'abcdef', '12_34_56', '12 34 56 7']) {
    for (let i = 0; i < 2; i++) assertProblem(await verify(malformed, user.t + 30), 400, 'invalid_request');
  }
  let t = user.t;
  for (const layout of [(c) => `${c.slice(0, 3)} ${c.slice(3)}`, (c) => `${c.slice(0, 3)}-${c.slice(3)}`, (c) => c.replace(/(\d\d)/g, '$1 ').trim()]) {
    t += 30;
    const typed = layout(oathtool(user.secret, t));
    const r = await verify(typed, t);
    assert.equal(r.status, 200, `${JSON.stringify(typed)}: ${r.text}`);
  }
  const spaced = user.backupCodes[0].replaceAll('-', ' ').toUpperCase();
  assert.equal((await api('POST', `/v1/${tenant.id}/backup-codes/redeem`, { token: user.ticket, body: { code: spaced } })).status, 200);
  assertProblem(await api('POST', `/v1/${tenant.id}/backup-codes/redeem`, { token: user.ticket, body: { code: 'not a code' } }), 400, 'invalid_request');
});

test('five wrong TOTP codes lock the codes, not the passkey: a correct assertion succeeds', async () => {
  const tenant = await createTenant();
  const user = await enrollTotp(tenant, 'pk');
  const v = await api('POST', `/v1/${tenant.id}/verify`, { token: user.ticket, body: { type: 'totp', code: oathtool(user.secret, user.t + 30) }, headers: at(user.t + 30) });
  const passkey = await enrollPasskey(tenant, user.ticket, v.body.mfa_token);
  const wrong = wrongCode(user.secret, user.t);
  for (let i = 0; i < 5; i++) {
    assertProblem(await api('POST', `/v1/${tenant.id}/verify`, { token: user.ticket, body: { type: 'totp', code: wrong } }), 422, 'verification_failed');
  }
  assertProblem(await api('POST', `/v1/${tenant.id}/verify`, { token: user.ticket, body: { type: 'totp', code: wrong } }), 429, 'rate_limited');
  const challenge = await api('POST', `/v1/${tenant.id}/challenge`, { token: user.ticket, body: { type: 'webauthn' } });
  assert.equal(challenge.status, 201, challenge.text);
  const r = await api('POST', `/v1/${tenant.id}/verify`, {
    token: user.ticket,
    body: { challenge_id: challenge.body.challenge_id, credential: passkey.authenticator.assert(challenge.body.public_key) },
  });
  assert.equal(r.status, 200, r.text);
  assert.equal((await verifyMfaToken(tenant, r.body.mfa_token)).mfa_method, 'webauthn');
});

test('an unsupported attestation format is refused and does not count toward the lockout', async () => {
  const tenant = await createTenant({ lockout: { max_failures: 1, window_seconds: 900 }, webauthn: { user_verification: 'preferred', attestation: 'direct', algorithms: [-7] } });
  const user = await enrollTotp(tenant, 'fmt');
  const v = await api('POST', `/v1/${tenant.id}/verify`, { token: user.ticket, body: { type: 'totp', code: oathtool(user.secret, user.t + 30) }, headers: at(user.t + 30) });
  const enroll = await api('POST', `/v1/${tenant.id}/enroll`, { token: user.ticket, body: { type: 'webauthn' }, headers: { 'x-mfa-token': v.body.mfa_token } });
  assert.equal(enroll.status, 201, enroll.text);
  const credential = new SoftAuthenticator({ origin: ORIGIN }).register(enroll.body.public_key, { fmt: 'android-safetynet' });
  const r = await api('POST', `/v1/${tenant.id}/enroll/${enroll.body.enrollment_id}/confirm`, { token: user.ticket, body: { credential } });
  assertProblem(r, 422, 'verification_failed');
  assert.match(r.body.detail, /android-safetynet/);
  // With max_failures 1, a counted refusal would have locked the user now.
  const ok = await api('POST', `/v1/${tenant.id}/verify`, { token: user.ticket, body: { type: 'totp', code: oathtool(user.secret, user.t + 60) }, headers: at(user.t + 60) });
  assert.equal(ok.status, 200, ok.text);
});
