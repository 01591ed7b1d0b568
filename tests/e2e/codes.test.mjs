// SMS and email codes (API.md "Email and SMS codes"), sent through the tenant's
// webhook to a real receiver that checks each delivery with `standardwebhooks` and
// reads the code from it, as the tenant's SMS or email provider would.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, assertProblem, at, createTenant, now, ticketFor, useReceiver, verifyMfaToken } from './client.mjs';
import { readFileSync } from 'node:fs';
import { startReceiver } from './receiver.mjs';
import { startReceiver as startExampleReceiver } from '../../docs/examples/receiver.mjs';

let receiver;
before(async () => { receiver = await startReceiver(); });
after(async () => receiver?.close());

const NUMBER = '+44 7400 123456';
const E164 = '+447400123456';

/// A tenant allowing SMS and email, with its webhook at the receiver.
async function codeTenant(delivery = {}, extra = {}) {
  const tenant = await createTenant({ allowed_methods: ['totp', 'webauthn', 'sms', 'email', 'backup_code'], ...extra });
  await useReceiver(tenant, receiver);
  if (Object.keys(delivery).length) {
    const r = await api('PATCH', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key, body: { delivery } });
    assert.equal(r.status, 200, r.text);
  }
  return tenant;
}

/// The code of the last verified delivery for this challenge or enrollment.
async function codeFor(type, idField, id) {
  const d = await receiver.waitFor((x) => x.payload?.type === type && x.payload.data[idField] === id);
  assert.equal(d.verifiedWith.length, 1, 'signed by the tenant\'s secret (standardwebhooks)');
  return d.payload.data;
}

const sent = (type, id) => receiver.deliveries.filter((d) => d.payload?.type === type && Object.values(d.payload.data).includes(id));

test('SMS: enroll, confirm with the code sent, challenge, verify; replay refused; the token says sms', async () => {
  const tenant = await codeTenant();
  const ticket = await ticketFor(tenant, 'sam');
  const enroll = await api('POST', `/v1/${tenant.id}/enroll`, { token: ticket, body: { type: 'sms', to: NUMBER } });
  assert.equal(enroll.status, 201, enroll.text);
  assert.equal(enroll.body.type, 'sms');
  assert.deepEqual(enroll.body.delivery.channel, 'sms');
  assert.match(enroll.body.delivery.to_masked, /^\+44 •+456$/);
  assert.ok(!enroll.text.includes('7400123'), 'the answer masks the number');
  const data = await codeFor('mfa.code.sms', 'enrollment_id', enroll.body.enrollment_id);
  assert.equal(data.to, E164, 'the full number only in the webhook');
  assert.equal(data.user, 'sam');
  assert.equal(data.purpose, 'enroll');
  assert.match(data.code, /^\d{6}$/);
  assert.equal(data.tenant_name, `Tenant ${tenant.id}`);
  const confirm = await api('POST', `/v1/${tenant.id}/enroll/${enroll.body.enrollment_id}/confirm`, { token: ticket, body: { code: data.code } });
  assert.equal(confirm.status, 201, confirm.text);
  assert.equal(confirm.body.factor.type, 'sms');
  const first = await verifyMfaToken(tenant, confirm.body.mfa_token);
  assert.equal(first.mfa_method, 'sms');

  const challenge = await api('POST', `/v1/${tenant.id}/challenge`, { token: ticket, body: { type: 'sms' } });
  assert.equal(challenge.status, 201, challenge.text);
  assert.equal(challenge.body.delivery.channel, 'sms');
  const code = (await codeFor('mfa.code.sms', 'challenge_id', challenge.body.challenge_id)).code;
  const verify = await api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { challenge_id: challenge.body.challenge_id, code } });
  assert.equal(verify.status, 200, verify.text);
  const claims = await verifyMfaToken(tenant, verify.body.mfa_token);
  assert.equal(claims.mfa_method, 'sms');
  assert.deepEqual(claims.amr, ['sms', 'otp']);
  const replay = await api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { challenge_id: challenge.body.challenge_id, code } });
  assertProblem(replay, 410, 'expired');
  // The number is sealed at rest: the admin sees the masked form only.
  const status = await api('GET', `/v1/${tenant.id}/admin/users/sam`, { token: tenant.admin_key });
  assert.ok(!status.text.includes('7400123'), status.text);
});

