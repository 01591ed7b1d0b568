// TOTP end to end: enrollment QR decoded by zbarimg, codes from oathtool, the
// mfa_token checked by jose against the published JWKS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import { ORIGIN, OPERATOR_KEY, api, assertProblem, createTenant, decodeQr, enrollTotp, now, oathtool, ticketFor, uniqueId, verifyMfaToken } from './client.mjs';

test('enroll with the QR code, confirm and verify with oathtool codes, token verifies with jose', async () => {
  const tenant = await createTenant();
  const ticket = await ticketFor(tenant, 'alice', { extra: { email: 'alice@example.test' } });
  const enroll = await api('POST', `/v1/${tenant.id}/enroll`, { token: ticket, body: { type: 'totp' } });
  assert.equal(enroll.status, 201, enroll.text);
  const { enrollment_id, secret, otpauth_uri, qr_svg, expires_at } = enroll.body;
  assert.equal(enroll.body.type, 'totp');
  assert.match(secret, /^[A-Z2-7]{32}$/, '160-bit base32 secret');
  assert.ok(expires_at > now() + 500 && expires_at <= now() + 601, 'pending for 10 minutes');
  assert.equal(decodeQr(qr_svg), otpauth_uri, 'the QR code carries the otpauth URI');
  const uri = new URL(otpauth_uri);
  assert.equal(uri.protocol, 'otpauth:');
  assert.equal(uri.host, 'totp');
  assert.equal(decodeURIComponent(uri.pathname), `/Tenant ${tenant.id}:alice@example.test`);
  assert.equal(uri.searchParams.get('secret'), secret);
  assert.equal(uri.searchParams.get('issuer'), `Tenant ${tenant.id}`);
  assert.equal(uri.searchParams.get('algorithm'), 'SHA1');
  assert.equal(uri.searchParams.get('digits'), '6');
  assert.equal(uri.searchParams.get('period'), '30');

  // Not a factor until confirmed.
  let factors = await api('GET', `/v1/${tenant.id}/factors`, { token: ticket });
  assert.deepEqual(factors.body.factors, []);

  const t = now();
  const confirm = await api('POST', `/v1/${tenant.id}/enroll/${enrollment_id}/confirm`, {
    token: ticket, body: { code: oathtool(secret, t) },
  });
  assert.equal(confirm.status, 201, confirm.text);
  assert.equal(confirm.body.factor.type, 'totp');
  assert.equal(confirm.body.backup_codes.length, 10, 'first factor: backup codes shown once');
  factors = await api('GET', `/v1/${tenant.id}/factors`, { token: ticket });
  assert.equal(factors.body.factors.length, 1);
  assert.equal(factors.body.backup_codes_remaining, 10);
  assert.ok(!factors.text.includes(secret), 'the secret is never shown again');

  // The enrollment is single-use.
  const again = await api('POST', `/v1/${tenant.id}/enroll/${enrollment_id}/confirm`, {
    token: ticket, body: { code: oathtool(secret, t + 30) },
  });
  assertProblem(again, 410, 'expired');

  // Verify with the next step's code (within the default skew of one step).
  const verify = await api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { type: 'totp', code: oathtool(secret, t + 30) } });
  assert.equal(verify.status, 200, verify.text);
  assert.equal(verify.body.expires_in, 300);
  const claims = await verifyMfaToken(tenant, verify.body.mfa_token);
  assert.equal(claims.sub, 'alice');
  assert.equal(claims.aud, tenant.id);
  assert.deepEqual(claims.amr, ['otp']);
  assert.equal(claims.mfa_method, 'totp');
  assert.equal(claims.exp - claims.iat, 300);
  assert.ok(Math.abs(claims.auth_time - now()) < 30);
  assert.ok(claims.jti);

  // The same code again, and a code of an older step after a newer one: replays.
  const replay = await api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { type: 'totp', code: oathtool(secret, t + 30) } });
  assertProblem(replay, 422, 'verification_failed');
  const older = await api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { type: 'totp', code: oathtool(secret, t) } });
  assertProblem(older, 422, 'verification_failed');
});

