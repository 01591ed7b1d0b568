// The audit log (API.md "Audit log", docs/AUDIT.md) against the real runtime: what a
// scripted flow writes, in order; exactly one verify.failed per 422 under parallel
// load; filters, cursors, ndjson; retention by deletion; no secret in any event;
// only the tenant's admin reads it, and only its own events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  api, assertProblem, at, createTenant, enrollTotp, now, oathtool, ticketFor, wrongCode,
} from './client.mjs';

const UA = 'audit-test/1.0 (e2e)';

/// Every event of the tenant (following `next`), with `params` as filters.
async function allEvents(tenant, params = {}) {
  const events = [];
  let cursor;
  for (let page = 0; page < 100; page++) {
    const query = new URLSearchParams({ limit: '1000', ...params, ...(cursor ? { cursor } : {}) });
    const res = await api('GET', `/v1/${tenant.id}/admin/audit?${query}`, { token: tenant.admin_key });
    assert.equal(res.status, 200, res.text);
    events.push(...res.body.events);
    if (!res.body.next) return events;
    cursor = res.body.next;
  }
  throw new Error('more than 100 pages');
}

const types = (events) => events.map((e) => e.type);

test('a scripted flow writes exactly the expected events, in order, with who, where and on what', async () => {
  const tenant = await createTenant({ lockout: { max_failures: 10, window_seconds: 600 } });
  const alice = await enrollTotp(tenant, 'alice');
  const headers = { 'user-agent': UA, 'x-edge-mfa-test-ip': '198.51.100.7', 'x-edge-mfa-test-country': 'NL' };
  const assess = await api('POST', `/v1/${tenant.id}/assess`, { token: alice.ticket, body: {}, headers });
  assert.equal(assess.status, 200, assess.text);
  const bad = await api('POST', `/v1/${tenant.id}/verify`, { token: alice.ticket, body: { type: 'totp', code: wrongCode(alice.secret, alice.t) }, headers });
  assertProblem(bad, 422, 'verification_failed');
  const admin = { token: tenant.admin_key, headers: { 'user-agent': UA } };
  // The failure counted is cleared by the admin: a change, so an event.
  assert.equal((await api('POST', `/v1/${tenant.id}/admin/users/alice/unlock`, admin)).status, 204);
  const good = await api('POST', `/v1/${tenant.id}/verify`, { token: alice.ticket, body: { type: 'totp', code: oathtool(alice.secret, alice.t + 30) }, headers });
  assert.equal(good.status, 200, good.text);
  const redeem = await api('POST', `/v1/${tenant.id}/backup-codes/redeem`, { token: alice.ticket, body: { code: alice.backupCodes[0] }, headers });
  assert.equal(redeem.status, 200, redeem.text);
  assert.equal((await api('POST', `/v1/${tenant.id}/admin/users/alice/bypass`, { ...admin, body: { minutes: 10 } })).status, 200);
  assert.equal((await api('DELETE', `/v1/${tenant.id}/admin/users/alice/bypass`, admin)).status, 204);
  assert.equal((await api('PATCH', `/v1/${tenant.id}/admin/policy`, { ...admin, body: { grace_period_days: 3 } })).status, 200);
  assert.equal((await api('POST', `/v1/${tenant.id}/admin/users/alice/reset`, admin)).status, 204);
  // Reads write nothing; nor do admin actions that change nothing (found by the
  // review: erasing a user who never existed logged user.erased).
  assert.equal((await api('GET', `/v1/${tenant.id}/admin/users/alice`, admin)).status, 200);
  assert.equal((await api('GET', `/v1/${tenant.id}/factors`, { token: alice.ticket })).status, 200);
  assert.equal((await api('DELETE', `/v1/${tenant.id}/admin/users/nobody`, admin)).status, 204);
  assert.equal((await api('POST', `/v1/${tenant.id}/admin/users/alice/unlock`, admin)).status, 204);
  assert.equal((await api('DELETE', `/v1/${tenant.id}/admin/users/alice/devices`, admin)).status, 204);

  const events = await allEvents(tenant);
  assert.deepEqual(types(events), [
    'tenant.created',
    'enrollment.started', 'factor.enrolled', 'verify.succeeded',
    'assess.decided', 'verify.failed', 'user.unlocked', 'verify.succeeded', 'backup_code.redeemed',
    'bypass.granted', 'bypass.ended', 'policy.updated', 'user.reset',
  ]);
  const [created, started, enrolled, proved, decided, failed, unlocked, succeeded, redeemed, bypass, , policy] = events;
  assert.equal(created.actor, 'operator');
  assert.equal(created.user, undefined);
  for (const e of [started, enrolled, proved, decided, failed, succeeded, redeemed]) {
    assert.equal(e.actor, 'user');
    assert.equal(e.user, 'alice');
  }
  assert.deepEqual(enrolled.factor, { id: alice.factor.id, type: 'totp' });
  assert.equal(proved.detail.stage, 'enroll');
  assert.equal(decided.detail.action, 'challenge');
  assert.equal(failed.outcome, 'failure');
  assert.equal(failed.reason, 'verification_failed');
  assert.equal(failed.factor.type, 'totp');
  assert.equal(succeeded.outcome, 'success');
  assert.deepEqual(succeeded.factor, { id: alice.factor.id, type: 'totp' });
  // Where the request came from, as the platform (here the test hooks) said.
  for (const e of [decided, failed, succeeded, redeemed]) {
    assert.equal(e.ip, '198.51.100.7');
    assert.equal(e.country, 'NL');
    assert.equal(e.user_agent, UA);
  }
  assert.equal(redeemed.detail.remaining, alice.backupCodes.length - 1);
  assert.equal(bypass.actor, 'admin');
  assert.equal(bypass.detail.minutes, 10);
  assert.equal(unlocked.actor, 'admin');
  assert.equal(unlocked.user, 'alice');
  assert.equal(policy.actor, 'admin');
  assert.ok(policy.detail.version >= 2);
  for (const e of events) {
    assert.match(e.id, /^evt_[A-Za-z0-9_-]{22}$/);
    assert.ok(Math.abs(e.at - now()) < 300, `at ${e.at}`);
  }
  assert.equal(new Set(events.map((e) => e.id)).size, events.length);
});