test('SMS: a resend voids the earlier code; too soon and too often are 429; codes expire', async () => {
  const tenant = await codeTenant({ resend_after_seconds: 30, max_sends_per_challenge: 3, code_ttl_seconds: 120 });
  const ticket = await ticketFor(tenant, 'resender');
  const enroll = await api('POST', `/v1/${tenant.id}/enroll`, { token: ticket, body: { type: 'sms', to: NUMBER } });
  const data = await codeFor('mfa.code.sms', 'enrollment_id', enroll.body.enrollment_id);
  await api('POST', `/v1/${tenant.id}/enroll/${enroll.body.enrollment_id}/confirm`, { token: ticket, body: { code: data.code } });
  const t = now();
  const challenge = await api('POST', `/v1/${tenant.id}/challenge`, { token: ticket, body: { type: 'sms' }, headers: at(t) });
  const id = challenge.body.challenge_id;
  const firstCode = (await codeFor('mfa.code.sms', 'challenge_id', id)).code;
  // A new challenge of the same factor is no way around the wait.
  const anew = await api('POST', `/v1/${tenant.id}/challenge`, { token: ticket, body: { type: 'sms' }, headers: at(t + 5) });
  assertProblem(anew, 429, 'rate_limited');
  assert.equal(anew.headers.get('retry-after'), '25');
  const soon = await api('POST', `/v1/${tenant.id}/challenge/${id}/resend`, { token: ticket, headers: at(t + 10) });
  assertProblem(soon, 429, 'rate_limited');
  assert.equal(soon.headers.get('retry-after'), '20');
  const before = sent('mfa.code.sms', id).length;
  const again = await api('POST', `/v1/${tenant.id}/challenge/${id}/resend`, { token: ticket, headers: at(t + 30) });
  assert.equal(again.status, 201, again.text);
  assert.equal(again.body.challenge_id, id);
  await receiver.waitFor(() => sent('mfa.code.sms', id).length > before);
  const secondCode = sent('mfa.code.sms', id).at(-1).payload.data.code;
  if (secondCode !== firstCode) {
    const old = await api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { challenge_id: id, code: firstCode }, headers: at(t + 31) });
    assertProblem(old, 422, 'verification_failed');
  }
  assert.equal((await api('POST', `/v1/${tenant.id}/challenge/${id}/resend`, { token: ticket, headers: at(t + 60) })).status, 201);
  const tooOften = await api('POST', `/v1/${tenant.id}/challenge/${id}/resend`, { token: ticket, headers: at(t + 95) });
  assertProblem(tooOften, 429, 'rate_limited');
  // The last code, after its lifetime: 410.
  const lastCode = sent('mfa.code.sms', id).at(-1).payload.data.code;
  const expired = await api('POST', `/v1/${tenant.id}/verify`, { token: await ticketFor(tenant, 'resender', { now: t + 200 }), body: { challenge_id: id, code: lastCode }, headers: at(t + 200) });
  assertProblem(expired, 410, 'expired');
});

test('SMS: wrong codes lock like TOTP codes; while locked, the right code is refused', async () => {
  const tenant = await codeTenant({}, { lockout: { max_failures: 3, window_seconds: 600 } });
  const ticket = await ticketFor(tenant, 'guesser');
  const enroll = await api('POST', `/v1/${tenant.id}/enroll`, { token: ticket, body: { type: 'sms', to: NUMBER } });
  const data = await codeFor('mfa.code.sms', 'enrollment_id', enroll.body.enrollment_id);
  await api('POST', `/v1/${tenant.id}/enroll/${enroll.body.enrollment_id}/confirm`, { token: ticket, body: { code: data.code } });
  const challenge = await api('POST', `/v1/${tenant.id}/challenge`, { token: ticket, body: { type: 'sms' } });
  const code = (await codeFor('mfa.code.sms', 'challenge_id', challenge.body.challenge_id)).code;
  const wrong = code === '000000' ? '000001' : '000000';
  for (let i = 0; i < 3; i++) {
    assertProblem(await api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { challenge_id: challenge.body.challenge_id, code: wrong } }), 422, 'verification_failed');
  }
  const locked = await api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { challenge_id: challenge.body.challenge_id, code } });
  assertProblem(locked, 429, 'rate_limited');
  assertProblem(await api('POST', `/v1/${tenant.id}/challenge`, { token: ticket, body: { type: 'sms' } }), 429, 'rate_limited');
});

