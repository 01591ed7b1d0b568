// The integration guide (docs/INTEGRATION.md) end to end: its backend and SPA code
// (docs/examples/*.mjs, shown byte for byte in the guide) against the runtime, the
// whole flow a tenant builds: ticket, assess, enroll and confirm or challenge and
// verify, and the backend's checks of the mfa_token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { BASE, ORIGIN, api, assertProblem, at, createTenant, now, oathtool, wrongCode } from './client.mjs';
import { SoftAuthenticator } from './soft_authenticator.mjs';
import { mintTicket, verifyMfaToken } from '../../docs/examples/backend.mjs';
import { EdgeMfaError, edgeMfa, secondFactor } from '../../docs/examples/spa.mjs';

const root = resolve(import.meta.dirname, '../..');
const guide = readFileSync(join(root, 'docs/INTEGRATION.md'), 'utf8');

/// The backend's ticket and the SPA's client for `user`, as the guide wires them.
async function signInAs(tenant, user, opts = {}) {
  const ticket = await mintTicket({ tenant: tenant.id, ticketSecret: tenant.ticket_secret, user, ...opts });
  return { ticket, mfa: edgeMfa({ base: BASE, tenant: tenant.id, ticket }) };
}

/// What the backend does with the token the SPA hands it.
const backendCheck = (tenant, token, expectedUser, extra = {}) =>
  verifyMfaToken({ base: BASE, tenant: tenant.id, token, expectedUser, ...extra });

/// Screens for secondFactor: codes from oathtool at the times given, passkeys from
/// a software authenticator; records what the SPA was shown.
function scriptedUi({ method = 'totp', codes = [], authenticator } = {}) {
  const shown = { backupCodes: null, lockedFor: null, wrong: [] };
  const nextCode = (wrong, enrollment) => {
    shown.wrong.push(wrong);
    const code = codes.shift();
    assert.ok(code !== undefined, 'the SPA asked for more codes than the test has');
    return typeof code === 'function' ? code(enrollment) : code;
  };
  return {
    shown,
    chooseMethod: (types) => {
      assert.ok(types.includes(method));
      return method;
    },
    firstCode: (enrollment, wrong) => nextCode(wrong, enrollment),
    showBackupCodes: (list) => { shown.backupCodes = list; },
    chooseFactor: (factors, lockedFor) => {
      shown.lockedFor = lockedFor;
      const factor = factors.find((f) => f.type === method);
      assert.ok(factor, `no ${method} factor among ${JSON.stringify(factors)}`);
      return factor;
    },
    code: (_factor, wrong) => nextCode(wrong),
    passkeys: authenticator && { create: (o) => authenticator.register(o), get: (o) => authenticator.assert(o) },
    rememberDevice: false,
  };
}

