// The client's address and country come only from the platform. This file starts a
// second runtime of the kind under test configured as production is (test hooks
// off) and sends it what an attacker would: X-Edge-MFA-Test-* headers and, on Spin,
// a spin-client-addr of its own choosing (Spin appends its own after the client's;
// the test host does the same).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ORIGIN, api, assertProblem, createTenant, enrollTotp, now, oathtool, uniqueId } from './client.mjs';
import { runtimes } from './runtimes.mjs';

const kind = process.env.EDGE_MFA_RUNTIME;
let production;

before(async () => {
  const start = runtimes[kind];
  assert.ok(start, `EDGE_MFA_RUNTIME ${kind} is not a runtime`);
  production = await start({ testHooks: false });
});
after(async () => production?.stop());

const forged = {
  'x-edge-mfa-test-ip': '198.51.100.7',
  'x-edge-mfa-test-country': 'KP',
  'x-edge-mfa-test-now': String(now() + 3600),
  'spin-client-addr': '198.51.100.7:443',
};

test('with the test hooks off, forged client headers do not reach the policy', async () => {
  const base = production.baseUrl;
  const tenant = await createTenant({
    mode: 'adaptive',
    adaptive: {
      trusted_networks: ['198.51.100.0/24'], challenge_new_device: true, challenge_new_country: false, deny_countries: ['KP'],
      // Spin tells no country: a country rule there needs the tenant to say it knows.
      ...(kind === 'spin' ? { no_country_acknowledged: true } : {}),
    },
  }, [], { base, operatorKey: production.operatorKey });
  const user = await enrollTotp(tenant, 'mallory', { base });
  const assess = await api('POST', `/v1/${tenant.id}/assess`, { base, token: user.ticket, headers: forged });
  // Honoured, these would give allow (trusted network), deny (country), or 401
  // (the ticket expired at the forged time).
  assert.equal(assess.status, 200, assess.text);
  assert.deepEqual([assess.body.action, assess.body.reasons], ['challenge', ['new_device']]);
  assert.equal(assess.body.mfa_token, undefined);
  const verify = await api('POST', `/v1/${tenant.id}/verify`, { base, token: user.ticket, body: { type: 'totp', code: oathtool(user.secret, user.t + 30) }, headers: forged });
  assert.equal(verify.status, 200, `the forged country is not the client's: ${verify.text}`);
});

test('country rules are refused where the platform tells no country, unless acknowledged', async () => {
  const base = production.baseUrl;
  const create = (adaptive) => api('POST', '/v1/tenants', {
    base, token: production.operatorKey,
    body: { id: uniqueId('t'), name: 'Countries', rp_id: 'localhost', origins: [ORIGIN], policy: { mode: 'adaptive', adaptive } },
  });
  for (const adaptive of [{}, { challenge_new_country: false, deny_countries: ['XX'] }]) {
    const r = await create(adaptive);
    if (kind === 'spin') {
      assertProblem(r, 400, 'invalid_request');
      assert.match(r.body.detail, /does not tell the client's country.*no_country_acknowledged/);
    } else {
      assert.equal(r.status, 201, `Workers tell the country (request.cf): ${r.text}`);
    }
  }
  for (const adaptive of [{ challenge_new_country: false }, { deny_countries: ['XX'], no_country_acknowledged: true }]) {
    const r = await create(adaptive);
    assert.equal(r.status, 201, r.text);
  }
});

test('loopback webhooks are refused where the deployment does not enable them (production)', async () => {
  const base = production.baseUrl;
  const tenant = await createTenant(undefined, [], { base, operatorKey: production.operatorKey });
  for (const url of ['http://127.0.0.1:9/hook', 'http://localhost/hook', 'http://[::1]/hook']) {
    const r = await api('PUT', `/v1/${tenant.id}/admin/webhook`, { base, token: tenant.admin_key, body: { url } });
    assertProblem(r, 400, 'invalid_request');
    assert.match(r.body.detail, /loopback webhooks/);
  }
});

test('the platform\'s own client address is what the policy reads', async () => {
  const base = production.baseUrl;
  // The suite reaches the runtime over loopback: that is the address the platform sees.
  const tenant = await createTenant({
    mode: 'adaptive',
    adaptive: { trusted_networks: ['127.0.0.0/8', '::1/128'], challenge_new_device: true, challenge_new_country: false, deny_countries: [] },
  }, [], { base, operatorKey: production.operatorKey });
  const user = await enrollTotp(tenant, 'carol', { base });
  const assess = await api('POST', `/v1/${tenant.id}/assess`, { base, token: user.ticket, headers: { 'spin-client-addr': '203.0.113.9:1' } });
  assert.equal(assess.status, 200, assess.text);
  assert.deepEqual([assess.body.action, assess.body.reasons], ['allow', ['trusted_network']]);
});
