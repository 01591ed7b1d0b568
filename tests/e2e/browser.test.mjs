// WebAuthn end to end in a real browser: Debian's Chromium driven by playwright-core,
// with CDP virtual authenticators, against the demo page served by the runtime.
// Chromium missing is a failure, not a skip.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium } from './chromium.mjs';
import { api, BASE, createTenant, ticketFor, verifyMfaToken } from './client.mjs';

let browser;

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

const CTAP2_INTERNAL_UV = { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true };
const U2F_USB = { protocol: 'u2f', transport: 'usb', hasResidentKey: false, hasUserVerification: false, automaticPresenceSimulation: true };

/// The demo page for `sub` of `tenant`, with a virtual authenticator attached.
async function demo(tenant, sub, authenticator) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const ticket = await ticketFor(tenant, sub, { ttl: 900 });
  await page.goto(`${BASE}/demo/#tenant=${tenant.id}&ticket=${ticket}`);
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: authenticator });
  return { page, cdp, authenticatorId, ticket, close: () => context.close() };
}

/// Runs a WebAuthn ceremony in the page through the API, with the browser's JSON
/// helpers. Returns { status, body } of the confirm/verify call and the credential JSON.
async function inPage(page, fn, args) {
  return page.evaluate(fn, args);
}

const register = (page, args) => inPage(page, async ({ tenant, ticket, stepUp, name }) => {
  const headers = { authorization: `Bearer ${ticket}`, 'content-type': 'application/json', ...(stepUp ? { 'x-mfa-token': stepUp } : {}) };
  const e = await fetch(`/v1/${tenant}/enroll`, { method: 'POST', headers, body: JSON.stringify({ type: 'webauthn', name }) });
  const enrollment = await e.json();
  if (e.status !== 201) return { status: e.status, body: enrollment };
  const credential = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(enrollment.public_key) });
  const json = credential.toJSON();
  const r = await fetch(`/v1/${tenant}/enroll/${enrollment.enrollment_id}/confirm`, { method: 'POST', headers, body: JSON.stringify({ credential: json }) });
  return { status: r.status, body: await r.json(), credential: json, options: enrollment.public_key };
}, args);

const challenge = (page, { tenant, ticket }) => inPage(page, async ({ tenant, ticket }) => {
  const r = await fetch(`/v1/${tenant}/challenge`, { method: 'POST', headers: { authorization: `Bearer ${ticket}`, 'content-type': 'application/json' }, body: JSON.stringify({ type: 'webauthn' }) });
  return r.json();
}, { tenant, ticket });

/// Gets an assertion for `options` (optionally with another allowCredentials).
const assertion = (page, { options, allow }) => inPage(page, async ({ options, allow }) => {
  const o = allow ? { ...options, allowCredentials: allow } : options;
  const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(o) });
  return credential.toJSON();
}, { options, allow });

const verify = (page, { tenant, ticket, challenge_id, credential }) => inPage(page, async ({ tenant, ticket, challenge_id, credential }) => {
  const r = await fetch(`/v1/${tenant}/verify`, { method: 'POST', headers: { authorization: `Bearer ${ticket}`, 'content-type': 'application/json' }, body: JSON.stringify({ challenge_id, credential }) });
  return { status: r.status, body: await r.json() };
}, { tenant, ticket, challenge_id, credential });

async function signIn(page, tenant, ticket) {
  const c = await challenge(page, { tenant: tenant.id, ticket });
  assert.ok(c.public_key, JSON.stringify(c));
  const credential = await assertion(page, { options: c.public_key });
  const r = await verify(page, { tenant: tenant.id, ticket, challenge_id: c.challenge_id, credential });
  return { ...r, challenge: c, credential };
}

const demoTenant = (policy) => createTenant(policy, [new URL(BASE).origin]);

test('ctap2 internal with UV: a passkey registers and signs in twice on the demo origin; the token verifies', async () => {
  const tenant = await demoTenant({ webauthn: { user_verification: 'required' } });
  const d = await demo(tenant, 'alice', CTAP2_INTERNAL_UV);
  try {
    // The prompt's own flow is tests/e2e/prompt.test.mjs; here the ceremony by hand.
    const reg = await register(d.page, { tenant: tenant.id, ticket: d.ticket, name: 'Laptop' });
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    assert.equal(reg.body.factor.name, 'Laptop');
    assert.equal(reg.body.backup_codes.length, 10);
    const first = await verifyMfaToken(tenant, reg.body.mfa_token);
    assert.equal(first.mfa_method, 'webauthn', 'the first factor signs the user in');
    const options = await api('GET', `/v1/${tenant.id}/factors`, { token: d.ticket });
    assert.equal(options.body.factors.length, 1);
    assert.equal(options.body.factors[0].type, 'webauthn');

    for (const round of [1, 2]) {
      const r = await signIn(d.page, tenant, d.ticket);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const claims = await verifyMfaToken(tenant, r.body.mfa_token);
      assert.equal(claims.sub, 'alice');
      assert.equal(claims.mfa_method, 'webauthn');
      assert.deepEqual(claims.amr, ['hwk', 'user']);
      const { credentials } = await d.cdp.send('WebAuthn.getCredentials', { authenticatorId: d.authenticatorId });
      assert.equal(credentials[0].signCount, round + 1, 'the counter rises with each sign-in (1 at registration)');
    }
  } finally {
    await d.close();
  }
});

