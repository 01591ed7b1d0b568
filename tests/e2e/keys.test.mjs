// Rotating the tenant's keys (API.md "Admin additions"): the token-signing key
// (JWKS lists old and new until retired), the ticket secret (the old one accepted
// for 24 h or until retired), the admin key (the old one stops at once).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { mintTicket } from '../../scripts/lib/ticket.mjs';
import { api, assertProblem, at, createTenant, enrollTotp, now, oathtool } from './client.mjs';

const keys = (tenant, which, action) => api('POST', `/v1/${tenant.id}/admin/keys/${which}/${action}`, { token: tenant.admin_key });
const jwks = async (tenant) => (await api('GET', `/v1/${tenant.id}/jwks.json`)).body;
const verifies = async (tenant, token) => {
  try {
    await jwtVerify(token, createLocalJWKSet(await jwks(tenant)), { issuer: `edge-mfa:${tenant.id}`, audience: tenant.id, algorithms: ['ES256'] });
    return true;
  } catch {
    return false;
  }
};

test('signing key: new tokens use the new key, the JWKS lists both until retired, step-up accepts either', async () => {
  const tenant = await createTenant();
  const user = await enrollTotp(tenant, 'sig');
  const verify = (t) => api('POST', `/v1/${tenant.id}/verify`, { token: user.ticket, body: { type: 'totp', code: oathtool(user.secret, t) }, headers: at(t) });
  const before = (await verify(user.t + 30)).body.mfa_token;
  const oldKid = decodeProtectedHeader(before).kid;
  const rotated = await keys(tenant, 'signing', 'rotate');
  assert.equal(rotated.status, 200, rotated.text);
  assert.notEqual(rotated.body.kid, oldKid);
  assert.deepEqual((await jwks(tenant)).keys.map((k) => k.kid), [rotated.body.kid, oldKid]);
  const after = (await verify(user.t + 60)).body.mfa_token;
  assert.equal(decodeProtectedHeader(after).kid, rotated.body.kid, 'new tokens use the new key');
  assert.ok(await verifies(tenant, before), 'a token of the old key still verifies');
  // Step-up with a token signed by the old key still counts while it is published.
  const regen = await api('POST', `/v1/${tenant.id}/backup-codes`, { token: user.ticket, headers: { 'x-mfa-token': before, ...at(user.t + 60) } });
  assert.equal(regen.status, 201, regen.text);
  // At most three published keys.
  assert.equal((await keys(tenant, 'signing', 'rotate')).status, 200);
  assertProblem(await keys(tenant, 'signing', 'rotate'), 409, 'conflict');
  assert.equal((await keys(tenant, 'signing', 'retire')).status, 204);
  assert.equal((await jwks(tenant)).keys.length, 1);
  assert.equal(await verifies(tenant, before), false, 'retired: old tokens no longer verify');
});

test('ticket secret: the old one works for 24 h or until retired; the new one at once', async () => {
  const tenant = await createTenant();
  const old = tenant.ticket_secret;
  const rotated = await keys(tenant, 'ticket-secret', 'rotate');
  assert.equal(rotated.status, 200, rotated.text);
  const fresh = rotated.body.ticket_secret;
  assert.notEqual(fresh, old);
  const assess = (secret, t = now()) => mintTicket({ tenant: tenant.id, secret, sub: 'tk', now: t })
    .then((ticket) => api('POST', `/v1/${tenant.id}/assess`, { token: ticket, headers: at(t) }));
  assert.equal((await assess(fresh)).status, 200);
  assert.equal((await assess(old)).status, 200, 'the old secret during the overlap');
  assert.equal((await assess(old, now() + 86_400 - 120)).status, 200);
  assertProblem(await assess(old, now() + 86_400 + 60), 401, 'unauthorized');
  assert.equal((await keys(tenant, 'ticket-secret', 'retire')).status, 204);
  assertProblem(await assess(old), 401, 'unauthorized');
  assert.equal((await assess(fresh)).status, 200);
});

test('admin key: the new one works, the old one stops at once', async () => {
  const tenant = await createTenant();
  const rotated = await keys(tenant, 'admin-key', 'rotate');
  assert.equal(rotated.status, 200, rotated.text);
  assert.match(rotated.body.admin_key, /^ak_[A-Za-z0-9_-]{43}$/);
  assertProblem(await api('GET', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key }), 401, 'unauthorized');
  assert.equal((await api('GET', `/v1/${tenant.id}/admin/policy`, { token: rotated.body.admin_key })).status, 200);
  assertProblem(await api('POST', `/v1/${tenant.id}/admin/keys/admin-key/retire`, { token: rotated.body.admin_key }), 404, 'not_found');
});

if (process.env.EDGE_MFA_RUNTIME === 'worker') test('Worker: tokens are signed and step-up tokens checked by workerd\'s node:crypto, and still verify with jose', async () => {
  const tenant = await createTenant();
  const user = await enrollTotp(tenant, 'native');
  const t = user.t + 30;
  const verified = await api('POST', `/v1/${tenant.id}/verify`, { token: user.ticket, body: { type: 'totp', code: oathtool(user.secret, t) }, headers: at(t) });
  assert.equal(verified.status, 200, verified.text);
  // Test hooks only: which implementation of the signature port this isolate runs.
  assert.equal(verified.headers.get('x-edge-mfa-crypto'), 'node');
  assert.ok(await verifies(tenant, verified.body.mfa_token));
  const stepUp = await api('POST', `/v1/${tenant.id}/backup-codes`, { token: user.ticket, headers: { 'x-mfa-token': verified.body.mfa_token, ...at(t) } });
  assert.equal(stepUp.status, 201, stepUp.text);
  // The same header and claims with a signature that is not the key's: no step-up.
  const [header, payload, signature] = verified.body.mfa_token.split('.');
  const forged = `${header}.${payload}.${signature.slice(0, 40)}${signature[40] === 'A' ? 'B' : 'A'}${signature.slice(41)}`;
  const refused = await api('POST', `/v1/${tenant.id}/backup-codes`, { token: user.ticket, headers: { 'x-mfa-token': forged, ...at(t) } });
  assert.equal(refused.status, 403, refused.text);
});
