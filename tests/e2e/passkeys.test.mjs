// Passkeys of every algorithm users' devices make — EdDSA (Ed25519), ES256 (P-256),
// RS256 (Windows Hello) — registered and used through the API on the real runtime,
// with a node:crypto software authenticator (the browser suite covers Chromium's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ORIGIN, api, createTenant, enrollPasskey, ticketFor, verifyMfaToken } from './client.mjs';
import { SoftAuthenticator } from './soft_authenticator.mjs';

for (const [algorithm, alg] of [['EdDSA', -8], ['ES256', -7], ['RS256', -257]]) {
  test(`passkeys of every algorithm: ${algorithm} (${alg}) registers, signs in, and is refused when tampered`, async () => {
    const tenant = await createTenant();
    const ticket = await ticketFor(tenant, `pk-${algorithm}`);
    const options = await api('POST', `/v1/${tenant.id}/enroll`, { token: ticket, body: { type: 'webauthn' } });
    assert.deepEqual(options.body.public_key.pubKeyCredParams.map((p) => p.alg), [-8, -7, -257], 'offered by default');
    const passkey = await enrollPasskey(tenant, ticket, undefined, { algorithm });
    assert.equal(passkey.type, 'webauthn');
    for (let round = 0; round < 2; round++) {
      const challenge = await api('POST', `/v1/${tenant.id}/challenge`, { token: ticket, body: { type: 'webauthn' } });
      assert.equal(challenge.status, 201, challenge.text);
      const credential = passkey.authenticator.assert(challenge.body.public_key);
      if (round === 0) {
        // One flipped bit of the signature: refused, and the challenge stays open.
        const bad = structuredClone(credential);
        const sig = Buffer.from(bad.response.signature, 'base64url');
        sig[sig.length - 1] ^= 1;
        bad.response.signature = sig.toString('base64url');
        const refused = await api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { challenge_id: challenge.body.challenge_id, credential: bad } });
        assert.equal(refused.status, 422, refused.text);
      }
      const ok = await api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { challenge_id: challenge.body.challenge_id, credential } });
      assert.equal(ok.status, 200, ok.text);
      const claims = await verifyMfaToken(tenant, ok.body.mfa_token);
      assert.deepEqual([claims.mfa_method, claims.amr], ['webauthn', ['hwk', 'user']]);
    }
  });
}

test('a tenant may offer one algorithm only; a key of another is refused', async () => {
  const tenant = await createTenant({ webauthn: { user_verification: 'preferred', attestation: 'none', algorithms: [-257] } });
  const ticket = await ticketFor(tenant, 'only-rs256');
  const enroll = await api('POST', `/v1/${tenant.id}/enroll`, { token: ticket, body: { type: 'webauthn' } });
  assert.deepEqual(enroll.body.public_key.pubKeyCredParams, [{ type: 'public-key', alg: -257 }]);
  const credential = new SoftAuthenticator({ origin: ORIGIN, algorithm: 'EdDSA' }).register(enroll.body.public_key);
  const r = await api('POST', `/v1/${tenant.id}/enroll/${enroll.body.enrollment_id}/confirm`, { token: ticket, body: { credential } });
  assert.equal(r.status, 422, r.text);
  assert.match(r.body.detail, /algorithm -8 was not offered/);
});

// The WebAuthn spec's test-vector attestation CA (fixtures/w3c), as a tenant's root.
const SPEC_CA = 'MIICBzCCAa2gAwIBAgIRAO1/kF2L0LQU0XhJExcKkLYwCgYIKoZIzj0EAwIwYjEeMBwGA1UEAwwVV2ViQXV0aG4gdGVzdCB2ZWN0b3JzMQwwCgYDVQQKDANXM0MxJTAjBgNVBAsMHEF1dGhlbnRpY2F0b3IgQXR0ZXN0YXRpb24gQ0ExCzAJBgNVBAYTAkFBMCAXDTI0MDEwMTAwMDAwMFoYDzMwMjQwMTAxMDAwMDAwWjBiMR4wHAYDVQQDDBVXZWJBdXRobiB0ZXN0IHZlY3RvcnMxDDAKBgNVBAoMA1czQzElMCMGA1UECwwcQXV0aGVudGljYXRvciBBdHRlc3RhdGlvbiBDQTELMAkGA1UEBhMCQUEwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQyaTAOX/e2mQFfcM+AqHY79wW8LirwwbOc/3GLfDWIDKMPMZB42RsDOJoAb9/IodzYTt+gfTCqE0dKJIoNq1uqo0IwQDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAdBgNVHQ4EFgQURa/3FbDdeGdB/umW68FlR6OTGx4wCgYIKoZIzj0EAwIDSAAwRQIgSDBjtrsI3Mg9ozoCwR0vQiAxdok1VNE4xhSjaQhyTMgCIQD17yyRLUUAs+L1tZHQYiSR6fIg39H5c07EhLt+kIh2Yw==';

test('trust anchors: only attested authenticators whose path leads to a root register', async () => {
  const tenant = await createTenant();
  const put = (webauthn) => api('PUT', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key, body: { webauthn } });
  let r = await put({ attestation: 'none', attestation_roots: [SPEC_CA] });
  assert.equal(r.status, 400, r.text);
  assert.match(r.body.detail, /attestation direct or enterprise/);
  r = await put({ attestation: 'direct', attestation_roots: ['bm90IGEgY2VydGlmaWNhdGU='] });
  assert.equal(r.status, 400, r.text);
  assert.match(r.body.detail, /attestation_roots\[0\]/);
  r = await put({ attestation: 'direct', attestation_roots: [SPEC_CA] });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.webauthn.attestation_roots, [SPEC_CA]);
  // A passkey with attestation "none" (as most are) is not from that root.
  const ticket = await ticketFor(tenant, 'anchored');
  const enroll = await api('POST', `/v1/${tenant.id}/enroll`, { token: ticket, body: { type: 'webauthn' } });
  assert.equal(enroll.body.public_key.attestation, 'direct');
  const credential = new SoftAuthenticator({ origin: ORIGIN }).register(enroll.body.public_key);
  const refused = await api('POST', `/v1/${tenant.id}/enroll/${enroll.body.enrollment_id}/confirm`, { token: ticket, body: { credential } });
  assert.equal(refused.status, 422, refused.text);
  assert.match(refused.body.detail, /attestation not trusted: the tenant accepts only attested authenticators/);
});