test('u2f over usb registers and signs in (fido-u2f attestation when asked for direct)', async () => {
  const tenant = await demoTenant({ webauthn: { user_verification: 'discouraged', attestation: 'direct' } });
  const d = await demo(tenant, 'bob', U2F_USB);
  try {
    const reg = await register(d.page, { tenant: tenant.id, ticket: d.ticket, name: 'YubiKey' });
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    assert.equal(reg.options.attestation, 'direct');
    assert.equal(reg.options.authenticatorSelection.userVerification, 'discouraged');
    const r = await signIn(d.page, tenant, d.ticket);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const claims = await verifyMfaToken(tenant, r.body.mfa_token);
    assert.deepEqual(claims.amr, ['hwk']);
  } finally {
    await d.close();
  }
});

test('creation options: rp, stable opaque user.id, algorithms, excludeCredentials; adding a key needs step-up', async () => {
  const tenant = await demoTenant();
  const d = await demo(tenant, 'carol@example.test', CTAP2_INTERNAL_UV);
  try {
    const first = await register(d.page, { tenant: tenant.id, ticket: d.ticket });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.deepEqual(first.options.rp, { id: 'localhost', name: `Tenant ${tenant.id}` });
    assert.deepEqual(first.options.pubKeyCredParams, [-8, -7, -257].map((alg) => ({ type: 'public-key', alg })));
    assert.deepEqual(first.options.excludeCredentials, []);
    assert.ok(!first.options.user.id.includes('carol'), 'user.id is opaque');
    assert.equal(Buffer.from(first.options.user.id, 'base64url').length, 32);

    const bare = await register(d.page, { tenant: tenant.id, ticket: d.ticket });
    assert.equal(bare.status, 403);
    assert.equal(bare.body.code, 'step_up_required');

    const signed = await signIn(d.page, tenant, d.ticket);
    assert.equal(signed.status, 200);
    const second = await inPage(d.page, async ({ tenant, ticket, stepUp }) => {
      const r = await fetch(`/v1/${tenant}/enroll`, { method: 'POST', headers: { authorization: `Bearer ${ticket}`, 'content-type': 'application/json', 'x-mfa-token': stepUp }, body: JSON.stringify({ type: 'webauthn' }) });
      return { status: r.status, body: await r.json() };
    }, { tenant: tenant.id, ticket: d.ticket, stepUp: signed.body.mfa_token });
    assert.equal(second.status, 201, JSON.stringify(second.body));
    assert.equal(second.body.public_key.user.id, first.options.user.id, 'user.id is stable');
    assert.deepEqual(second.body.public_key.excludeCredentials.map((c) => c.id), [first.credential.rawId]);

    // Rename and delete, each with step-up.
    const factors = await api('GET', `/v1/${tenant.id}/factors`, { token: d.ticket });
    const id = factors.body.factors[0].id;
    const bareRename = await api('PATCH', `/v1/${tenant.id}/factors/${id}`, { token: d.ticket, body: { name: 'Work key' } });
    assert.equal(bareRename.status, 403, bareRename.text);
    const renamed = await api('PATCH', `/v1/${tenant.id}/factors/${id}`, { token: d.ticket, body: { name: 'Work key' }, headers: { 'x-mfa-token': signed.body.mfa_token } });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.body.factor.name, 'Work key');
    const noStepUp = await api('DELETE', `/v1/${tenant.id}/factors/${id}`, { token: d.ticket });
    assert.equal(noStepUp.status, 403);
    const deleted = await api('DELETE', `/v1/${tenant.id}/factors/${id}`, { token: d.ticket, headers: { 'x-mfa-token': signed.body.mfa_token } });
    assert.equal(deleted.status, 204);
  } finally {
    await d.close();
  }
});