/// A JWKS server of our own, to show each check of verifyMfaToken on its own.
async function localIssuer(tenant) {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const server = createServer((req, res) => {
    if (req.url !== `/v1/${tenant}/jwks.json`) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${server.address().port}`;
  const sign = (claims, { key = privateKey, alg = 'ES256', kid = 'k1' } = {}) => {
    const t = now();
    const full = { iss: `edge-mfa:${tenant}`, aud: tenant, sub: 'alice', iat: t, exp: t + 300, auth_time: t, jti: `j-${Math.random()}`, amr: ['otp'], mfa_method: 'totp', acr: 'mfa', ...claims };
    for (const [k, v] of Object.entries(full)) if (v === undefined) delete full[k];
    return new SignJWT(full).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(key);
  };
  return { base, sign, close: () => new Promise((ok) => server.close(ok)) };
}

test('the guide shows docs/examples byte for byte, and names every reason and problem code the code emits', () => {
  const blocks = [...guide.matchAll(/^```\w+ file=(\S+)\n([\s\S]*?)^```$/gm)];
  assert.ok(blocks.length >= 2, 'the guide shows its example files');
  for (const [, file, body] of blocks) {
    assert.equal(body, readFileSync(join(root, file), 'utf8'), `the guide's block of ${file} differs from the file`);
  }
  for (const file of readdirSync(join(root, 'docs/examples'))) {
    assert.ok(blocks.some(([, shown]) => shown === `docs/examples/${file}`), `docs/examples/${file} is not shown in the guide`);
  }
  // Every reason assess can give, from the decision and from the operation.
  const decision = readFileSync(join(root, 'shared/core/src/assess.rs'), 'utf8').split('#[cfg(test)]')[0];
  const operation = readFileSync(join(root, 'shared/core/src/ops/assess.rs'), 'utf8').split('#[cfg(test)]')[0];
  const reasons = new Set([...(decision + operation).matchAll(/(?:reasons\.push\(|&\[)"([a-z_]+)"/g)].map((m) => m[1]));
  assert.ok(reasons.size >= 15, `found only ${[...reasons]}`);
  reasons.add('locked');
  for (const reason of reasons) assert.ok(guide.includes(`| \`${reason}\` |`), `the guide's reasons table lacks ${reason}`);
  // Every problem code.
  const problem = readFileSync(join(root, 'shared/api/src/problem.rs'), 'utf8');
  const codeFn = problem.slice(problem.indexOf('pub fn code'), problem.indexOf('fn title'));
  const codes = [...codeFn.matchAll(/=> "([a-z_]+)",/g)].map((m) => m[1]);
  assert.ok(codes.length >= 12, `found only ${codes}`);
  for (const code of codes) assert.ok(guide.includes(`\`${code}\``), `the guide does not name the problem code ${code}`);
});

test('the flow of the guide, step by step: ticket, assess, enroll and confirm, the backend checks; then challenge and verify', async (t) => {
  const tenant = await createTenant();
  const other = await createTenant();
  await assert.rejects(mintTicket({ tenant: tenant.id, ticketSecret: tenant.ticket_secret, user: 'alice', ttl: 901 }), RangeError);
  const first = await signInAs(tenant, 'alice', { claims: { email: 'alice@example.test' } });

  const assessed = await first.mfa.assess();
  assert.equal(assessed.action, 'enroll');
  assert.deepEqual(assessed.reasons, ['not_enrolled']);
  assert.equal(assessed.enrollment.state, 'not_enrolled');
  assert.equal(assessed.mfa_token, undefined, 'no token unless allowed');

  const enrollment = await first.mfa.enroll('totp');
  assert.ok(decodeURIComponent(enrollment.otpauth_uri).includes('alice@example.test'), 'the ticket\'s email labels the app\'s entry');
  const t0 = now();
  const confirmed = await first.mfa.confirm(enrollment.enrollment_id, { code: oathtool(enrollment.secret, t0) });
  assert.equal(confirmed.factor.type, 'totp');
  assert.equal(confirmed.backup_codes.length, 10);

  await t.test('confirm of the first factor answers an mfa_token the backend accepts for its own user only (new behaviour)', async () => {
    assert.equal(typeof confirmed.mfa_token, 'string', `confirm answered ${JSON.stringify(Object.keys(confirmed))}`);
    assert.equal(confirmed.expires_in, 300);
    const { claims, mfa } = await backendCheck(tenant, confirmed.mfa_token, 'alice');
    assert.equal(mfa, true);
    assert.deepEqual([claims.sub, claims.acr, claims.mfa_method, claims.aud, claims.iss], ['alice', 'mfa', 'totp', tenant.id, `edge-mfa:${tenant.id}`]);
    assert.deepEqual(claims.amr, ['otp']);
    await assert.rejects(backendCheck(tenant, confirmed.mfa_token, 'bob'), /sub/, 'another user\'s session');
    await assert.rejects(backendCheck(other, confirmed.mfa_token, 'alice'), 'another tenant');
    await assert.rejects(backendCheck(tenant, confirmed.mfa_token, undefined), TypeError, 'no user to compare with');
    const seen = new Set();
    await backendCheck(tenant, confirmed.mfa_token, 'alice', { seen });
    await assert.rejects(backendCheck(tenant, confirmed.mfa_token, 'alice', { seen }), /used before/);
  });

  await t.test('verify after confirm with the same code is a replay', async () => {
    await assert.rejects(first.mfa.verify({ type: 'totp', code: oathtool(enrollment.secret, t0) }),
      (e) => e instanceof EdgeMfaError && e.status === 422 && e.code === 'verification_failed');
  });

  await t.test('the next sign-in: assess says challenge; challenge and verify with the next step; the backend accepts', async () => {
    const next = await signInAs(tenant, 'alice');
    const again = await next.mfa.assess();
    assert.equal(again.action, 'challenge');
    assert.deepEqual(again.reasons, ['mfa_required']);
    assert.equal(again.enrollment.state, 'enrolled');
    assert.deepEqual(again.factors.map((f) => [f.id, f.type]), [[confirmed.factor.id, 'totp']]);
    const challenge = await next.mfa.challenge(confirmed.factor.id);
    assert.equal(challenge.type, 'totp');
    const verified = await next.mfa.verify({ challenge_id: challenge.challenge_id, code: oathtool(enrollment.secret, t0 + 30) });
    assert.equal(verified.expires_in, 300);
    const { claims, mfa } = await backendCheck(tenant, verified.mfa_token, 'alice');
    assert.equal(mfa, true);
    assert.equal(claims.mfa_method, 'totp');
    await assert.rejects(backendCheck(tenant, verified.mfa_token, 'mallory'), 'the backend\'s session is another user\'s');
    await assert.rejects(backendCheck(other, verified.mfa_token, 'alice'), 'another tenant\'s backend');
    // A used challenge is gone: 410, start again.
    await assert.rejects(next.mfa.verify({ challenge_id: challenge.challenge_id, code: oathtool(enrollment.secret, t0 + 60) }),
      (e) => e.status === 410 && e.code === 'expired');
  });
});

test('the SPA\'s secondFactor: first sign-in enrolls an authenticator app, the next asks for a code (a wrong one first)', async (t) => {
  const tenant = await createTenant();
  let secret;
  let t0;
  const enrollUi = scriptedUi({
    codes: [
      (enrollment) => {
        ({ secret } = enrollment);
        t0 = now();
        return wrongCode(secret, t0);
      },
      () => oathtool(secret, t0),
    ],
  });
  const token = await secondFactor((await signInAs(tenant, 'carol')).mfa, enrollUi);
  assert.deepEqual(enrollUi.shown.wrong, [false, true], 'a wrong first code asks again');
  assert.equal(enrollUi.shown.backupCodes.length, 10, 'backup codes shown once');

  await t.test('the token of the first sign-in comes from confirm (new behaviour)', async () => {
    assert.equal(typeof token, 'string');
    const { claims, mfa } = await backendCheck(tenant, token, 'carol');
    assert.deepEqual([mfa, claims.mfa_method], [true, 'totp']);
  });

  await t.test('the next sign-in: a wrong code, then the right one', async () => {
    const ui = scriptedUi({ codes: [wrongCode(secret, t0), oathtool(secret, t0 + 30)] });
    const next = await secondFactor((await signInAs(tenant, 'carol')).mfa, ui);
    assert.deepEqual(ui.shown.wrong, [false, true]);
    assert.equal(ui.shown.lockedFor, 0);
    const { claims, mfa } = await backendCheck(tenant, next, 'carol');
    assert.deepEqual([mfa, claims.sub], [true, 'carol']);
  });
});

test('the SPA\'s secondFactor with a passkey: registered at the first sign-in, asserted at the next', async (t) => {
  const tenant = await createTenant();
  const authenticator = new SoftAuthenticator({ origin: ORIGIN });
  const first = await secondFactor((await signInAs(tenant, 'dana')).mfa, scriptedUi({ method: 'webauthn', authenticator }));
  await t.test('the token of the first sign-in comes from confirm (new behaviour)', async () => {
    assert.equal(typeof first, 'string');
    const { claims, mfa } = await backendCheck(tenant, first, 'dana');
    assert.deepEqual([mfa, claims.mfa_method], [true, 'webauthn']);
  });
  await t.test('the next sign-in asserts the passkey', async () => {
    const next = await secondFactor((await signInAs(tenant, 'dana')).mfa, scriptedUi({ method: 'webauthn', authenticator }));
    const { claims, mfa } = await backendCheck(tenant, next, 'dana');
    assert.deepEqual([mfa, claims.mfa_method], [true, 'webauthn']);
  });
});

test('mode off: assess allows with a token of acr "0", which the backend reports as no second factor', async () => {
  const tenant = await createTenant({ mode: 'off' });
  const { mfa } = await signInAs(tenant, 'erin');
  const assessed = await mfa.assess();
  assert.deepEqual([assessed.action, assessed.reasons], ['allow', ['mode_off']]);
  assert.equal(assessed.expires_in, 300);
  const token = await secondFactor(mfa, scriptedUi());
  const checked = await backendCheck(tenant, token, 'erin');
  assert.equal(checked.mfa, false);
  assert.deepEqual([checked.claims.acr, checked.claims.mfa_method, checked.claims.amr], ['0', 'policy', []]);
  // Still erin's token only.
  await assert.rejects(backendCheck(tenant, token, 'frank'));
});

test('verifyMfaToken refuses each token the backend checklist refuses', async () => {
  const issuer = await localIssuer('acme');
  const check = (token, expectedUser = 'alice', extra = {}) => verifyMfaToken({ base: issuer.base, tenant: 'acme', token, expectedUser, ...extra });
  try {
    const good = await check(await issuer.sign({}));
    assert.deepEqual([good.mfa, good.claims.sub], [true, 'alice']);
    const policy = await check(await issuer.sign({ acr: '0', amr: [], mfa_method: 'trusted_device' }));
    assert.equal(policy.mfa, false, 'acr "0" is no second factor');
    const refused = {
      'another user': [await issuer.sign({}), 'bob'],
      'another issuer': [await issuer.sign({ iss: 'edge-mfa:other' })],
      'a ticket-like issuer': [await issuer.sign({ iss: 'acme' })],
      'another audience': [await issuer.sign({ aud: 'other' })],
      'the ticket audience': [await issuer.sign({ aud: 'edge-mfa' })],
      'expired beyond the clock tolerance': [await issuer.sign({ iat: now() - 400, exp: now() - 60 })],
      'no jti': [await issuer.sign({ jti: undefined })],
      'HS256 under the same kid': [await issuer.sign({}, { alg: 'HS256', key: new TextEncoder().encode('a'.repeat(32)) })],
      'another key under the same kid': [await issuer.sign({}, { key: (await generateKeyPair('ES256')).privateKey })],
      'an unknown kid': [await issuer.sign({}, { kid: 'k2' })],
    };
    const unsigned = `${Buffer.from('{"alg":"none","kid":"k1"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: 'edge-mfa:acme', aud: 'acme', sub: 'alice', iat: now(), exp: now() + 300, jti: 'x', acr: 'mfa' })).toString('base64url')}.`;
    refused['alg none'] = [unsigned];
    for (const [what, [token, user]] of Object.entries(refused)) {
      await assert.rejects(check(token, user), `${what} must be refused`);
    }
    const seen = new Set();
    const once = await issuer.sign({});
    await check(once, 'alice', { seen });
    await assert.rejects(check(once, 'alice', { seen }), /used before/);
  } finally {
    await issuer.close();
  }
});

test('step-up: an mfa_token of the user counts while it is valid (300 s); a later factor\'s confirm has no token', async (t) => {
  const tenant = await createTenant();
  const { ticket, mfa } = await signInAs(tenant, 'gus', { ttl: 900 });
  const enrollment = await mfa.enroll('totp');
  const t0 = now();
  const confirmed = await mfa.confirm(enrollment.enrollment_id, { code: oathtool(enrollment.secret, t0) });
  const verified = await mfa.verify({ type: 'totp', code: oathtool(enrollment.secret, t0 + 30) });
  const { claims } = await backendCheck(tenant, verified.mfa_token, 'gus');
  const enrollWith = (token, time) => api('POST', `/v1/${tenant.id}/enroll`, {
    token: ticket, body: { type: 'totp' }, headers: { ...(token ? { 'x-mfa-token': token } : {}), ...(time ? at(time) : {}) },
  });
  assertProblem(await enrollWith(null), 403, 'step_up_required');
  assertProblem(await enrollWith(verified.mfa_token, claims.exp), 403, 'step_up_required');
  const second = await enrollWith(verified.mfa_token, claims.exp - 1);
  assert.equal(second.status, 201, second.text);
  const time = claims.exp - 1;
  const confirmSecond = await api('POST', `/v1/${tenant.id}/enroll/${second.body.enrollment_id}/confirm`, {
    token: ticket, body: { code: oathtool(second.body.secret, time) }, headers: at(time),
  });
  assert.equal(confirmSecond.status, 201, confirmSecond.text);
  assert.equal(confirmSecond.body.mfa_token, undefined, 'only the first factor\'s confirm signs in');
  assert.equal(confirmSecond.body.backup_codes, undefined, 'backup codes come with the first factor');

  await t.test('the first confirm\'s token is step-up too (new behaviour)', async () => {
    assert.equal(typeof confirmed.mfa_token, 'string');
    const third = await enrollWith(confirmed.mfa_token);
    assert.equal(third.status, 201, third.text);
  });
});

test('locked: assess says challenge with reason locked and retry_after; the code challenge and verify answer 429 with Retry-After', async () => {
  const tenant = await createTenant();
  const { mfa } = await signInAs(tenant, 'hal');
  const enrollment = await mfa.enroll('totp');
  const t0 = now();
  const confirmed = await mfa.confirm(enrollment.enrollment_id, { code: oathtool(enrollment.secret, t0) });
  for (let i = 0; i < 5; i++) {
    await assert.rejects(mfa.verify({ type: 'totp', code: wrongCode(enrollment.secret, t0) }), (e) => e.status === 422);
  }
  const assessed = await mfa.assess();
  assert.equal(assessed.action, 'challenge');
  assert.deepEqual(assessed.reasons, ['mfa_required', 'locked']);
  assert.ok(assessed.retry_after > 0 && assessed.retry_after <= 900, `retry_after ${assessed.retry_after}`);
  await assert.rejects(mfa.challenge(confirmed.factor.id), (e) => {
    assert.deepEqual([e.status, e.code], [429, 'rate_limited']);
    assert.ok(e.retryAfter > 0 && e.retryAfter <= 900, `Retry-After ${e.retryAfter}`);
    return true;
  });
  await assert.rejects(mfa.verify({ type: 'totp', code: oathtool(enrollment.secret, t0 + 30) }), (e) => e.status === 429 && e.retryAfter > 0);
  // The SPA's flow shows the countdown and meets the 429.
  const ui = scriptedUi({ codes: [oathtool(enrollment.secret, t0 + 30)] });
  await assert.rejects(secondFactor(mfa, ui), (e) => e instanceof EdgeMfaError && e.code === 'rate_limited');
  assert.ok(ui.shown.lockedFor > 0, 'the countdown came from assess');
});

test('policy: PATCH (JSON Merge Patch) changes only the fields sent, null resets one; PUT replaces the whole policy', async () => {
  const tenant = await createTenant({ mode: 'required', grace_period_days: 7, lockout: { max_failures: 3, window_seconds: 900 } });
  const patch = (body) => api('PATCH', `/v1/${tenant.id}/admin/policy`, {
    token: tenant.admin_key, raw: JSON.stringify(body), headers: { 'content-type': 'application/merge-patch+json' },
  });
  let r = await patch({ mode: 'optional', lockout: { max_failures: 4 } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.body.mode, r.body.grace_period_days, r.body.lockout], ['optional', 7, { max_failures: 4, window_seconds: 900 }]);
  r = await patch({ grace_period_days: null });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.body.mode, r.body.grace_period_days], ['optional', 0]);
  assertProblem(await patch({ lockout: { max_failures: 100, window_seconds: 60 } }), 400, 'invalid_request');
  r = await api('GET', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key });
  assert.deepEqual(r.body.lockout, { max_failures: 4, window_seconds: 900 }, 'a refused patch changes nothing');
  r = await api('PUT', `/v1/${tenant.id}/admin/policy`, { token: tenant.admin_key, body: { mode: 'optional' } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.body.mode, r.body.grace_period_days, r.body.lockout], ['optional', 0, { max_failures: 5, window_seconds: 900 }]);
});