test('email: the ticket\'s verified address enrolls at once; any other address is confirmed by a code', async () => {
  const tenant = await codeTenant();
  const vouched = await ticketFor(tenant, 'erin', { extra: { email: 'erin@example.com', email_verified: true } });
  const direct = await api('POST', `/v1/${tenant.id}/enroll`, { token: vouched, body: { type: 'email' } });
  assert.equal(direct.status, 201, direct.text);
  assert.equal(direct.body.factor.type, 'email');
  assert.equal(direct.body.backup_codes.length, 10);
  assert.equal(sent('mfa.code.email', 'erin').length, 0, 'no code was needed');
  // The audit log has the factor too (found by the review: it had only an
  // enrollment with no id), and never the address.
  const erins = await api('GET', `/v1/${tenant.id}/admin/audit?user=erin`, { token: tenant.admin_key });
  assert.deepEqual(erins.body.events.map((e) => e.type), ['factor.enrolled']);
  assert.deepEqual(erins.body.events[0].factor, { id: direct.body.factor.id, type: 'email' });
  assert.ok(!erins.text.includes('erin@example.com'));
  // Another address needs a code, and step-up now that erin has a factor.
  const other = await ticketFor(tenant, 'frank', { extra: { email: 'frank@example.com' } });
  const enroll = await api('POST', `/v1/${tenant.id}/enroll`, { token: other, body: { type: 'email' } });
  assert.equal(enroll.status, 201, enroll.text);
  assert.equal(enroll.body.delivery.to_masked, 'f•••@example.com');
  const data = await codeFor('mfa.code.email', 'enrollment_id', enroll.body.enrollment_id);
  assert.equal(data.to, 'frank@example.com');
  const confirm = await api('POST', `/v1/${tenant.id}/enroll/${enroll.body.enrollment_id}/confirm`, { token: other, body: { code: data.code } });
  assert.equal(confirm.status, 201, confirm.text);
  const claims = await verifyMfaToken(tenant, confirm.body.mfa_token);
  assert.deepEqual([claims.mfa_method, claims.amr], ['email', ['otp']]);
  assertProblem(await api('POST', `/v1/${tenant.id}/enroll`, { token: other, body: { type: 'email', to: 'frank2@example.com' } }), 403, 'step_up_required');
  const fresh = await ticketFor(tenant, 'gina');
  assertProblem(await api('POST', `/v1/${tenant.id}/enroll`, { token: fresh, body: { type: 'email', to: 'not an address' } }), 400, 'invalid_request');
  assertProblem(await api('POST', `/v1/${tenant.id}/enroll`, { token: fresh, body: { type: 'email' } }), 400, 'invalid_request');
});

test('a webhook that fails (500, timeout) is 502 delivery_failed, and the code is void', async () => {
  const tenant = await codeTenant();
  const ticket = await ticketFor(tenant, 'unlucky');
  receiver.answer(() => ({ status: 500 }));
  try {
    const failed = await api('POST', `/v1/${tenant.id}/enroll`, { token: ticket, body: { type: 'sms', to: NUMBER } });
    assertProblem(failed, 502, 'delivery_failed');
    const code = receiver.deliveries.filter((d) => d.payload?.data?.user === 'unlucky').at(-1).payload.data;
    receiver.answer(() => ({ status: 204 }));
    const confirm = await api('POST', `/v1/${tenant.id}/enroll/${code.enrollment_id}/confirm`, { token: ticket, body: { code: code.code } });
    assertProblem(confirm, 410, 'expired');
    receiver.answer(() => ({ status: 204, delayMs: 6_500 }));
    assertProblem(await api('POST', `/v1/${tenant.id}/enroll`, { token: ticket, body: { type: 'sms', to: NUMBER } }), 502, 'delivery_failed');
  } finally {
    receiver.answer(() => ({ status: 204 }));
  }
  const status = await api('GET', `/v1/${tenant.id}/admin/users/unlucky`, { token: tenant.admin_key });
  assert.deepEqual(status.body.factors, []);
  // Each code made is logged, then its failure, with the client's request and
  // the reason the client got.
  const codes = await api('GET', `/v1/${tenant.id}/admin/audit?user=unlucky&type=code.sent`, { token: tenant.admin_key });
  assert.deepEqual(codes.body.events.map((e) => [e.outcome, e.reason ?? null]), [['success', null], ['failure', 'delivery_failed'], ['success', null], ['failure', 'delivery_failed']]);
  const [made, failed] = codes.body.events;
  assert.equal(failed.detail.id, made.detail.id);
  assert.equal(failed.factor.type, 'sms');
  assert.ok(failed.user_agent, 'the failure carries the request it happened in');
  assert.ok(!codes.text.includes('7400 123456') && !codes.text.includes('7400123456'), 'never the full number');
});