test('twenty parallel wrong codes: exactly as many verify.failed events as 422 answers', async () => {
  for (const max of [50, 5]) {
    const tenant = await createTenant({ lockout: { max_failures: max, window_seconds: 3600 } });
    const bob = await enrollTotp(tenant, 'bob');
    const code = wrongCode(bob.secret, bob.t);
    const results = await Promise.all(Array.from({ length: 20 }, () => api('POST', `/v1/${tenant.id}/verify`, { token: bob.ticket, body: { type: 'totp', code } })));
    const rejected = results.filter((r) => r.status === 422).length;
    assert.equal(rejected, Math.min(max, 20), `statuses ${results.map((r) => r.status)}`);
    const failed = await allEvents(tenant, { type: 'verify.failed' });
    assert.equal(failed.length, rejected);
    assert.ok(failed.every((e) => e.user === 'bob' && e.reason === 'verification_failed'));
    const lockouts = await allEvents(tenant, { type: 'lockout.started' });
    assert.equal(lockouts.length, max <= 20 ? 1 : 0);
  }
});

test('filters by user, type and time; the cursor visits every event once; ndjson carries the same events', async () => {
  const tenant = await createTenant();
  const t0 = now() - 3600;
  for (const [i, sub] of ['carol', 'dave', 'erin'].entries()) {
    // A ticket of the hooked clock's time.
    const ticket = await ticketFor(tenant, sub, { now: t0 + i * 600 });
    for (let k = 0; k < 3; k++) {
      const r = await api('POST', `/v1/${tenant.id}/assess`, { token: ticket, body: {}, headers: at(t0 + i * 600 + k) });
      assert.equal(r.status, 200, r.text);
    }
  }
  const everything = await allEvents(tenant);
  assert.equal(everything.length, 1 + 9);
  const dave = await allEvents(tenant, { user: 'dave' });
  assert.deepEqual(dave.map((e) => e.user), ['dave', 'dave', 'dave']);
  assert.deepEqual(types(await allEvents(tenant, { type: 'tenant.created' })), ['tenant.created']);
  const window = await allEvents(tenant, { since: String(t0 + 600), until: String(t0 + 1200) });
  assert.deepEqual(window.map((e) => e.user), ['dave', 'dave', 'dave']);
  // Pages of two: each event once, in the same order as one page.
  const paged = [];
  let cursor;
  for (let page = 0; page < 20; page++) {
    const query = new URLSearchParams({ limit: '2', ...(cursor ? { cursor } : {}) });
    const res = await api('GET', `/v1/${tenant.id}/admin/audit?${query}`, { token: tenant.admin_key });
    assert.equal(res.status, 200, res.text);
    assert.ok(res.body.events.length <= 2);
    paged.push(...res.body.events);
    if (!res.body.next) break;
    assert.match(res.headers.get('link'), /rel="next"/);
    cursor = res.body.next;
  }
  assert.deepEqual(paged.map((e) => e.id), everything.map((e) => e.id));
  // ndjson: one event per line, the next page in a Link header.
  const nd = await api('GET', `/v1/${tenant.id}/admin/audit?format=ndjson&limit=4`, { token: tenant.admin_key });
  assert.equal(nd.status, 200);
  assert.equal(nd.headers.get('content-type'), 'application/x-ndjson');
  const lines = nd.text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((e) => e.id), everything.slice(0, 4).map((e) => e.id));
  const link = nd.headers.get('link');
  assert.match(link, /^<\/v1\/[^>]+format=ndjson[^>]*cursor=[^>]+>; rel="next"$/);
  // Bad filters are 400s that name the parameter.
  for (const [query, word] of [['type=verify.nope', 'type'], ['limit=0', 'limit'], ['limit=1001', 'limit'], ['since=yesterday', 'since'], ['cursor=%%%', 'cursor'], ['format=xml', 'format']]) {
    const r = await api('GET', `/v1/${tenant.id}/admin/audit?${query}`, { token: tenant.admin_key });
    assertProblem(r, 400, 'invalid_request');
    assert.match(r.body.detail, new RegExp(word));
  }
});

