// The refusals every operation of a kind shares, answered on each of them (the
// status coverage of run.mjs counts them): no such tenant (404), a body over 64 KiB
// (413), no credentials (401), another site's origin on an end-user route (403),
// a user id that is not one (400); and a few that need their own set-up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, assertProblem, at, createTenant, documentedOperations, enrollTotp, now, OPERATOR_KEY, ticketFor, useReceiver } from './client.mjs';
import { startReceiver } from './receiver.mjs';

const concrete = (path, values) => path.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? 'x1');
const where = (what, e) => { e.message = `${what}: ${e.message}`; throw e; };

test('every tenant operation answers 404 for a tenant that does not exist', async () => {
  let n = 0;
  for (const { method, path } of (await documentedOperations()).filter((o) => o.path.startsWith('/v1/{tenant}/'))) {
    const res = await api(method, concrete(path, { tenant: 'no-such-tenant', user: 'u1' }), { token: 'whatever', body: method === 'GET' || method === 'DELETE' ? undefined : {} });
    try { assertProblem(res, 404, 'not_found'); } catch (e) { where(`${method} ${path}`, e); }
    n++;
  }
  assert.ok(n > 35, `${n}`);
});

test('every operation that takes a body answers 413 above 64 KiB', async () => {
  const tenant = await createTenant();
  const { ticket } = await enrollTotp(tenant, 'big');
  const raw = JSON.stringify({ pad: 'x'.repeat(65 * 1024) });
  for (const { method, path, op } of (await documentedOperations()).filter((o) => o.op.requestBody)) {
    const token = path.startsWith('/v1/tenants') ? OPERATOR_KEY : path.includes('/admin/') ? tenant.admin_key : ticket;
    const res = await api(method, concrete(path, { tenant: tenant.id, user: 'big' }), { token, raw, headers: { 'content-type': 'application/json' } });
    try { assertProblem(res, 413, 'payload_too_large'); } catch (e) { where(`${method} ${path}`, e); }
    assert.ok(op.responses['413'], `${method} ${path} answers 413 but does not document it`);
  }
});

test('every operation that needs credentials answers 401 without them', async () => {
  const tenant = await createTenant();
  for (const { method, path, op } of await documentedOperations()) {
    if (!op.responses['401']) continue;
    const res = await api(method, concrete(path, { tenant: tenant.id, user: 'u1' }), { body: method === 'GET' || method === 'DELETE' ? undefined : {} });
    try { assertProblem(res, 401, 'unauthorized'); } catch (e) { where(`${method} ${path}`, e); }
  }
});

test("every end-user operation answers 403 to another site's origin", async () => {
  const tenant = await createTenant();
  const ticket = await ticketFor(tenant, 'u1');
  for (const { method, path, op } of await documentedOperations()) {
    if (!path.startsWith('/v1/{tenant}/') || path.includes('/admin/') || path.endsWith('jwks.json')) continue;
    const res = await api(method, concrete(path, { tenant: tenant.id }), { token: ticket, headers: { origin: 'https://evil.example' }, body: method === 'GET' || method === 'DELETE' ? undefined : {} });
    try { assertProblem(res, 403, 'forbidden'); } catch (e) { where(`${method} ${path}`, e); }
    assert.ok(op.responses['403'], `${method} ${path} answers 403 but does not document it`);
  }
});

test('every admin operation on a user answers 400 for a user id that is not one', async () => {
  const tenant = await createTenant();
  for (const { method, path } of (await documentedOperations()).filter((o) => o.path.includes('/admin/users/{user}'))) {
    const res = await api(method, concrete(path, { tenant: tenant.id, user: '%01bad' }), { token: tenant.admin_key, body: method === 'GET' || method === 'DELETE' ? undefined : { required: true, minutes: 5 } });
    try { assertProblem(res, 400, 'invalid_request'); } catch (e) { where(`${method} ${path}`, e); }
  }
});

test('a resend of a challenge that sends no code is 400', async () => {
  const tenant = await createTenant();
  const { ticket, factor } = await enrollTotp(tenant, 'tia');
  const challenge = await api('POST', `/v1/${tenant.id}/challenge`, { token: ticket, body: { factor_id: factor.id } });
  assert.equal(challenge.status, 201, challenge.text);
  const resend = await api('POST', `/v1/${tenant.id}/challenge/${challenge.body.challenge_id}/resend`, { token: ticket });
  assertProblem(resend, 400, 'invalid_request');
});

test('backup codes need a factor first (409); a confirm locks out like a verify (429)', async () => {
  const tenant = await createTenant();
  const ticket = await ticketFor(tenant, 'una');
  assertProblem(await api('POST', `/v1/${tenant.id}/backup-codes`, { token: ticket }), 409, 'conflict');
  const enroll = await api('POST', `/v1/${tenant.id}/enroll`, { token: ticket, body: { type: 'totp' } });
  assert.equal(enroll.status, 201, enroll.text);
  const statuses = [];
  for (let i = 0; i < 7; i++) {
    const wrong = (await api('POST', `/v1/${tenant.id}/enroll/${enroll.body.enrollment_id}/confirm`, { token: ticket, body: { code: '000000' } }));
    statuses.push(wrong.status);
  }
  assert.equal(statuses.at(-1), 429, `${statuses}`);
});

test("a challenge or resend whose code the tenant's webhook does not take is 502", async () => {
  const receiver = await startReceiver();
  try {
    const tenant = await createTenant({ mode: 'required', allowed_methods: ['totp', 'webauthn', 'email', 'backup_code'] });
    await useReceiver(tenant, receiver);
    const t = now();
    const ticket = await ticketFor(tenant, 'val', { now: t });
    const enroll = await api('POST', `/v1/${tenant.id}/enroll`, { token: ticket, body: { type: 'email', to: 'val@example.com' }, headers: at(t) });
    assert.equal(enroll.status, 201, enroll.text);
    const sent = await receiver.waitFor((d) => d.payload?.data?.enrollment_id === enroll.body.enrollment_id);
    const confirmed = await api('POST', `/v1/${tenant.id}/enroll/${enroll.body.enrollment_id}/confirm`, { token: ticket, body: { code: sent.payload.data.code }, headers: at(t) });
    assert.equal(confirmed.status, 201, confirmed.text);
    const challenge = await api('POST', `/v1/${tenant.id}/challenge`, { token: ticket, body: { type: 'email' }, headers: at(t + 60) });
    assert.equal(challenge.status, 201, challenge.text);
    receiver.answer(() => ({ status: 500 }));
    assertProblem(await api('POST', `/v1/${tenant.id}/challenge/${challenge.body.challenge_id}/resend`, { token: ticket, headers: at(t + 200) }), 502, 'delivery_failed');
    assertProblem(await api('POST', `/v1/${tenant.id}/challenge`, { token: ticket, body: { type: 'email' }, headers: at(t + 260) }), 502, 'delivery_failed');
  } finally {
    await receiver.close();
  }
});
