// @edge-mfa/browser (packages/browser, built by scripts/build-sdk) against this
// runtime, in Node 22: every end-user route through the SDK, problem+json as
// EdgeMfaError with `code` and `retryAfter`, the WebAuthn JSON round trip through
// its fallbacks (Node has no PublicKeyCredential), abort signals, and the list of
// operations it calls against /openapi.json.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { api, BASE, createTenant, documentedOperations, oathtool, ORIGIN, recordStatus, ticketFor, useReceiver } from './client.mjs';
import { startReceiver } from './receiver.mjs';
import { SoftAuthenticator } from './soft_authenticator.mjs';

const root = resolve(import.meta.dirname, '../..');
const DIST = resolve(root, 'packages/browser/dist/index.js');
if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run scripts/build-sdk`);
const { EdgeMfa, EdgeMfaError, creationOptionsFromJSON, registrationToJSON, toBase64url, fromBase64url } = await import(DIST);

let receiver;
before(async () => { receiver = await startReceiver(); });
after(async () => receiver?.close());

/// The SDK for `sub` on a clock the test moves (test hooks: `x-edge-mfa-test-now`),
/// with a software authenticator behind the WebAuthn calls.
function client(tenant, sub) {
  const state = { clock: Math.floor(Date.now() / 1000) };
  const soft = new SoftAuthenticator({ origin: ORIGIN });
  const buffer = (b64) => { const b = Buffer.from(b64, 'base64url'); return b.buffer.slice(b.byteOffset, b.byteOffset + b.length); };
  // What a browser's create()/get() return, without toJSON(): the SDK's own encoding runs.
  const credential = (json) => ({
    id: json.id,
    rawId: buffer(json.rawId),
    type: 'public-key',
    authenticatorAttachment: 'platform',
    getClientExtensionResults: () => ({}),
    response: {
      ...Object.fromEntries(Object.entries(json.response).filter(([k]) => k !== 'transports').map(([k, v]) => [k, buffer(v)])),
      getTransports: () => json.response.transports ?? [],
    },
  });
  const webauthn = {
    async create({ publicKey }) {
      assert.ok(publicKey.challenge instanceof Uint8Array && publicKey.user.id instanceof Uint8Array, 'options decoded to bytes');
      return credential(soft.register({ ...publicKey, challenge: toBase64url(publicKey.challenge) }));
    },
    async get({ publicKey }) {
      assert.ok(publicKey.challenge instanceof Uint8Array);
      return credential(soft.assert({ ...publicKey, challenge: toBase64url(publicKey.challenge) }));
    },
  };
  const mfa = new EdgeMfa({
    baseUrl: `${BASE}/`,
    tenant: tenant.id,
    ticket: () => ticketFor(tenant, sub, { now: state.clock }),
    webauthn,
    fetch: async (url, init) => {
      const response = await fetch(url, { ...init, headers: { ...init.headers, 'x-edge-mfa-test-now': String(state.clock) } });
      recordStatus(init.method, url, response.status);
      return response;
    },
  });
  return { mfa, state };
}

async function codeTenant() {
  const tenant = await createTenant({ mode: 'required', allowed_methods: ['totp', 'webauthn', 'email', 'sms', 'backup_code'] });
  await useReceiver(tenant, receiver);
  return tenant;
}

/// The code of the newest delivery for this enrollment or challenge since `since` (ms).
const codeSent = async (field, id, since = 0) => (await receiver.waitFor((d) => d.at >= since && d.payload?.data?.[field] === id)).payload.data.code;

async function rejectsWith(promise, status, code) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof EdgeMfaError, `an EdgeMfaError, not ${e}`);
    assert.deepEqual([e.status, e.code], [status, code], e.detail);
    return true;
  });
}

test('SDK: TOTP enroll and verify, factors, rename, backup codes, devices, help, delete', async () => {
  const tenant = await createTenant({ mode: 'required', remember_device: { enabled: true, days: 30, token_in_body: true } });
  const { mfa, state } = client(tenant, 'ana');
  const first = await mfa.assess();
  assert.deepEqual([first.action, first.enrollment.state], ['enroll', 'not_enrolled']);

  const totp = await mfa.enrollTotp({ name: 'Phone' });
  assert.match(totp.otpauth_uri, /^otpauth:\/\/totp\//);
  await rejectsWith(mfa.confirmCode(totp.enrollment_id, '000000' === oathtool(totp.secret, state.clock) ? '111111' : '000000'), 422, 'verification_failed');
  const confirmed = await mfa.confirmCode(totp.enrollment_id, oathtool(totp.secret, state.clock));
  assert.equal(confirmed.factor.name, 'Phone');
  assert.equal(confirmed.backup_codes.length, 10);
  const stepUp = confirmed.mfa_token;

  const listed = await mfa.factors();
  assert.deepEqual(listed.factors.map((f) => [f.type, f.name]), [['totp', 'Phone']]);
  assert.equal(listed.backup_codes_remaining, 10);
  await rejectsWith(mfa.renameFactor(confirmed.factor.id, 'Work phone'), 403, 'step_up_required');
  assert.equal((await mfa.renameFactor(confirmed.factor.id, 'Work phone', { stepUp })).name, 'Work phone');

  state.clock += 30;
  const challenge = await mfa.challenge({ factorId: confirmed.factor.id });
  const viaChallenge = await mfa.verifyCode(challenge.challenge_id, oathtool(totp.secret, state.clock));
  assert.equal(typeof viaChallenge.mfa_token, 'string');
  state.clock += 30;
  const remembered = await mfa.verifyTotp(oathtool(totp.secret, state.clock), { rememberDevice: true });
  assert.equal(typeof remembered.device_token, 'string');
  const again = await mfa.assess({ deviceToken: remembered.device_token });
  assert.deepEqual([again.action, again.reasons], ['allow', ['trusted_device']]);

  const devices = await mfa.devices({ stepUp: remembered.mfa_token });
  assert.equal(devices.length, 1);
  await mfa.revokeDevice(devices[0].id, { stepUp: remembered.mfa_token });
  assert.deepEqual(await mfa.devices({ stepUp: remembered.mfa_token }), []);

  const codes = await mfa.regenerateBackupCodes({ stepUp: remembered.mfa_token });
  assert.equal(codes.length, 10);
  const redeemed = await mfa.redeemBackupCode(codes[0]);
  assert.equal(redeemed.remaining, 9);
  await rejectsWith(mfa.redeemBackupCode(codes[0]), 422, 'verification_failed');

  const requestId = await mfa.askForHelp('I lost my phone');
  assert.match(requestId, /^help_/);
  assert.equal(await mfa.askForHelp(), requestId, 'one open request per user');

  await mfa.deleteFactor(confirmed.factor.id, { stepUp: redeemed.mfa_token });
  assert.deepEqual((await mfa.factors()).factors, []);
});

test('SDK: a passkey registered and used through the WebAuthn JSON fallbacks', async () => {
  const tenant = await createTenant({ mode: 'required' });
  const { mfa } = client(tenant, 'ben');
  const confirmed = await mfa.registerPasskey({ name: 'Laptop' });
  assert.deepEqual([confirmed.factor.type, confirmed.factor.name], ['webauthn', 'Laptop']);
  const verified = await mfa.verifyPasskey();
  assert.equal(typeof verified.mfa_token, 'string');
  const byFactor = await mfa.verifyPasskey({ factorId: confirmed.factor.id });
  assert.equal(typeof byFactor.mfa_token, 'string');
});

test('SDK: email codes, resend too soon is 429 with retryAfter', async () => {
  const tenant = await codeTenant();
  const { mfa, state } = client(tenant, 'cy');
  const enrollment = await mfa.enrollCode('email', { to: 'cy@example.com' });
  assert.equal(enrollment.delivery.channel, 'email');
  await mfa.confirmCode(enrollment.enrollment_id, await codeSent('enrollment_id', enrollment.enrollment_id));
  state.clock += 60;
  const challenge = await mfa.challenge({ type: 'email' });
  await assert.rejects(mfa.resend(challenge.challenge_id), (e) => {
    assert.ok(e instanceof EdgeMfaError);
    assert.deepEqual([e.status, e.code], [429, 'rate_limited']);
    assert.ok(Number.isInteger(e.retryAfter) && e.retryAfter > 0, `retryAfter ${e.retryAfter}`);
    return true;
  });
  state.clock += 120;
  const since = Date.now();
  const resent = await mfa.resend(challenge.challenge_id);
  const verified = await mfa.verifyCode(resent.challenge_id, await codeSent('challenge_id', resent.challenge_id, since));
  assert.equal(typeof verified.mfa_token, 'string');
});

test('SDK: refusals are EdgeMfaError; an abort signal aborts; a bad ticket is 401', async () => {
  const tenant = await createTenant({ mode: 'required' });
  const { mfa } = client(tenant, 'dee');
  await rejectsWith(mfa.verifyTotp('123456'), 422, 'verification_failed'); // no TOTP factor: just a wrong code
  await rejectsWith(mfa.challenge({ factorId: 'nope' }), 404, 'not_found');
  const aborted = AbortSignal.abort();
  await assert.rejects(mfa.assess({ signal: aborted }), (e) => e.name === 'AbortError');
  const stranger = new EdgeMfa({ baseUrl: BASE, tenant: tenant.id, ticket: 'not-a-ticket' });
  await rejectsWith(stranger.assess(), 401, 'unauthorized');
  // No answer at all (here: nothing listens) is an EdgeMfaError too, status 0.
  const nowhere = new EdgeMfa({ baseUrl: 'http://127.0.0.1:9', tenant: tenant.id, ticket: 'any' });
  await rejectsWith(nowhere.assess(), 0, 'unreachable');
});

test('SDK: the WebAuthn fallbacks decode and encode as the browser does', () => {
  const json = {
    rp: { id: 'example.com', name: 'Example' }, user: { id: 'AQID', name: 'a', displayName: 'A' },
    challenge: 'q83vEjRWeJA', pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
    excludeCredentials: [{ type: 'public-key', id: '_-8', transports: ['usb'] }],
  };
  const options = creationOptionsFromJSON(json, {});
  assert.deepEqual([...options.challenge], [0xab, 0xcd, 0xef, 0x12, 0x34, 0x56, 0x78, 0x90]);
  assert.deepEqual([...options.user.id], [1, 2, 3]);
  assert.deepEqual([...options.excludeCredentials[0].id], [0xff, 0xef]);
  // Where the browser parses JSON itself, its parser is used.
  const native = { parseCreationOptionsFromJSON: (j) => ({ parsedBy: 'browser', j }) };
  assert.equal(creationOptionsFromJSON(json, native).parsedBy, 'browser');
  assert.deepEqual([...fromBase64url(toBase64url(new Uint8Array([0, 255, 62, 63])))], [0, 255, 62, 63]);
  const withToJSON = { id: 'x', rawId: new ArrayBuffer(1), response: {}, toJSON: () => ({ fromBrowser: true }) };
  assert.deepEqual(registrationToJSON(withToJSON), { fromBrowser: true });
});

test('SDK: calls every end-user operation of /openapi.json, and stores nothing', async () => {
  const documented = (await documentedOperations())
    // The Approver's routes are the phone's (public/approver), not a sign-in page's.
    .filter(({ path }) => path.startsWith('/v1/{tenant}/') && !path.startsWith('/v1/{tenant}/admin/') && !path.startsWith('/v1/{tenant}/approver/') && path !== '/v1/{tenant}/jwks.json')
    .map(({ method, path }) => `${method} ${path.slice('/v1/{tenant}/'.length).replace(/\{[^}]+\}/g, '{}')}`);
  const source = readFileSync(resolve(root, 'packages/browser/src/index.ts'), 'utf8');
  const called = [...source.matchAll(/#call(?:<[^>]*>)?\('([A-Z]+)', [`']([^`']+)[`']/g)]
    .map(([, method, path]) => `${method} ${path.replace(/\$\{[^}]+\}/g, '{}')}`);
  assert.deepEqual([...new Set(called)].sort(), documented.sort());
  assert.doesNotMatch(readFileSync(DIST, 'utf8'), /localStorage|sessionStorage|indexedDB|document\.cookie/);
});