test('retention deletes: events older than the tenant\'s retention are gone, even when it is raised again', async () => {
  const tenant = await createTenant();
  const ticket = await ticketFor(tenant, 'frank');
  const old = now() - 3 * 86400;
  const oldTicket = await ticketFor(tenant, 'frank', { now: old });
  assert.equal((await api('POST', `/v1/${tenant.id}/assess`, { token: oldTicket, body: {}, headers: at(old) })).status, 200);
  assert.equal((await allEvents(tenant, { user: 'frank' })).length, 1);
  const shorten = await api('PATCH', `/v1/${tenant.id}/admin/tenant`, { token: tenant.admin_key, body: { audit_retention_days: 1 } });
  assert.equal(shorten.status, 200, shorten.text);
  assert.equal(shorten.body.audit_retention_days, 1);
  assert.equal((await api('POST', `/v1/${tenant.id}/assess`, { token: ticket, body: {} })).status, 200);
  assert.equal((await allEvents(tenant, { user: 'frank' })).length, 1);
  // Raised again: a log that only hid old events would show them now.
  const raise = await api('PATCH', `/v1/${tenant.id}/admin/tenant`, { token: tenant.admin_key, body: { audit_retention_days: 365 } });
  assert.equal(raise.status, 200, raise.text);
  const left = await allEvents(tenant, { user: 'frank' });
  assert.equal(left.length, 1);
  assert.ok(left[0].at > now() - 600);
  for (const days of [0, 366, 'x']) {
    const r = await api('PATCH', `/v1/${tenant.id}/admin/tenant`, { token: tenant.admin_key, body: { audit_retention_days: days } });
    assertProblem(r, 400, 'invalid_request');
  }
});

test('no secret, code or token the test made appears in any stored event', async () => {
  const tenant = await createTenant();
  const gina = await enrollTotp(tenant, 'gina');
  const verify = await api('POST', `/v1/${tenant.id}/verify`, { token: gina.ticket, body: { type: 'totp', code: oathtool(gina.secret, gina.t + 30), remember_device: true } });
  assert.equal(verify.status, 200, verify.text);
  // The remember-device token comes as a cookie (unless the policy puts it in the body).
  const deviceToken = verify.headers.get('set-cookie')?.match(/^[^=]+=([^;]+)/)?.[1];
  const regen = await api('POST', `/v1/${tenant.id}/backup-codes`, { token: gina.ticket, headers: { 'x-mfa-token': verify.body.mfa_token } });
  assert.equal(regen.status, 201, regen.text);
  const redeem = await api('POST', `/v1/${tenant.id}/backup-codes/redeem`, { token: gina.ticket, body: { code: regen.body.codes[0] } });
  assert.equal(redeem.status, 200, redeem.text);
  const rotated = await api('POST', `/v1/${tenant.id}/admin/keys/ticket-secret/rotate`, { token: tenant.admin_key });
  assert.equal(rotated.status, 200);
  const adminKey = await api('POST', `/v1/${tenant.id}/admin/keys/admin-key/rotate`, { token: tenant.admin_key });
  assert.equal(adminKey.status, 200);
  const stored = JSON.stringify(await allEvents({ ...tenant, admin_key: adminKey.body.admin_key }));
  const secrets = [
    gina.secret, gina.ticket, gina.mfaToken, verify.body.mfa_token, deviceToken,
    redeem.body.mfa_token, tenant.admin_key, tenant.ticket_secret, rotated.body.ticket_secret,
    adminKey.body.admin_key, oathtool(gina.secret, gina.t), oathtool(gina.secret, gina.t + 30),
    ...gina.backupCodes, ...regen.body.codes,
  ];
  for (const [i, secret] of secrets.entries()) {
    assert.ok(secret && secret.length >= 6, `secret #${i} to look for: ${secret}`);
    assert.ok(!stored.includes(secret), `an event holds a secret (${secret.slice(0, 4)}…)`);
    // Backup codes are also accepted without their dashes.
    assert.ok(!stored.includes(secret.replaceAll('-', '')), 'an event holds a secret without dashes');
  }
  assert.match(stored, /key\.rotated/);
});

