// Who may call what: tickets (wrong tenant, forged, expired, alg none, too long),
// admin and operator keys, step-up, CORS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { api, assertProblem, createTenant, enrollTotp, oathtool, OPERATOR_KEY, ORIGIN, now, ticketFor } from './client.mjs';

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');

test('tickets: another tenant, forged, expired, alg none, future iat, too long a life are refused', async () => {
  const a = await createTenant();
  const b = await createTenant();
  const path = `/v1/${b.id}/factors`;
  const expectUnauthorized = async (token, why) => {
    const r = await api('GET', path, { token });
    assertProblem(r, 401, 'unauthorized');
    assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/, why);
  };
  await expectUnauthorized(await ticketFor(a, 'u1'), 'tenant A ticket on tenant B');
  // The right claims for B, signed with A's secret.
  await expectUnauthorized(await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer(b.id).setSubject('u1')
    .setAudience('edge-mfa').setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(a.ticket_secret)), 'forged');
  await expectUnauthorized(await ticketFor(b, 'u1', { now: now() - 400, ttl: 300 }), 'expired');
  const claims = { iss: b.id, sub: 'u1', aud: 'edge-mfa', iat: now(), exp: now() + 300 };
  await expectUnauthorized(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`, 'alg none');
  await expectUnauthorized(`${b64({ alg: 'none' })}.${b64(claims)}`, 'alg none, two segments');
  await expectUnauthorized(await ticketFor(b, 'u1', { now: now() + 120 }), 'iat in the future');
  await expectUnauthorized(await ticketFor(b, 'u1', { ttl: 901 }), 'lifetime over 900 s');
  const wrongAud = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer(b.id).setSubject('u1')
    .setAudience('someone-else').setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(b.ticket_secret));
  await expectUnauthorized(wrongAud, 'wrong aud');
  const hs512 = await new SignJWT({}).setProtectedHeader({ alg: 'HS512' }).setIssuer(b.id).setSubject('u1')
    .setAudience('edge-mfa').setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(b.ticket_secret.repeat(2)));
  await expectUnauthorized(hs512, 'HS512');
  await expectUnauthorized(undefined, 'no ticket');
  const ok = await api('GET', path, { token: await ticketFor(b, 'u1') });
  assert.equal(ok.status, 200, ok.text);
});

test('operator and admin routes refuse the wrong key', async () => {
  const tenant = await createTenant();
  const other = await createTenant();
  const body = { id: 'x-never', name: 'X', rp_id: 'localhost', origins: ['http://localhost:1'] };
  assertProblem(await api('POST', '/v1/tenants', { body }), 401, 'unauthorized');
  assertProblem(await api('POST', '/v1/tenants', { token: `${OPERATOR_KEY}x`, body }), 401, 'unauthorized');
  assertProblem(await api('POST', '/v1/tenants', { token: tenant.admin_key, body }), 401, 'unauthorized');
  assertProblem(await api('POST', '/v1/tenants', { token: OPERATOR_KEY, body: { ...body, id: tenant.id } }), 409, 'conflict');
  for (const path of ['/admin/policy', '/admin/users/alice']) {
    assertProblem(await api('GET', `/v1/${tenant.id}${path}`), 401, 'unauthorized');
    assertProblem(await api('GET', `/v1/${tenant.id}${path}`, { token: other.admin_key }), 401, 'unauthorized');
    assertProblem(await api('GET', `/v1/${tenant.id}${path}`, { token: OPERATOR_KEY }), 401, 'unauthorized');
    assertProblem(await api('GET', `/v1/${tenant.id}${path}`, { token: await ticketFor(tenant, 'alice') }), 401, 'unauthorized');
    const ok = await api('GET', `/v1/${tenant.id}${path}`, { token: tenant.admin_key });
    assert.equal(ok.status, 200, ok.text);
  }
  assertProblem(await api('POST', `/v1/${tenant.id}/admin/users/alice/reset`, { token: other.admin_key }), 401, 'unauthorized');
});

test('step-up: a password-only ticket cannot add or delete factors; another user\'s token does not count', async () => {
  const tenant = await createTenant();
  const jane = await enrollTotp(tenant, 'jane');
  const mallory = await enrollTotp(tenant, 'mallory');
  const addTotp = (headers) => api('POST', `/v1/${tenant.id}/enroll`, { token: jane.ticket, body: { type: 'totp' }, headers });
  assertProblem(await addTotp({}), 403, 'step_up_required');
  assertProblem(await api('DELETE', `/v1/${tenant.id}/factors/${jane.factor.id}`, { token: jane.ticket }), 403, 'step_up_required');

  const malloryToken = (await api('POST', `/v1/${tenant.id}/verify`, { token: mallory.ticket, body: { type: 'totp', code: oathtool(mallory.secret, mallory.t + 30) } })).body.mfa_token;
  assertProblem(await addTotp({ 'x-mfa-token': malloryToken }), 403, 'step_up_required');
  assertProblem(await addTotp({ 'x-mfa-token': 'not-a-token' }), 403, 'step_up_required');

  const janeToken = (await api('POST', `/v1/${tenant.id}/verify`, { token: jane.ticket, body: { type: 'totp', code: oathtool(jane.secret, jane.t + 30) } })).body.mfa_token;
  const added = await addTotp({ 'x-mfa-token': janeToken });
  assert.equal(added.status, 201, added.text);
  const deleted = await api('DELETE', `/v1/${tenant.id}/factors/${jane.factor.id}`, { token: jane.ticket, headers: { 'x-mfa-token': janeToken } });
  assert.equal(deleted.status, 204, deleted.text);
  const factors = await api('GET', `/v1/${tenant.id}/factors`, { token: jane.ticket });
  assert.equal(factors.body.factors.length, 0, 'the pending second enrollment is not a factor');
});

test('admin reset removes every factor and code', async () => {
  const tenant = await createTenant();
  const kim = await enrollTotp(tenant, 'kim@example.test');
  const path = `/v1/${tenant.id}/admin/users/${encodeURIComponent('kim@example.test')}`;
  let status = await api('GET', path, { token: tenant.admin_key });
  assert.equal(status.body.enrollment.state, 'enrolled');
  assert.equal(status.body.backup_codes_remaining, 10);
  const reset = await api('POST', `${path}/reset`, { token: tenant.admin_key });
  assert.equal(reset.status, 204, reset.text);
  status = await api('GET', path, { token: tenant.admin_key });
  assert.equal(status.body.enrollment.state, 'not_enrolled');
  assert.equal(status.body.factors.length, 0);
  const redeem = await api('POST', `/v1/${tenant.id}/backup-codes/redeem`, { token: kim.ticket, body: { code: kim.backupCodes[0] } });
  assertProblem(redeem, 422, 'verification_failed');
});

test('CORS: preflight and responses for the tenant\'s origin only', async () => {
  const tenant = await createTenant();
  const pre = await api('OPTIONS', `/v1/${tenant.id}/verify`, {
    headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), ORIGIN);
  assert.equal(pre.headers.get('access-control-allow-credentials'), 'true');
  assert.match(pre.headers.get('access-control-allow-methods'), /POST/);
  assert.match(pre.headers.get('access-control-allow-headers'), /authorization/);
  assert.match(pre.headers.get('access-control-allow-headers'), /x-mfa-token/);

  const evil = await api('OPTIONS', `/v1/${tenant.id}/verify`, { headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
  assertProblem(evil, 403, 'forbidden');
  assert.equal(evil.headers.get('access-control-allow-origin'), null);

  const get = await api('GET', `/v1/${tenant.id}/factors`, { token: await ticketFor(tenant, 'u'), headers: { origin: ORIGIN } });
  assert.equal(get.status, 200);
  assert.equal(get.headers.get('access-control-allow-origin'), ORIGIN);
  const error = await api('GET', `/v1/${tenant.id}/factors`, { headers: { origin: ORIGIN } });
  assert.equal(error.status, 401);
  assert.equal(error.headers.get('access-control-allow-origin'), ORIGIN, 'the SPA can read the problem');
});
