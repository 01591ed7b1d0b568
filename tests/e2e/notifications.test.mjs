// Notifications through the tenant's webhook (API.md "Webhooks", asynchronous
// events): queued with the change they report, delivered at least once, signed
// (checked with `standardwebhooks`), retried after failures with the same
// `webhook-id`, never holding a secret or a code.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATOR_KEY, api, at, createTenant, enrollTotp, now, oathtool, ticketFor, wrongCode } from './client.mjs';
import { startReceiver } from './receiver.mjs';

let receiver;
before(async () => { receiver = await startReceiver(); });
after(async () => receiver?.close());

async function notifiedTenant(policy, events) {
  const tenant = await createTenant(policy);
  const hook = await api('PUT', `/v1/${tenant.id}/admin/webhook`, { token: tenant.admin_key, body: { url: receiver.url, ...(events ? { events } : {}) } });
  assert.equal(hook.status, 200, hook.text);
  tenant.secret = hook.body.secret;
  receiver.trust(tenant.secret);
  return tenant;
}

/// Waits for a notification, nudging the outbox meanwhile: on Spin requests drive
/// it (here the operator's POST /v1/deliveries, as a cron job would); on Workers
/// each user's Durable Object alarm does, and the nudge does nothing.
async function notified(tenant, type, predicate = () => true, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = receiver.deliveries.find((d) => d.payload?.type === type && d.payload.data.tenant_name === `Tenant ${tenant.id}` && predicate(d));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no ${type} for ${tenant.id} within ${ms} ms`);
    await api('POST', '/v1/deliveries', { token: OPERATOR_KEY });
    await new Promise((r) => setTimeout(r, 300));
  }
}

test('factor.enrolled arrives signed, with what an email needs and no secret', async () => {
  const tenant = await notifiedTenant();
  const user = await enrollTotp(tenant, 'nora');
  const d = await notified(tenant, 'factor.enrolled', (x) => x.payload.data.user === 'nora');
  assert.deepEqual(d.verifiedWith, [tenant.secret], 'standardwebhooks verifies it');
  assert.deepEqual(d.payload.data.factor, { id: user.factor.id, type: 'totp', name: user.factor.name });
  assert.match(d.headers['webhook-id'], /^msg_/);
  for (const secret of [user.secret, ...user.backupCodes, tenant.secret.slice(6), tenant.ticket_secret]) {
    assert.ok(!d.raw.includes(secret), 'no secret in a notification');
  }
});

test('a failed delivery is retried with the same webhook-id; a receiver that dedupes takes it once', async () => {
  const tenant = await notifiedTenant();
  const user = await enrollTotp(tenant, 'retry');
  await notified(tenant, 'factor.enrolled', (x) => x.payload.data.user === 'retry');
  const seen = new Map();
  const accepted = new Set();
  receiver.answer((d) => {
    if (d.payload?.type !== 'backup_codes.regenerated') return { status: 204 };
    const id = d.headers['webhook-id'];
    seen.set(id, (seen.get(id) ?? 0) + 1);
    if (seen.get(id) < 3) return { status: 503 };
    if (accepted.has(id)) return { status: 204 }; // a duplicate: acknowledged, not processed again
    accepted.add(id);
    return { status: 204 };
  });
  try {
    const regenerate = await api('POST', `/v1/${tenant.id}/backup-codes`, { token: user.ticket, headers: { 'x-mfa-token': user.mfaToken } });
    assert.equal(regenerate.status, 201, regenerate.text);
    const started = Date.now();
    await notified(tenant, 'backup_codes.regenerated', () => accepted.size > 0, 20_000);
    const attempts = receiver.deliveries.filter((d) => d.payload?.type === 'backup_codes.regenerated' && d.payload.data.tenant_name === `Tenant ${tenant.id}`);
    assert.ok(attempts.length >= 3, `three attempts: ${attempts.length}`);
    assert.equal(new Set(attempts.map((d) => d.headers['webhook-id'])).size, 1, 'one webhook-id for every attempt');
    assert.ok(attempts.every((d) => d.verifiedWith.length === 1), 'every attempt signed');
    assert.equal(accepted.size, 1);
    assert.ok(Date.now() - started < 20_000);
    for (const code of regenerate.body.codes) assert.ok(!attempts[0].raw.includes(code), 'no backup code in it');
  } finally {
    receiver.answer(() => ({ status: 204 }));
  }
});

test('lockout.started, device.remembered and factor.removed; unsubscribed events are not sent', async () => {
  const tenant = await notifiedTenant({ lockout: { max_failures: 3, window_seconds: 600 } });
  const user = await enrollTotp(tenant, 'events');
  const t = user.t + 60;
  for (let i = 0; i < 3; i++) {
    await api('POST', `/v1/${tenant.id}/verify`, { token: user.ticket, body: { type: 'totp', code: wrongCode(user.secret, t) }, headers: at(t) });
  }
  const locked = await notified(tenant, 'lockout.started', (x) => x.payload.data.user === 'events');
  assert.ok(locked.payload.data.until > t, JSON.stringify(locked.payload.data));
  assert.ok(!locked.raw.includes(wrongCode(user.secret, t)), 'no code in it');
  const unlock = await api('POST', `/v1/${tenant.id}/admin/users/events/unlock`, { token: tenant.admin_key });
  assert.equal(unlock.status, 204);
  const code = oathtool(user.secret, t + 30);
  const verify = await api('POST', `/v1/${tenant.id}/verify`, { token: user.ticket, body: { type: 'totp', code, remember_device: true }, headers: { ...at(t + 30), 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0' } });
  assert.equal(verify.status, 200, verify.text);
  const remembered = await notified(tenant, 'device.remembered', (x) => x.payload.data.user === 'events');
  assert.ok(remembered.payload.data.device.label);
  const cookie = verify.headers.get('set-cookie') ?? '';
  assert.ok(!remembered.raw.includes(cookie.split(';')[0].split('=')[1] ?? 'none'), 'no device token in it');
  const del = await api('DELETE', `/v1/${tenant.id}/factors/${user.factor.id}`, { token: user.ticket, headers: { 'x-mfa-token': verify.body.mfa_token, ...at(t + 30) } });
  assert.equal(del.status, 204, del.text);
  const removed = await notified(tenant, 'factor.removed', (x) => x.payload.data.user === 'events');
  assert.equal(removed.payload.data.factor.id, user.factor.id);

  // A webhook subscribed to webhook.test only hears nothing of factors.
  const quiet = await notifiedTenant(undefined, ['webhook.test']);
  await enrollTotp(quiet, 'silent');
  await new Promise((r) => setTimeout(r, 1500));
  await api('POST', '/v1/deliveries', { token: OPERATOR_KEY });
  assert.equal(receiver.deliveries.filter((d) => d.payload?.data?.tenant_name === `Tenant ${quiet.id}`).length, 0);
});

test('enrollment.required: a user\'s enrollment period starts, with its deadline', async () => {
  const tenant = await notifiedTenant({ grace_period_days: 7 });
  const ticket = await ticketFor(tenant, 'newcomer');
  const assess = await api('POST', `/v1/${tenant.id}/assess`, { token: ticket });
  assert.equal(assess.body.enrollment.state, 'grace', assess.text);
  const d = await notified(tenant, 'enrollment.required', (x) => x.payload.data.user === 'newcomer');
  assert.equal(d.payload.data.deadline, assess.body.enrollment.deadline);
  assert.ok(Math.abs(d.payload.data.deadline - (now() + 7 * 86_400)) < 120);
});

test('help_request.created: the request id and the user, never the user\'s message', async () => {
  const tenant = await notifiedTenant();
  const ticket = await ticketFor(tenant, 'stuck');
  const asked = await api('POST', `/v1/${tenant.id}/help`, { token: ticket, body: { message: 'my phone fell in a lake' } });
  assert.equal(asked.status, 202, asked.text);
  const d = await notified(tenant, 'help_request.created', (x) => x.payload.data.user === 'stuck');
  assert.deepEqual(d.verifiedWith, [tenant.secret]);
  assert.equal(d.payload.data.request_id, asked.body.request_id);
  assert.ok(!d.raw.includes('lake'), 'the message stays with the admins');
  // Asking again while it is open sends nothing new.
  await api('POST', `/v1/${tenant.id}/help`, { token: ticket, body: {} });
  await new Promise((r) => setTimeout(r, 1500));
  await api('POST', '/v1/deliveries', { token: OPERATOR_KEY });
  const sent = receiver.deliveries.filter((x) => x.payload?.type === 'help_request.created' && x.payload.data.tenant_name === `Tenant ${tenant.id}`);
  assert.equal(new Set(sent.map((x) => x.headers['webhook-id'])).size, 1);
});