test('replaying the last assertion is refused, with the old or a new challenge', async () => {
  const tenant = await demoTenant();
  const d = await demo(tenant, 'dan', CTAP2_INTERNAL_UV);
  try {
    assert.equal((await register(d.page, { tenant: tenant.id, ticket: d.ticket })).status, 201);
    const ok = await signIn(d.page, tenant, d.ticket);
    assert.equal(ok.status, 200);
    const sameChallenge = await verify(d.page, { tenant: tenant.id, ticket: d.ticket, challenge_id: ok.challenge.challenge_id, credential: ok.credential });
    assert.equal(sameChallenge.status, 410, JSON.stringify(sameChallenge.body));
    const fresh = await challenge(d.page, { tenant: tenant.id, ticket: d.ticket });
    const newChallenge = await verify(d.page, { tenant: tenant.id, ticket: d.ticket, challenge_id: fresh.challenge_id, credential: ok.credential });
    assert.equal(newChallenge.status, 422, JSON.stringify(newChallenge.body));
    assert.equal(newChallenge.body.code, 'verification_failed');
  } finally {
    await d.close();
  }
});

test('user verification switched off under a UV-required policy is refused', async () => {
  const tenant = await demoTenant({ webauthn: { user_verification: 'required' } });
  const d = await demo(tenant, 'erin', CTAP2_INTERNAL_UV);
  try {
    assert.equal((await register(d.page, { tenant: tenant.id, ticket: d.ticket })).status, 201);
    await d.cdp.send('WebAuthn.setUserVerified', { authenticatorId: d.authenticatorId, isUserVerified: false });
    const c = await challenge(d.page, { tenant: tenant.id, ticket: d.ticket });
    // A client that does not ask for UV (as a tampered page would not) gets an
    // assertion without the UV flag; the server's policy still requires it.
    const attempt = await inPage(d.page, async ({ options }) => {
      try {
        const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON({ ...options, userVerification: 'discouraged' }) });
        return { credential: credential.toJSON() };
      } catch (e) {
        return { error: String(e) };
      }
    }, { options: c.public_key });
    assert.ok(attempt.credential, `the authenticator should answer without UV: ${attempt.error}`);
    const r = await verify(d.page, { tenant: tenant.id, ticket: d.ticket, challenge_id: c.challenge_id, credential: attempt.credential });
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.match(r.body.detail, /user verification/);
  } finally {
    await d.close();
  }
});

test('a bogus signature from the authenticator is 422', async () => {
  const tenant = await demoTenant();
  const d = await demo(tenant, 'fay', CTAP2_INTERNAL_UV);
  try {
    assert.equal((await register(d.page, { tenant: tenant.id, ticket: d.ticket })).status, 201);
    await d.cdp.send('WebAuthn.setResponseOverrideBits', { authenticatorId: d.authenticatorId, isBogusSignature: true });
    const r = await signIn(d.page, tenant, d.ticket);
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.match(r.body.detail, /signature/);
  } finally {
    await d.close();
  }
});

test('user A\'s credential presented for user B is refused', async () => {
  const tenant = await demoTenant();
  const d = await demo(tenant, 'gus', CTAP2_INTERNAL_UV);
  try {
    const a = await register(d.page, { tenant: tenant.id, ticket: d.ticket });
    assert.equal(a.status, 201);
    const bTicket = await ticketFor(tenant, 'hal', { ttl: 900 });
    const b = await register(d.page, { tenant: tenant.id, ticket: bTicket });
    assert.equal(b.status, 201);
    const c = await challenge(d.page, { tenant: tenant.id, ticket: bTicket });
    // Ask the authenticator for A's credential over B's challenge.
    const credential = await assertion(d.page, { options: c.public_key, allow: [{ type: 'public-key', id: a.credential.rawId }] });
    assert.equal(credential.rawId, a.credential.rawId);
    const r = await verify(d.page, { tenant: tenant.id, ticket: bTicket, challenge_id: c.challenge_id, credential });
    assert.equal(r.status, 422, JSON.stringify(r.body));
    // And B's own credential still works.
    const own = await signIn(d.page, tenant, bTicket);
    assert.equal(own.status, 200, JSON.stringify(own.body));
  } finally {
    await d.close();
  }
});

test('Chromium\'s authenticator with each algorithm a tenant offers (EdDSA, ES256, RS256): the key it makes registers and signs in', async () => {
  for (const alg of [-8, -7, -257]) {
    const tenant = await demoTenant({ webauthn: { user_verification: 'preferred', attestation: 'none', algorithms: [alg] } });
    const d = await demo(tenant, `alg${alg}`, CTAP2_INTERNAL_UV);
    try {
      const reg = await register(d.page, { tenant: tenant.id, ticket: d.ticket });
      assert.equal(reg.status, 201, `alg ${alg}: ${JSON.stringify(reg.body)}`);
      // The algorithm of the key the authenticator made, as the browser reports it.
      assert.equal(reg.credential.response.publicKeyAlgorithm, alg);
      const signed = await signIn(d.page, tenant, d.ticket);
      assert.equal(signed.status, 200, `alg ${alg}: ${JSON.stringify(signed.body)}`);
      assert.equal((await verifyMfaToken(tenant, signed.body.mfa_token)).mfa_method, 'webauthn');
    } finally {
      await d.close();
    }
  }
});
