// The users list by MFA status (API.md "Admin additions"), the per-user requirement,
// unlock and help requests, against the real runtime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseCsv } from 'csv-parse/sync';
import {
  api, assertProblem, at, createTenant, enrollTotp, now, oathtool, ticketFor, wrongCode,
} from './client.mjs';

/// Every user of the list with `params` (following `next`); checks no user twice.
async function listUsers(tenant, params = {}, limit = 500) {
  const users = [];
  let cursor;
  for (let page = 0; page < 100; page++) {
    const query = new URLSearchParams({ limit: String(limit), ...params, ...(cursor ? { cursor } : {}) });
    const res = await api('GET', `/v1/${tenant.id}/admin/users?${query}`, { token: tenant.admin_key });
    assert.equal(res.status, 200, res.text);
    users.push(...res.body.users);
    if (!res.body.next) break;
    cursor = res.body.next;
  }
  const names = users.map((u) => u.user);
  assert.equal(new Set(names).size, names.length, `a user listed twice: ${names}`);
  return users;
}

const names = (users) => users.map((u) => u.user).sort();

async function assess(tenant, sub, headers = {}) {
  // A ticket of the (possibly hooked) clock's time.
  const t = headers['x-edge-mfa-test-now'] ? Number(headers['x-edge-mfa-test-now']) : undefined;
  const ticket = await ticketFor(tenant, sub, t ? { now: t } : {});
  const r = await api('POST', `/v1/${tenant.id}/assess`, { token: ticket, body: {}, headers });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

async function lock(tenant, user) {
  for (let i = 0; i < 10; i++) {
    const r = await api('POST', `/v1/${tenant.id}/verify`, { token: user.ticket, body: { type: 'totp', code: wrongCode(user.secret, user.t) } });
    if (r.status === 429) return;
  }
  assert.fail('the user never got locked');
}

test('one user in each state: each filter returns exactly them; the cursor visits each once; CSV parses', async () => {
  // No grace period: a user without a factor is not_enrolled, unless an admin's
  // requirement gives them an enrollment period of their own.
  const tenant = await createTenant({ mode: 'required', grace_period_days: 0, lockout: { max_failures: 3, window_seconds: 600 } });
  const admin = { token: tenant.admin_key };
  await enrollTotp(tenant, 'enrolled-user');
  const locked = await enrollTotp(tenant, 'locked-user');
  await lock(tenant, locked);
  await assess(tenant, 'not-enrolled-user');
  await assess(tenant, 'grace-user');
  const graced = await api('PUT', `/v1/${tenant.id}/admin/users/grace-user/requirement`, { ...admin, body: { required: true, enrollment_days: 5 } });
  assert.equal(graced.status, 200, graced.text);
  await assess(tenant, 'expired-user');
  const past = now() - 10 * 86400;
  const expired = await api('PUT', `/v1/${tenant.id}/admin/users/expired-user/requirement`, { ...admin, body: { required: true, enrollment_days: 7 }, headers: at(past) });
  assert.equal(expired.status, 200, expired.text);
  await assess(tenant, 'bypassed-user');
  assert.equal((await api('POST', `/v1/${tenant.id}/admin/users/bypassed-user/bypass`, { ...admin, body: { minutes: 60 } })).status, 200);

  const all = await listUsers(tenant);
  assert.deepEqual(names(all), ['bypassed-user', 'enrolled-user', 'expired-user', 'grace-user', 'locked-user', 'not-enrolled-user']);
  const expect = {
    enrolled: ['enrolled-user', 'locked-user'],
    not_enrolled: ['not-enrolled-user'],
    grace: ['grace-user'],
    expired: ['expired-user'],
    bypassed: ['bypassed-user'],
    locked: ['locked-user'],
  };
  for (const [state, users] of Object.entries(expect)) {
    assert.deepEqual(names(await listUsers(tenant, { state })), users, `state=${state}`);
  }
  assert.deepEqual(names(await listUsers(tenant, { method: 'totp' })), ['enrolled-user', 'locked-user']);
  assert.deepEqual(names(await listUsers(tenant, { method: 'backup_code' })), ['enrolled-user', 'locked-user']);
  assert.deepEqual(names(await listUsers(tenant, { method: 'webauthn' })), []);
  assert.deepEqual(names(await listUsers(tenant, { q: 'EXPIRED' })), ['expired-user']);
  // Pages of one and of two visit every user once, in order.
  for (const limit of [1, 2]) assert.deepEqual((await listUsers(tenant, {}, limit)).map((u) => u.user), all.map((u) => u.user));

  const byName = Object.fromEntries(all.map((u) => [u.user, u]));
  assert.deepEqual(byName['enrolled-user'].methods, ['totp', 'backup_code']);
  assert.equal(byName['enrolled-user'].enrollment.state, 'enrolled');
  assert.ok(byName['enrolled-user'].last_mfa_at > now() - 600);
  assert.ok(byName['locked-user'].locked_until > now());
  assert.ok(byName['bypassed-user'].bypass_until > now());
  assert.equal(byName['grace-user'].enrollment.deadline, byName['grace-user'].requirement.deadline);
  assert.equal(byName['expired-user'].enrollment.deadline, past + 7 * 86400);
  for (const u of all) assert.ok(u.first_seen > 0, `${u.user} first_seen`);

  // CSV, parsed by an independent CSV parser.
  const csv = await api('GET', `/v1/${tenant.id}/admin/users?format=csv`, admin);
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-type'), /^text\/csv/);
  const rows = parseCsv(csv.text, { columns: true });
  assert.deepEqual(rows.map((r) => r.user).sort(), names(all));
  const row = rows.find((r) => r.user === 'locked-user');
  assert.equal(row.state, 'enrolled');
  assert.equal(row.methods, 'totp backup_code');
  assert.equal(Number(row.locked_until), byName['locked-user'].locked_until);
  const lockedCsv = parseCsv((await api('GET', `/v1/${tenant.id}/admin/users?format=csv&state=locked`, admin)).text, { columns: true });
  assert.deepEqual(lockedCsv.map((r) => r.user), ['locked-user']);

  // Unlock: 204, the lockout is gone from the status and the list.
  assert.equal((await api('POST', `/v1/${tenant.id}/admin/users/locked-user/unlock`, admin)).status, 204);
  const status = await api('GET', `/v1/${tenant.id}/admin/users/locked-user`, admin);
  assert.equal(status.body.locked_until, undefined);
  assert.deepEqual(names(await listUsers(tenant, { state: 'locked' })), []);
  const code = await api('POST', `/v1/${tenant.id}/verify`, { token: locked.ticket, body: { type: 'totp', code: oathtool(locked.secret, locked.t + 30) } });
  assert.equal(code.status, 200, code.text);

  // An erased user leaves the list.
  assert.equal((await api('DELETE', `/v1/${tenant.id}/admin/users/expired-user`, admin)).status, 204);
  assert.deepEqual(names(await listUsers(tenant, { state: 'expired' })), []);

  for (const query of ['state=asleep', 'method=carrier-pigeon', 'limit=0', 'limit=501', 'format=xml', 'cursor=%%']) {
    assertProblem(await api('GET', `/v1/${tenant.id}/admin/users?${query}`, admin), 400, 'invalid_request');
  }
  assertProblem(await api('GET', `/v1/${tenant.id}/admin/users`, { token: locked.ticket }), 401, 'unauthorized');
});

test('a CSV cell a spreadsheet would run as a formula is defused', async () => {
  const tenant = await createTenant();
  await assess(tenant, '=HYPERLINK("http://evil.example")');
  const csv = await api('GET', `/v1/${tenant.id}/admin/users?format=csv`, { token: tenant.admin_key });
  const rows = parseCsv(csv.text, { columns: true });
  assert.deepEqual(rows.map((r) => r.user), ['\'=HYPERLINK("http://evil.example")']);
});

test('the per-user requirement: MFA whatever the mode, with its own enrollment period, renewed by setting it again', async () => {
  const tenant = await createTenant({ mode: 'off' });
  const admin = { token: tenant.admin_key };
  const t = now();
  assert.equal((await assess(tenant, 'ivan')).action, 'allow');
  const set = await api('PUT', `/v1/${tenant.id}/admin/users/ivan/requirement`, { ...admin, body: { required: true, enrollment_days: 3 }, headers: at(t) });
  assert.equal(set.status, 200, set.text);
  assert.deepEqual(set.body.enrollment, { state: 'grace', deadline: t + 3 * 86400 });
  assert.deepEqual(set.body.requirement, { required: true, set_at: t, deadline: t + 3 * 86400 });
  const during = await assess(tenant, 'ivan', at(t + 86400));
  assert.equal(during.action, 'allow');
  assert.ok(during.reasons.includes('required_user') && during.reasons.includes('grace_period'), during.reasons);
  const after = await assess(tenant, 'ivan', at(t + 4 * 86400));
  assert.equal(after.action, 'enroll');
  assert.equal(after.enrollment.state, 'expired');
  // Renewing starts a new period from now.
  const renewed = await api('PUT', `/v1/${tenant.id}/admin/users/ivan/requirement`, { ...admin, body: { required: true }, headers: at(t + 4 * 86400) });
  assert.deepEqual(renewed.body.enrollment, { state: 'grace', deadline: t + 4 * 86400 + 7 * 86400 });
  // Enrolled: challenged although the tenant's mode is off.
  const ivan = await enrollTotp(tenant, 'ivan');
  const enrolled = await api('POST', `/v1/${tenant.id}/assess`, { token: ivan.ticket, body: {} });
  assert.equal(enrolled.body.action, 'challenge');
  // Lifted: the tenant's mode again.
  const lifted = await api('PUT', `/v1/${tenant.id}/admin/users/ivan/requirement`, { ...admin, body: { required: false } });
  assert.equal(lifted.status, 200);
  assert.equal(lifted.body.requirement, undefined);
  assert.equal((await api('POST', `/v1/${tenant.id}/assess`, { token: ivan.ticket, body: {} })).body.action, 'allow');
  for (const body of [{ required: true, enrollment_days: 0 }, { required: true, enrollment_days: 366 }, {}, { required: 'yes' }]) {
    assertProblem(await api('PUT', `/v1/${tenant.id}/admin/users/ivan/requirement`, { ...admin, body }), 400, 'invalid_request');
  }
  const events = await api('GET', `/v1/${tenant.id}/admin/audit?type=requirement.updated`, admin);
  assert.deepEqual(events.body.events.map((e) => e.detail.required), [true, true, false]);
});

test('help requests: one open per user, the admin queue, resolved by bypass and by reset, rate limited', async () => {
  const tenant = await createTenant();
  const admin = { token: tenant.admin_key };
  const judy = await enrollTotp(tenant, 'judy');
  const first = await api('POST', `/v1/${tenant.id}/help`, { token: judy.ticket, body: { message: 'lost my phone' } });
  assert.equal(first.status, 202, first.text);
  assert.match(first.body.request_id, /^help_/);
  const again = await api('POST', `/v1/${tenant.id}/help`, { token: judy.ticket, body: { message: 'still lost' } });
  assert.equal(again.status, 202);
  assert.equal(again.body.request_id, first.body.request_id);
  // Another user's request, with no body at all.
  const kim = await ticketFor(tenant, 'kim');
  const kims = await api('POST', `/v1/${tenant.id}/help`, { token: kim });
  assert.equal(kims.status, 202, kims.text);

  const open = await api('GET', `/v1/${tenant.id}/admin/help-requests?state=open`, admin);
  assert.equal(open.status, 200, open.text);
  assert.deepEqual(open.body.requests.map((r) => r.user).sort(), ['judy', 'kim']);
  const judys = open.body.requests.find((r) => r.user === 'judy');
  assert.equal(judys.id, first.body.request_id);
  assert.equal(judys.message, 'lost my phone');
  assert.equal(judys.state, 'open');
  assert.ok(judys.created_at > now() - 600);
  const status = await api('GET', `/v1/${tenant.id}/admin/users/judy`, admin);
  assert.equal(status.body.help_request.id, judys.id);

  // Bypass: the request's user is let in without MFA for the minutes given.
  const resolved = await api('POST', `/v1/${tenant.id}/admin/help-requests/${judys.id}/resolve`, { ...admin, body: { action: 'bypass', minutes: 30, note: 'called her' } });
  assert.equal(resolved.status, 200, resolved.text);
  assert.equal(resolved.body.state, 'resolved');
  assert.equal(resolved.body.action, 'bypass');
  assert.equal(resolved.body.minutes, 30);
  assert.equal(resolved.body.note, 'called her');
  assert.ok(resolved.body.resolved_at > 0);
  const bypassed = await api('POST', `/v1/${tenant.id}/assess`, { token: judy.ticket, body: {} });
  assert.equal(bypassed.body.action, 'allow');
  assert.ok(bypassed.body.reasons.includes('bypass_active'));
  const judyNow = await api('GET', `/v1/${tenant.id}/admin/users/judy`, admin);
  assert.ok(Math.abs(judyNow.body.bypass_until - (now() + 1800)) < 120);
  assertProblem(await api('POST', `/v1/${tenant.id}/admin/help-requests/${judys.id}/resolve`, { ...admin, body: {} }), 409, 'conflict');
  assertProblem(await api('POST', `/v1/${tenant.id}/admin/help-requests/help_nope/resolve`, { ...admin, body: {} }), 404, 'not_found');
  assert.deepEqual((await api('GET', `/v1/${tenant.id}/admin/help-requests?state=open`, admin)).body.requests.map((r) => r.user), ['kim']);
  assert.deepEqual((await api('GET', `/v1/${tenant.id}/admin/help-requests?state=resolved`, admin)).body.requests.map((r) => r.id), [judys.id]);

  // A new request after the first was resolved; resolved by reset: factors gone.
  const second = await api('POST', `/v1/${tenant.id}/help`, { token: judy.ticket, body: { message: 'new phone' } });
  assert.notEqual(second.body.request_id, first.body.request_id);
  // The old request is resolved, whatever is open now (found by the review: 404).
  assertProblem(await api('POST', `/v1/${tenant.id}/admin/help-requests/${judys.id}/resolve`, { ...admin, body: {} }), 409, 'conflict');
  const reset = await api('POST', `/v1/${tenant.id}/admin/help-requests/${second.body.request_id}/resolve`, { ...admin, body: { action: 'reset' } });
  assert.equal(reset.status, 200, reset.text);
  assert.equal(reset.body.action, 'reset');
  const factors = await api('GET', `/v1/${tenant.id}/factors`, { token: judy.ticket });
  assert.deepEqual(factors.body.factors, []);
  // `none`: only the request changes.
  const none = await api('POST', `/v1/${tenant.id}/admin/help-requests/${kims.body.request_id}/resolve`, admin);
  assert.equal(none.status, 200, none.text);
  assert.equal(none.body.action, 'none');

  const audit = await api('GET', `/v1/${tenant.id}/admin/audit?user=judy`, admin);
  const kinds = audit.body.events.map((e) => e.type).filter((t) => t.startsWith('help_request') || t === 'bypass.granted' || t === 'user.reset');
  assert.deepEqual(kinds, ['help_request.created', 'bypass.granted', 'help_request.resolved', 'help_request.created', 'user.reset', 'help_request.resolved']);

  // Five new requests a day at most.
  const lee = await ticketFor(tenant, 'lee');
  for (let i = 0; i < 5; i++) {
    const r = await api('POST', `/v1/${tenant.id}/help`, { token: lee, body: {} });
    assert.equal(r.status, 202, r.text);
    assert.equal((await api('POST', `/v1/${tenant.id}/admin/help-requests/${r.body.request_id}/resolve`, admin)).status, 200);
  }
  const limited = await api('POST', `/v1/${tenant.id}/help`, { token: lee, body: {} });
  assertProblem(limited, 429, 'rate_limited');
  assert.ok(Number(limited.headers.get('retry-after')) > 0);
  // Bad input.
  assertProblem(await api('POST', `/v1/${tenant.id}/help`, { token: kim, body: { message: 'x'.repeat(501) } }), 400, 'invalid_request');
  assertProblem(await api('POST', `/v1/${tenant.id}/help`, { token: kim, body: { text: 'hi' } }), 400, 'invalid_request');
  assertProblem(await api('POST', `/v1/${tenant.id}/admin/help-requests/${kims.body.request_id}/resolve`, { ...admin, body: { action: 'delete' } }), 400, 'invalid_request');
  assertProblem(await api('GET', `/v1/${tenant.id}/admin/help-requests?state=maybe`, admin), 400, 'invalid_request');
  assertProblem(await api('GET', `/v1/${tenant.id}/admin/help-requests`, { token: kim }), 401, 'unauthorized');
});