test('only the tenant\'s admin reads its log, and it holds only its own events', async () => {
  const a = await createTenant();
  const b = await createTenant();
  const ticketA = await ticketFor(a, 'hana');
  const ticketB = await ticketFor(b, 'hana');
  assert.equal((await api('POST', `/v1/${a.id}/assess`, { token: ticketA, body: {} })).status, 200);
  assert.equal((await api('POST', `/v1/${b.id}/assess`, { token: ticketB, body: {} })).status, 200);
  assertProblem(await api('GET', `/v1/${a.id}/admin/audit`, { token: ticketA }), 401, 'unauthorized');
  assertProblem(await api('GET', `/v1/${a.id}/admin/audit`, { token: b.admin_key }), 401, 'unauthorized');
  assertProblem(await api('GET', `/v1/${a.id}/admin/audit`), 401, 'unauthorized');
  const eventsA = await allEvents(a);
  const eventsB = await allEvents(b);
  assert.deepEqual(types(eventsA), ['tenant.created', 'assess.decided']);
  assert.deepEqual(types(eventsB), ['tenant.created', 'assess.decided']);
  const idsB = new Set(eventsB.map((e) => e.id));
  assert.ok(eventsA.every((e) => !idsB.has(e.id)));
});

test('a poller resumes from `cursor` and sees only later events, even after retention emptied the log', async () => {
  const tenant = await createTenant();
  const admin = { token: tenant.admin_key };
  const first = await api('GET', `/v1/${tenant.id}/admin/audit`, admin);
  assert.equal(first.status, 200);
  assert.equal(first.body.next, undefined, 'one page');
  assert.ok(first.body.cursor, 'the position to resume from');
  assert.equal(first.headers.get('edge-mfa-cursor'), first.body.cursor);
  const quiet = await api('GET', `/v1/${tenant.id}/admin/audit?cursor=${first.body.cursor}`, admin);
  assert.deepEqual(quiet.body.events, []);
  assert.equal(quiet.body.cursor, first.body.cursor, 'nothing new: the same position');
  // Two days on, a one-day retention has deleted everything; a new event must
  // still come after the poller's position (found by the review: positions
  // were reused once the newest rows were gone).
  assert.equal((await api('PATCH', `/v1/${tenant.id}/admin/tenant`, { ...admin, body: { audit_retention_days: 1 } })).status, 200);
  const later = now() + 2 * 86400;
  const emptied = await api('GET', `/v1/${tenant.id}/admin/audit`, { ...admin, headers: at(later) });
  assert.deepEqual(emptied.body.events, []);
  const ticket = await ticketFor(tenant, 'poll', { now: later });
  assert.equal((await api('POST', `/v1/${tenant.id}/assess`, { token: ticket, body: {}, headers: at(later) })).status, 200);
  const resumed = await api('GET', `/v1/${tenant.id}/admin/audit?cursor=${first.body.cursor}`, { ...admin, headers: at(later) });
  assert.deepEqual(resumed.body.events.map((e) => e.type), ['assess.decided']);
});

test('retention deletes resolved help requests with the events; open ones stay', async () => {
  const tenant = await createTenant();
  const admin = { token: tenant.admin_key };
  const old = now() - 3 * 86400;
  for (const sub of ['old-asker', 'still-waiting']) {
    const r = await api('POST', `/v1/${tenant.id}/help`, { token: await ticketFor(tenant, sub, { now: old }), body: {}, headers: at(old) });
    assert.equal(r.status, 202, r.text);
  }
  const open = await api('GET', `/v1/${tenant.id}/admin/help-requests?state=open`, admin);
  const asked = open.body.requests.find((r) => r.user === 'old-asker');
  assert.equal((await api('POST', `/v1/${tenant.id}/admin/help-requests/${asked.id}/resolve`, { ...admin, headers: at(old) })).status, 200);
  assert.equal((await api('PATCH', `/v1/${tenant.id}/admin/tenant`, { ...admin, body: { audit_retention_days: 1 } })).status, 200);
  const all = await api('GET', `/v1/${tenant.id}/admin/help-requests`, admin);
  assert.deepEqual(all.body.requests.map((r) => r.user), ['still-waiting']);
});