test('a challenge is consumed by the verification that succeeds', async () => {
  const tenant = await createTenant();
  const { ticket, secret, factor, t } = await enrollTotp(tenant, 'bob');
  const challenge = await api('POST', `/v1/${tenant.id}/challenge`, { token: ticket, body: { factor_id: factor.id } });
  assert.equal(challenge.status, 201, challenge.text);
  assert.equal(challenge.body.type, 'totp');
  assert.ok(challenge.body.expires_at <= now() + 301);
  const wrong = await api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { challenge_id: challenge.body.challenge_id, code: '000000' === oathtool(secret, t + 30) ? '111111' : '000000' } });
  assertProblem(wrong, 422, 'verification_failed');
  const ok = await api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { challenge_id: challenge.body.challenge_id, code: oathtool(secret, t + 30) } });
  assert.equal(ok.status, 200, ok.text);
  const reuse = await api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { challenge_id: challenge.body.challenge_id, code: oathtool(secret, t + 60) } });
  assertProblem(reuse, 410, 'expired');
  const unknown = await api('POST', `/v1/${tenant.id}/challenge`, { token: ticket, body: { factor_id: 'nope' } });
  assertProblem(unknown, 404, 'not_found');
});

test('policy TOTP parameters reach the app: SHA256, 8 digits, 60 s', async () => {
  const tenant = await createTenant({ totp: { algorithm: 'SHA256', digits: 8, period: 60, skew: 1 } });
  const ticket = await ticketFor(tenant, 'carol');
  const enroll = await api('POST', `/v1/${tenant.id}/enroll`, { token: ticket, body: { type: 'totp' } });
  assert.equal(enroll.status, 201, enroll.text);
  const uri = new URL(decodeQr(enroll.body.qr_svg));
  assert.equal(uri.searchParams.get('algorithm'), 'SHA256');
  assert.equal(uri.searchParams.get('digits'), '8');
  assert.equal(uri.searchParams.get('period'), '60');
  const params = { algorithm: 'SHA256', digits: 8, period: 60 };
  const t = now();
  const code = oathtool(enroll.body.secret, t, params);
  assert.match(code, /^\d{8}$/);
  const confirm = await api('POST', `/v1/${tenant.id}/enroll/${enroll.body.enrollment_id}/confirm`, { token: ticket, body: { code } });
  assert.equal(confirm.status, 201, confirm.text);
  const verify = await api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { type: 'totp', code: oathtool(enroll.body.secret, t + 60, params) } });
  assert.equal(verify.status, 200, verify.text);
});

test('otpauth URIs round-trip through an independent parser (npm otpauth), directly and through the QR code, whatever the names hold', async () => {
  // Key Uri Format: neither issuer nor account may hold a colon; each becomes a
  // space (then white space is collapsed), everything else survives percent-encoding.
  const shown = (name) => name.replaceAll(':', ' ').split(/\s+/).filter(Boolean).join(' ');
  const cases = [
    { name: 'Acme: Support', sub: 'urn:user:42' },
    { name: 'A&B #1 + 50% off', sub: 'jane+tag@example.com' },
    { name: 'Ünïcødé 東京 🙂', sub: 'a b&c#d%e=f?g/h' },
    { name: 'plain', sub: 'alice', email: 'al:ice@example.test' },
  ];
  for (const { name, sub, email } of cases) {
    const id = uniqueId('t');
    const created = await api('POST', '/v1/tenants', {
      token: OPERATOR_KEY,
      body: { id, name, rp_id: 'localhost', origins: [ORIGIN], policy: { totp: { algorithm: 'SHA256', digits: 8, period: 60 } } },
    });
    assert.equal(created.status, 201, created.text);
    const tenant = created.body;
    const ticket = await ticketFor(tenant, sub, email ? { extra: { email } } : {});
    const enroll = await api('POST', `/v1/${tenant.id}/enroll`, { token: ticket, body: { type: 'totp' } });
    assert.equal(enroll.status, 201, enroll.text);
    const { otpauth_uri: uri, secret, qr_svg: qr } = enroll.body;
    for (const [how, text] of [['URI', uri], ['QR code', decodeQr(qr)]]) {
      const parsed = OTPAuth.URI.parse(text);
      const label = `${name} / ${sub} via the ${how}`;
      assert.ok(parsed instanceof OTPAuth.TOTP, label);
      assert.equal(parsed.issuer, shown(name), label);
      assert.equal(parsed.label, shown(email ?? sub), label);
      assert.equal(parsed.issuerInLabel, true, label);
      assert.equal(parsed.secret.base32, secret, label);
      assert.deepEqual([parsed.algorithm, parsed.digits, parsed.period], ['SHA256', 8, 60], label);
    }
    // The app's code is ours: confirm with what the parsed URI generates.
    const parsed = OTPAuth.URI.parse(uri);
    const confirm = await api('POST', `/v1/${tenant.id}/enroll/${enroll.body.enrollment_id}/confirm`, { token: ticket, body: { code: parsed.generate() } });
    assert.equal(confirm.status, 201, confirm.text);
  }
});
