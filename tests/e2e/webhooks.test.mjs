// The tenant's webhook (API.md "Webhooks"): the admin resource, URL rules, the
// secret (shown once, rotated with both signatures for 24 h), and a test send that
// a real receiver checks with `standardwebhooks`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, assertProblem, createTenant } from './client.mjs';
import { startReceiver } from './receiver.mjs';

let receiver;
before(async () => { receiver = await startReceiver(); });
after(async () => receiver?.close());

const hook = (tenant, method, path = '', body) => api(method, `/v1/${tenant.id}/admin/webhook${path}`, { token: tenant.admin_key, body });

test('the webhook: the first PUT shows the secret once; GET never does; a later PUT keeps it', async () => {
  const tenant = await createTenant();
  assertProblem(await hook(tenant, 'GET'), 404, 'not_found');
  const first = await hook(tenant, 'PUT', '', { url: receiver.url });
  assert.equal(first.status, 200, first.text);
  assert.match(first.body.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  assert.equal(Buffer.from(first.body.secret.slice(6), 'base64').length, 32);
  assert.equal(first.body.url, receiver.url);
  assert.ok(first.body.events.includes('factor.enrolled') && first.body.events.includes('webhook.test'));
  const shown = await hook(tenant, 'GET');
  assert.deepEqual(shown.body, { url: receiver.url, events: first.body.events, secret_set: true });
  assert.ok(!shown.text.includes(first.body.secret.slice(6)));
  const second = await hook(tenant, 'PUT', '', { url: `${receiver.url}?again=1`, events: ['factor.enrolled', 'webhook.test'] });
  assert.equal(second.status, 200, second.text);
  assert.equal(second.body.secret, undefined, 'the secret is made once');
  assert.deepEqual(second.body.events, ['factor.enrolled', 'webhook.test']);
  // The test send is signed with the secret of the first PUT.
  receiver.trust(first.body.secret);
  const sent = await hook(tenant, 'POST', '/test');
  assert.equal(sent.status, 200, sent.text);
  assert.equal(sent.body.status, 204);
  assert.ok(Number.isInteger(sent.body.duration_ms) && sent.body.duration_ms >= 0);
  const delivery = await receiver.waitFor((d) => d.payload?.type === 'webhook.test' && d.payload.data.tenant === tenant.id);
  assert.deepEqual(delivery.verifiedWith, [first.body.secret], 'standardwebhooks verifies the signature');
  assert.equal(delivery.contentType, 'application/json');
  assert.match(delivery.headers['webhook-id'], /^msg_/);
  assert.match(delivery.payload.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(Math.abs(Number(delivery.headers['webhook-timestamp']) - Date.now() / 1000) < 60);
  assert.ok(!delivery.raw.includes(first.body.secret.slice(6)), 'no secret in a payload');
  // Admins only.
  assertProblem(await api('GET', `/v1/${tenant.id}/admin/webhook`, { token: 'nope' }), 401, 'unauthorized');
});

test('rotating the secret: for 24 h both sign, each verifying on its own', async () => {
  const tenant = await createTenant();
  const { body: { secret: old } } = await hook(tenant, 'PUT', '', { url: receiver.url });
  const rotated = await hook(tenant, 'POST', '/secret');
  assert.equal(rotated.status, 200, rotated.text);
  const fresh = rotated.body.secret;
  assert.match(fresh, /^whsec_/);
  assert.notEqual(fresh, old);
  const view = await hook(tenant, 'GET');
  assert.ok(view.body.previous_secret_until > Date.now() / 1000 + 86_000, view.text);
  receiver.trust(old, fresh);
  assert.equal((await hook(tenant, 'POST', '/test')).status, 200);
  const d = await receiver.waitFor((x) => x.payload?.type === 'webhook.test' && x.payload.data.tenant === tenant.id);
  assert.equal(d.headers['webhook-signature'].split(' ').length, 2, d.headers['webhook-signature']);
  assert.deepEqual(d.verifiedWith.sort(), [old, fresh].sort(), 'each secret alone verifies the delivery');
  // Only the admin's rotation shows a secret; no webhook, no rotation.
  const bare = await createTenant();
  assertProblem(await hook(bare, 'POST', '/secret'), 404, 'not_found');
});

test('a webhook that does not take the delivery is 502 delivery_failed: an error status, a timeout', async () => {
  const tenant = await createTenant();
  await hook(tenant, 'PUT', '', { url: receiver.url });
  receiver.answer(() => ({ status: 500 }));
  try {
    const failed = await hook(tenant, 'POST', '/test');
    assertProblem(failed, 502, 'delivery_failed');
    assert.match(failed.body.detail, /500/);
    receiver.answer(() => ({ status: 204, delayMs: 6_500 }));
    const started = Date.now();
    const slow = await hook(tenant, 'POST', '/test');
    assertProblem(slow, 502, 'delivery_failed');
    assert.ok(Date.now() - started < 6_400, `gave up after the 5 s deadline (${Date.now() - started} ms)`);
  } finally {
    receiver.answer(() => ({ status: 204 }));
  }
});

test('webhook URLs: https, loopback http only where allowed, compared after parsing; the policy no longer holds one', async () => {
  const tenant = await createTenant();
  for (const url of [
    'http://hooks.example.com/mfa',
    'http://localhost.attacker.example/hook',
    'http://127.0.0.1@attacker.example/hook',
    'https://user:pass@hooks.example.com/',
    'https://user@hooks.example.com/',
    'ftp://hooks.example.com/',
    'javascript:alert(1)',
    'localhost:8080/hook',
    'https://hooks.example.com/#fragment',
    'https://169.254.169.254/latest/meta-data/',
    'https://10.0.0.1/hook',
    'https://[fd00::1]/hook',
    'https://intranet/hook',
    '',
  ]) {
    const r = await hook(tenant, 'PUT', '', { url });
    assertProblem(r, 400, 'invalid_request');
  }
  assertProblem(await hook(tenant, 'PUT', '', { url: 'https://hooks.example.com/', events: ['factor.exploded'] }), 400, 'invalid_request');
  assertProblem(await hook(tenant, 'PUT', '', { url: 'https://hooks.example.com/', secret: 'whsec_mine' }), 400, 'invalid_request');
  assert.equal((await hook(tenant, 'PUT', '', { url: 'https://hooks.example.com/mfa' })).status, 200);
  for (const delivery of [{ webhook_url: 'https://hooks.example.com/' }, { webhook_secret: 'whsec_x' }]) {
    const r = await api('PATCH', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key, body: { delivery } });
    assertProblem(r, 400, 'invalid_request');
    assert.match(r.body.detail, /webhook resource|admin\/webhook/);
  }
});