test('calling codes and hourly limits refuse with nothing sent', async () => {
  const tenant = await codeTenant({ sms_calling_codes: ['1'], max_sms_per_hour: 2 });
  const ticket = await ticketFor(tenant, 'abroad');
  const count = () => receiver.deliveries.filter((d) => d.payload?.data?.tenant_name === `Tenant ${tenant.id}`).length;
  const before = count();
  const uk = await api('POST', `/v1/${tenant.id}/enroll`, { token: ticket, body: { type: 'sms', to: NUMBER } });
  assertProblem(uk, 403, 'forbidden');
  assert.equal(count(), before, 'nothing sent');
  // Not mobile: a UK premium-rate number; not E.164; not a number; letters, which
  // the `phonenumber` crate took for keypad digits (+1 650 253 000o was …0006).
  for (const bad of ['+44 909 8790000', '07400123456', '+999 123', '+1 abc', '+1 650 253 000o', '+44 7400 12345a']) {
    assertProblem(await api('POST', `/v1/${tenant.id}/enroll`, { token: ticket, body: { type: 'sms', to: bad } }), 400, 'invalid_request');
  }
  // Two SMS an hour for the whole tenant: the third is refused, for anyone.
  for (const user of ['us1', 'us2']) {
    const r = await api('POST', `/v1/${tenant.id}/enroll`, { token: await ticketFor(tenant, user), body: { type: 'sms', to: '+1 650 253 0000' } });
    assert.equal(r.status, 201, r.text);
  }
  const sentSoFar = count();
  const third = await api('POST', `/v1/${tenant.id}/enroll`, { token: await ticketFor(tenant, 'us3'), body: { type: 'sms', to: '+1 650 253 0001' } });
  assertProblem(third, 429, 'rate_limited');
  assert.ok(Number(third.headers.get('retry-after')) > 0);
  assert.equal(count(), sentSoFar, 'nothing sent');
  const refused = await api('GET', `/v1/${tenant.id}/admin/audit?user=us3&type=code.sent`, { token: tenant.admin_key });
  assert.deepEqual(refused.body.events.map((e) => e.reason ?? null), [null, 'rate_limited']);
  // Without a ticket, nothing at all.
  assertProblem(await api('POST', `/v1/${tenant.id}/enroll`, { body: { type: 'sms', to: '+1 650 253 0000' } }), 401, 'unauthorized');
});

test('a policy offering only SMS needs the webhook first', async () => {
  const tenant = await createTenant();
  const refused = await api('PATCH', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key, body: { allowed_methods: ['sms', 'backup_code'], default_method: 'sms' } });
  assertProblem(refused, 400, 'invalid_request');
  assert.match(refused.body.detail, /webhook/);
  await api('PUT', `/v1/${tenant.id}/admin/webhook`, { token: tenant.admin_key, body: { url: receiver.url } });
  const ok = await api('PATCH', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key, body: { allowed_methods: ['sms', 'backup_code'], default_method: 'sms' } });
  assert.equal(ok.status, 200, ok.text);
});

test('the README\'s receiver (docs/examples/receiver.mjs) takes a code edge-mfa sends', async () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = readme.match(/^```js file=docs\/examples\/receiver\.mjs\n([\s\S]*?)^```$/m);
  assert.ok(block, 'the README shows the file');
  assert.equal(block[1], readFileSync(new URL('../../docs/examples/receiver.mjs', import.meta.url), 'utf8'));
  const tenant = await createTenant({ allowed_methods: ['totp', 'sms'] });
  const events = [];
  const server = await new Promise((ok) => {
    const s = startExampleReceiver({ secret: 'whsec_' + Buffer.alloc(32, 7).toString('base64'), deliver: (e) => events.push(e), port: 0 });
    s.on('listening', () => ok(s));
  });
  try {
    const url = `http://127.0.0.1:${server.address().port}/`;
    const hook = await api('PUT', `/v1/${tenant.id}/admin/webhook`, { token: tenant.admin_key, body: { url } });
    server.close();
    // The example needs the tenant's secret: start it again with the real one.
    const real = await new Promise((ok) => {
      const s = startExampleReceiver({ secret: hook.body.secret, deliver: (e) => events.push(e), port: 0 });
      s.on('listening', () => ok(s));
    });
    try {
      await api('PUT', `/v1/${tenant.id}/admin/webhook`, { token: tenant.admin_key, body: { url: `http://127.0.0.1:${real.address().port}/` } });
      const ticket = await ticketFor(tenant, 'readme');
      const enroll = await api('POST', `/v1/${tenant.id}/enroll`, { token: ticket, body: { type: 'sms', to: NUMBER } });
      assert.equal(enroll.status, 201, enroll.text);
      const event = events.find((e) => e.type === 'mfa.code.sms');
      assert.equal(event.data.enrollment_id, enroll.body.enrollment_id);
      const confirm = await api('POST', `/v1/${tenant.id}/enroll/${enroll.body.enrollment_id}/confirm`, { token: ticket, body: { code: event.data.code } });
      assert.equal(confirm.status, 201, confirm.text);
    } finally {
      real.close();
    }
  } finally {
    server.close();
  }
});
