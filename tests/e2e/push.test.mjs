// Push approval end to end (docs/PUSH.md): Chromium plays the phone running the
// Approver (/approver/, with a CDP virtual platform authenticator that verifies
// the user), a local Web Push service takes the messages, and the sign-in page is
// this test calling the API with a ticket.
//
// Headless Chromium cannot subscribe to a push service: it only speaks to
// Google's, and not when headless. So the page's `PushManager.subscribe` is
// replaced (addInitScript) by one that hands back a subscription the test made at
// the local push service for the same applicationServerKey. Everything else is
// real: the Approver's code, its service worker (the push is delivered to it with
// CDP's ServiceWorker.deliverPushMessage, carrying what the push service
// decrypted), the notification it shows (read back with getNotifications(); the
// test opens its URL as a tap would), the WebAuthn ceremonies, and the service's
// encryption and VAPID token, checked by `web-push-testing` (another
// implementation of a push service) and, byte for byte, by npm `http_ece` and
// `jose` here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import ece from 'http_ece';
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium } from './chromium.mjs';
import { api, assertProblem, at, BASE, createTenant, decodeQr, decodeQrPng, now, recordStatus, ticketFor, useReceiver, verifyMfaToken } from './client.mjs';
import { startPushService, startRawPushService } from './pushservice.mjs';
import { startReceiver } from './receiver.mjs';

const root = new URL('../..', import.meta.url).pathname;
// Screenshots of both sides for the README: EDGE_MFA_UPDATE_SCREENSHOTS=1 writes
// them to docs/images/push (committed), else to build/push-screenshots.
const SHOTS = process.env.EDGE_MFA_UPDATE_SCREENSHOTS ? join(root, 'docs/images/push') : join(root, 'build/push-screenshots');

let browser;
let pushService;
let rawService;
let receiver;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchChromium();
  pushService = await startPushService();
  rawService = await startRawPushService();
  receiver = await startReceiver();
});

after(async () => {
  await browser?.close();
  await pushService?.close();
  await rawService?.close();
  await receiver?.close();
});

/// Well-formed, and no authenticator's: it passes the checks of form only.
const FORM_ONLY_CREDENTIAL = { id: 'AAAAAAAAAAAAAAAAAAAAAA', rawId: 'AAAAAAAAAAAAAAAAAAAAAA', type: 'public-key', response: { clientDataJSON: 'e30', attestationObject: 'oA' } };
const FCM_SUBSCRIPTION = {
  endpoint: 'https://fcm.googleapis.com/fcm/send/example',
  keys: { p256dh: 'BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4', auth: 'BTBZMqHH6r4Tts7J_aSIgg' },
};

/// A test that hangs fails instead (a browser wait that never ends).
const LIMIT = { timeout: 120_000 };
const PLATFORM_UV = { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true };
const POLICY = { allowed_methods: ['totp', 'webauthn', 'push', 'backup_code'], default_method: 'push' };

/// A phone: a browser context on the Approver's origin with notifications
/// granted, a platform authenticator, and `PushManager.subscribe` answered by
/// `subscribe(applicationServerKey)` (see the top of this file).
async function phone(subscribe) {
  const context = await browser.newContext();
  await context.grantPermissions(['notifications'], { origin: BASE });
  const page = await context.newPage();
  // The Approver's own calls count towards the suite's status coverage.
  page.on('response', (r) => {
    if (new URL(r.url()).pathname.startsWith('/v1/')) recordStatus(r.request().method(), r.url(), r.status());
  });
  await page.exposeFunction('edgeMfaTestSubscribe', subscribe);
  await page.addInitScript(() => {
    PushManager.prototype.subscribe = async function subscribe(options) {
      let text = '';
      for (const b of new Uint8Array(options.applicationServerKey)) text += String.fromCharCode(b);
      const key = btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      const json = await window.edgeMfaTestSubscribe(key);
      return { endpoint: json.endpoint, expirationTime: null, options, toJSON: () => json, unsubscribe: async () => true };
    };
    PushManager.prototype.permissionState = async () => 'granted';
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: PLATFORM_UV });
  return { context, page, cdp, authenticatorId, registration: null, close: () => context.close() };
}

/// A phone subscribed at web-push-testing; `clientHash()` names its subscription.
async function testingPhone() {
  let clientHash = null;
  const p = await phone(async (key) => {
    const made = await pushService.subscribe(key);
    clientHash = made.clientHash;
    return made.subscription;
  });
  p.clientHash = () => clientHash;
  return p;
}

/// Enrolls `sub`'s phone from the sign-in page (the test) and the phone (the
/// Approver): answers the confirmation (the first factor's token and codes).
async function activate(tenant, sub, device, { name = 'Pixel 9' } = {}) {
  const ticket = await ticketFor(tenant, sub, { ttl: 900 });
  const enroll = await api('POST', `/v1/${tenant.id}/enroll`, { token: ticket, body: { type: 'push' } });
  assert.equal(enroll.status, 201, enroll.text);
  assert.equal(enroll.body.type, 'push');
  assert.ok(enroll.body.activation_url.startsWith(`${BASE}/approver/#activate=`), enroll.body.activation_url);
  assert.equal(decodeQr(enroll.body.qr_svg), enroll.body.activation_url, 'the QR code is the link (zbarimg)');
  const confirm = () => api('POST', `/v1/${tenant.id}/enroll/${enroll.body.enrollment_id}/confirm`, { token: ticket, body: {} });
  const early = await confirm();
  assert.equal(early.status, 202, early.text);
  assert.deepEqual(early.body, { state: 'pending' });

  const { page } = device;
  await page.goto(enroll.body.activation_url);
  await page.getByRole('heading', { name: `Approve sign-ins to Tenant ${tenant.id} with this phone` }).waitFor();
  assert.equal(await page.locator('#activate-account').textContent(), sub, 'the Approver says which account it sets up');
  assert.equal(new URL(page.url()).hash, '', 'the link leaves the address bar as the page reads it');
  await page.fill('#device-name', name);
  await page.click('#activate-button');
  await page.getByRole('heading', { name: 'This phone is set up' }).waitFor();

  // The link is spent: neither step takes it again.
  const link = JSON.parse(Buffer.from(enroll.body.activation_url.split('#activate=')[1], 'base64url'));
  const again = { user: sub, enrollment_id: link.e, activation_code: link.c };
  assertProblem(await api('POST', `/v1/${tenant.id}/approver/activation`, { body: again, headers: { origin: BASE } }), 410, 'expired');
  const replay = { ...again, credential: FORM_ONLY_CREDENTIAL, subscription: FCM_SUBSCRIPTION };
  assertProblem(await api('POST', `/v1/${tenant.id}/approver/activate`, { body: replay, headers: { origin: BASE } }), 410, 'expired');

  const confirmed = await confirm();
  assert.equal(confirmed.status, 201, confirmed.text);
  assert.equal(confirmed.body.factor.type, 'push');
  assert.equal(confirmed.body.factor.name, name);
  return { ticket, confirmed: confirmed.body, enrollment: enroll.body };
}

/// The sign-in page asks for an approval: `{challenge_id, number, ...}`.
async function challenge(tenant, ticket) {
  const r = await api('POST', `/v1/${tenant.id}/challenge`, { token: ticket, body: { type: 'push' } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.type, 'push');
  assert.match(r.body.number, /^\d+$/);
  return r.body;
}

const verify = (tenant, ticket, challengeId, headers = {}) =>
  api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { challenge_id: challengeId }, headers });

/// The push message for `challengeId`, as the push service decrypted it.
async function messageFor(clientHash, challengeId) {
  for (let i = 0; i < 50; i++) {
    const found = (await pushService.messages(clientHash)).find((m) => JSON.parse(m).a === challengeId);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`no push message for ${challengeId}`);
}

/// Delivers `plaintext` to the phone's service worker, as the push service's
/// connection would, and answers the notification it shows.
async function deliver(device, plaintext, tag) {
  // The registration's id, from the events CDP sends once it is enabled (once
  // per session: later calls reuse it).
  device.registration ??= new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no service worker registration for /approver/')), 10_000);
    device.cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const ours = registrations.find((r) => r.scopeURL === `${BASE}/approver/` && !r.isDeleted);
      if (ours) {
        clearTimeout(timer);
        resolve(ours.registrationId);
      }
    });
    device.cdp.send('ServiceWorker.enable').catch(reject);
  });
  const registrationId = await device.registration;
  let last = [];
  for (let i = 0; i < 90; i++) {
    // CDP may drop a message to a worker it is stopping: deliver again every 3 s
    // (the same tag replaces the notification, as a push service's retry would).
    if (i % 30 === 0) {
      await device.cdp.send('ServiceWorker.deliverPushMessage', { origin: BASE, registrationId, data: plaintext });
    }
    const shown = await device.page.evaluate(async () =>
      (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, url: n.data?.url })),
    );
    const notification = shown.find((n) => n.tag === tag);
    if (notification) return notification;
    last = shown;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`the service worker showed no notification for ${tag}: ${JSON.stringify(last)}`);
}

/// The phone opens an approval from its push message (a tap on the notification).
async function open(device, plaintext, challengeId) {
  const notification = await deliver(device, plaintext, challengeId);
  assert.equal(notification.title, 'Sign-in request');
  await device.page.goto(new URL(notification.url, BASE).href);
  await device.page.locator('#approve').waitFor();
  return notification;
}

test('a phone becomes an Approver and approves a sign-in with the number the page shows', LIMIT, async () => {
  const tenant = await createTenant(POLICY);
  const device = await testingPhone();
  try {
    const { ticket, confirmed } = await activate(tenant, 'ada', device);
    // The first factor ends with proof and brings backup codes.
    assert.ok(confirmed.mfa_token);
    assert.equal(confirmed.backup_codes.length, 10);
    const first = await verifyMfaToken(tenant, confirmed.mfa_token);
    assert.equal(first.mfa_method, 'push');
    assert.deepEqual(first.amr, ['mca', 'hwk', 'user']);

    const signin = await challenge(tenant, ticket);
    assert.equal(signin.number.length, 2, 'two digits by default');
    const pending = await verify(tenant, ticket, signin.challenge_id);
    assert.equal(pending.status, 202);
    assert.deepEqual(pending.body, { state: 'pending' });

    // web-push-testing decrypted the message and accepted its VAPID token.
    const plaintext = await messageFor(device.clientHash(), signin.challenge_id);
    assert.deepEqual(JSON.parse(plaintext), { v: 1, t: tenant.id, u: 'ada', a: signin.challenge_id });
    assert.ok(!plaintext.includes(`"${signin.number}"`), 'the number never travels in the push message');

    await open(device, plaintext, signin.challenge_id);
    const { page } = device;
    assert.equal(await page.locator('#approve h1').textContent(), `Are you signing in to Tenant ${tenant.id}?`);
    await page.fill('#number', signin.number);
    await page.click('#approve-button');
    await page.getByRole('heading', { name: 'Approved' }).waitFor();

    const done = await verify(tenant, ticket, signin.challenge_id);
    assert.equal(done.status, 200, done.text);
    const claims = await verifyMfaToken(tenant, done.body.mfa_token);
    assert.equal(claims.sub, 'ada');
    assert.equal(claims.mfa_method, 'push');
    assert.equal(claims.acr, 'mfa');
    assert.deepEqual(claims.amr, ['mca', 'hwk', 'user']);
    // Proof once; and the approval is gone for the phone too.
    assertProblem(await verify(tenant, ticket, signin.challenge_id), 410, 'expired');
    const again = await page.evaluate(async ([t, a]) => {
      const r = await fetch(`/v1/${t}/approver/approval`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'ada', approval_id: a }) });
      return r.status;
    }, [tenant.id, signin.challenge_id]);
    assert.equal(again, 410);
  } finally {
    await device.close();
  }
});

/// Answers the approval open on the phone: `approve` with `number`, `deny` or `report`.
async function answer(device, kind, number) {
  const { page } = device;
  if (kind === 'approve') {
    await page.fill('#number', number);
    await page.click('#approve-button');
  } else {
    await page.click(kind === 'deny' ? '#deny-button' : '#report-button');
  }
  await page.locator('#answered').waitFor();
  return page.locator('#answered h1').textContent();
}

test('a wrong number is one counted guess that ends the approval; deny and "this was not me" refuse the sign-in, and a report is notified', LIMIT, async () => {
  const tenant = await createTenant(POLICY);
  await useReceiver(tenant, receiver);
  const device = await testingPhone();
  try {
    const { ticket } = await activate(tenant, 'bo', device);
    const wrongNumber = async () => {
      const signin = await challenge(tenant, ticket);
      const wrong = String((Number(signin.number) + 1) % 100).padStart(2, '0');
      await open(device, await messageFor(device.clientHash(), signin.challenge_id), signin.challenge_id);
      assert.equal(await answer(device, 'approve', wrong), 'Not approved');
      return signin;
    };
    const signin = await wrongNumber();
    const refused = await verify(tenant, ticket, signin.challenge_id);
    assertProblem(refused, 422, 'verification_failed');
    assert.match(refused.body.detail, /did not match/);
    const audit = await api('GET', `/v1/${tenant.id}/admin/audit?user=bo&type=verify.failed`, { token: tenant.admin_key });
    assert.ok(audit.body.events.some((e) => e.detail?.stage === 'approve' && e.factor?.type === 'push'), JSON.stringify(audit.body));
    // Every push is logged as a challenge, naming the phone it went to.
    const pushes = await api('GET', `/v1/${tenant.id}/admin/audit?user=bo&type=challenge.created`, { token: tenant.admin_key });
    assert.ok(pushes.body.events.some((e) => e.factor?.type === 'push' && e.detail?.challenge_id === signin.challenge_id), JSON.stringify(pushes.body));
    assert.equal(await device.page.locator('#account').textContent(), 'bo', 'the Approver says whose sign-in it is');
    const status = await api('GET', `/v1/${tenant.id}/admin/users/bo`, { token: tenant.admin_key });
    assert.equal(status.status, 200);

    // Denied: the next push waits 30 s after the first of the hour (test clock).
    let t = now() + 31;
    const second = await api('POST', `/v1/${tenant.id}/challenge`, { token: ticket, body: { type: 'push' }, headers: at(t) });
    assert.equal(second.status, 201, second.text);
    await open(device, await messageFor(device.clientHash(), second.body.challenge_id), second.body.challenge_id);
    assert.equal(await answer(device, 'deny'), 'Denied');
    const denied = await verify(tenant, ticket, second.body.challenge_id, at(t));
    assertProblem(denied, 422, 'verification_failed');
    assert.match(denied.body.detail, /denied/);

    t += 61;
    const third = await api('POST', `/v1/${tenant.id}/challenge`, { token: ticket, body: { type: 'push' }, headers: at(t) });
    assert.equal(third.status, 201, third.text);
    await open(device, await messageFor(device.clientHash(), third.body.challenge_id), third.body.challenge_id);
    assert.equal(await answer(device, 'report'), 'Reported');
    assertProblem(await verify(tenant, ticket, third.body.challenge_id, at(t)), 422, 'verification_failed');
    const reported = await receiver.waitFor((d) => d.payload?.type === 'approval.reported' && d.payload?.data?.user === 'bo');
    assert.equal(reported.payload.data.challenge_id, third.body.challenge_id);
    const answered = await api('GET', `/v1/${tenant.id}/admin/audit?user=bo&type=approval.answered`, { token: tenant.admin_key });
    assert.ok(answered.body.events.some((e) => e.outcome === 'failure' && e.reason === 'reported_not_me'));
  } finally {
    await device.close();
  }
});

test('one approval at a time, growing waits between pushes, and an approval expires', LIMIT, async () => {
  const tenant = await createTenant(POLICY);
  const device = await testingPhone();
  try {
    const { ticket } = await activate(tenant, 'cy', device);
    const signin = await challenge(tenant, ticket);
    const second = await api('POST', `/v1/${tenant.id}/challenge`, { token: ticket, body: { type: 'push' } });
    assertProblem(second, 429, 'rate_limited');
    const retry = Number(second.headers.get('retry-after'));
    assert.ok(retry > 0 && retry <= 300, `Retry-After ${retry}`);
    // Five minutes on, the approval has expired: the sign-in page gets 410.
    const later = now() + 301;
    assertProblem(await verify(tenant, ticket, signin.challenge_id, at(later)), 410, 'expired');
    // The phone cannot answer it either.
    const status = await device.page.evaluate(async ([base, t, a]) => {
      const r = await fetch(`${base}/v1/${t}/approver/approval`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-edge-mfa-test-now': String(Math.floor(Date.now() / 1000) + 301) }, body: JSON.stringify({ user: 'cy', approval_id: a }) });
      return r.status;
    }, [BASE, tenant.id, signin.challenge_id]);
    assert.equal(status, 410);
  } finally {
    await device.close();
  }
});

/// Signs an answer in `device`'s page with its credential: the body to POST to
/// `approver/answer`, without sending it.
async function signedAnswer(device, { tenant, user, approval, kind, number, rpId, credentialId }) {
  return device.page.evaluate(async ({ tenant, user, approval, kind, number, rpId, credentialId }) => {
    const enc = new TextEncoder();
    const parts = [enc.encode('edge-mfa approval\0'), enc.encode(approval), new Uint8Array([0]), enc.encode(kind === 'approve' ? number : kind)];
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { bytes.set(p, at); at += p.length; }
    const challenge = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    const b64 = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4)), (c) => c.charCodeAt(0));
    const credential = await navigator.credentials.get({
      publicKey: { challenge, rpId, allowCredentials: credentialId ? [{ type: 'public-key', id: b64(credentialId) }] : [], userVerification: 'required' },
    });
    const body = { user, approval_id: approval, answer: kind, credential: credential.toJSON() };
    if (kind === 'approve') body.number = number;
    return body;
  }, { tenant: tenant.id, user, approval, kind, number, rpId, credentialId });
}

const postAnswer = (tenant, body) => api('POST', `/v1/${tenant.id}/approver/answer`, { body, headers: { origin: BASE } });

test("another user's Approver, another credential and a replayed answer are refused", LIMIT, async () => {
  const tenant = await createTenant(POLICY);
  const ada = await testingPhone();
  const bo = await testingPhone();
  try {
    const { ticket: adaTicket } = await activate(tenant, 'ada', ada);
    const { ticket: boTicket } = await activate(tenant, 'bo', bo);
    const view = async (device, user, approval) => device.page.evaluate(async ([t, u, a]) => {
      const r = await fetch(`/v1/${t}/approver/approval`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: u, approval_id: a }) });
      return r.json();
    }, [tenant.id, user, approval]);

    // Bo's phone signs an answer to Ada's approval, with its own credential.
    const adaSignin = await challenge(tenant, adaTicket);
    const adaView = await view(ada, 'ada', adaSignin.challenge_id);
    const boSignin = await challenge(tenant, boTicket);
    const boView = await view(bo, 'bo', boSignin.challenge_id);
    const forged = await signedAnswer(bo, { tenant, user: 'ada', approval: adaSignin.challenge_id, kind: 'approve', number: adaSignin.number, rpId: boView.rp_id, credentialId: boView.credential_id });
    assertProblem(await postAnswer(tenant, forged), 422, 'verification_failed');
    assert.equal((await verify(tenant, adaTicket, adaSignin.challenge_id)).status, 202, "Ada's approval still waits");

    // Another credential on Ada's own phone (not the one activated).
    await ada.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: ada.authenticatorId });
    const other = await ada.cdp.send('WebAuthn.addVirtualAuthenticator', { options: PLATFORM_UV });
    await ada.page.evaluate(async (rpId) => {
      await navigator.credentials.create({ publicKey: { challenge: new Uint8Array(32), rp: { id: rpId, name: 'x' }, user: { id: new Uint8Array(16), name: 'x', displayName: 'x' }, pubKeyCredParams: [{ type: 'public-key', alg: -7 }], authenticatorSelection: { userVerification: 'required', residentKey: 'required' } } });
    }, adaView.rp_id);
    const stranger = await signedAnswer(ada, { tenant, user: 'ada', approval: adaSignin.challenge_id, kind: 'approve', number: adaSignin.number, rpId: adaView.rp_id });
    assertProblem(await postAnswer(tenant, stranger), 422, 'verification_failed');
    await ada.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: other.authenticatorId });

    // Bo's own answer is accepted once; sent again, it is refused.
    const right = await signedAnswer(bo, { tenant, user: 'bo', approval: boSignin.challenge_id, kind: 'approve', number: boSignin.number, rpId: boView.rp_id, credentialId: boView.credential_id });
    const accepted = await postAnswer(tenant, right);
    assert.equal(accepted.status, 200, accepted.text);
    assert.deepEqual(accepted.body, { state: 'approved' });
    assertProblem(await postAnswer(tenant, right), 410, 'expired');
    // From a page elsewhere, the Approver's routes refuse.
    assertProblem(await api('POST', `/v1/${tenant.id}/approver/answer`, { body: right, headers: { origin: 'https://evil.example' } }), 403, 'forbidden');
  } finally {
    await ada.close();
    await bo.close();
  }
});

test('push messages are encrypted per RFC 8291 and signed per RFC 8292, as independent implementations read them', LIMIT, async () => {
  const tenant = await createTenant(POLICY);
  let held = null;
  let subscribedWith = null;
  const device = await phone(async (key) => {
    subscribedWith = key;
    held = rawService.subscription();
    return held.subscription;
  });
  try {
    const { ticket } = await activate(tenant, 'dee', device);
    const signin = await challenge(tenant, ticket);
    const message = rawService.received.find((m) => m.path === new URL(held.subscription.endpoint).pathname);
    assert.ok(message, 'the push service got the message');
    assert.equal(message.headers['content-encoding'], 'aes128gcm');
    assert.equal(message.headers['content-type'], 'application/octet-stream');
    assert.equal(message.headers.ttl, '300');
    assert.equal(message.headers.urgency, 'high');
    // RFC 8291 / RFC 8188, decrypted by http_ece with the user agent's keys.
    const plaintext = ece.decrypt(message.body, { version: 'aes128gcm', privateKey: held.ecdh, authSecret: held.auth.toString('base64url') }).toString('utf8');
    assert.deepEqual(JSON.parse(plaintext), { v: 1, t: tenant.id, u: 'dee', a: signin.challenge_id });
    assert.ok(message.body.length <= 4096);
    // RFC 8292: `vapid t=<JWT>, k=<key>`; jose checks the ES256 signature with k.
    const auth = /^vapid t=([^,]+), k=([A-Za-z0-9_-]+)$/.exec(message.headers.authorization);
    assert.ok(auth, message.headers.authorization);
    const [, token, k] = auth;
    const point = Buffer.from(k, 'base64url');
    assert.equal(point.length, 65);
    assert.equal(point[0], 4);
    const key = await importJWK({ kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') }, 'ES256');
    const { payload } = await jwtVerify(token, key, { audience: rawService.url, algorithms: ['ES256'] });
    assert.equal(decodeProtectedHeader(token).alg, 'ES256');
    assert.ok(payload.exp > now() && payload.exp <= now() + 24 * 3600, `exp ${payload.exp}`);
    assert.match(payload.sub, /^(mailto:|https?:)/);
    // The key the phone subscribed with (applicationServerKey) is the one that signs.
    assert.equal(k, subscribedWith);
  } finally {
    await device.close();
  }
});

test('an endpoint off the push services is refused; a subscription that ended fails the push (502) and voids its approval', LIMIT, async () => {
  const tenant = await createTenant(POLICY);
  const evil = await phone(async () => ({ endpoint: 'https://evil.example/push/1', expirationTime: null, keys: rawService.subscription().subscription.keys }));
  try {
    const ticket = await ticketFor(tenant, 'eve', { ttl: 900 });
    const enroll = await api('POST', `/v1/${tenant.id}/enroll`, { token: ticket, body: { type: 'push' } });
    await evil.page.goto(enroll.body.activation_url);
    await evil.page.click('#activate-button');
    await evil.page.locator('#status').filter({ hasText: 'Setting up failed' }).waitFor();
    assert.match(await evil.page.locator('#status').textContent(), /not the host of a push service/);
    assert.equal((await api('POST', `/v1/${tenant.id}/enroll/${enroll.body.enrollment_id}/confirm`, { token: ticket, body: {} })).status, 202);
    // A credential no authenticator made, for the options the phone asked for: 422.
    const link = JSON.parse(Buffer.from(enroll.body.activation_url.split('#activate=')[1], 'base64url'));
    const forged = { user: 'eve', enrollment_id: link.e, activation_code: link.c, credential: FORM_ONLY_CREDENTIAL, subscription: FCM_SUBSCRIPTION };
    assertProblem(await api('POST', `/v1/${tenant.id}/approver/activate`, { body: forged, headers: { origin: BASE } }), 422, 'verification_failed');
  } finally {
    await evil.close();
  }
  const device = await testingPhone();
  try {
    const { ticket } = await activate(tenant, 'fay', device);
    await pushService.expire(device.clientHash());
    const failed = await api('POST', `/v1/${tenant.id}/challenge`, { token: ticket, body: { type: 'push' } });
    assertProblem(failed, 502, 'delivery_failed');
    assert.match(failed.body.detail, /subscription has ended/);
    // Void: no approval is left pending, so the next one is not held back by it.
    const audit = await api('GET', `/v1/${tenant.id}/admin/audit?user=fay&type=code.sent`, { token: tenant.admin_key });
    assert.ok(audit.body.events.some((e) => e.outcome === 'failure' && e.reason === 'delivery_failed'), JSON.stringify(audit.body));
  } finally {
    await device.close();
  }
});

test('the sign-in page\'s <edge-mfa-prompt> enrolls a phone and signs in with push, showing the number and waiting for the phone', LIMIT, async () => {
  // The demo page (a tenant's sign-in page) with the prompt, on the runtime's origin.
  const tenant = await createTenant(POLICY, [new URL(BASE).origin]);
  // The name the Approver shows, as a tenant would set it (the README's pictures).
  const renamed = await api('PATCH', `/v1/${tenant.id}/admin/tenant`, { token: tenant.admin_key, body: { name: 'Acme' } });
  assert.equal(renamed.status, 200, renamed.text);
  const device = await testingPhone();
  const signin = await browser.newContext({ viewport: { width: 560, height: 860 } });
  const phoneShot = async (name) => device.page.screenshot({ path: join(SHOTS, `${name}.png`) });
  const pageShot = async (page, name) => page.locator('main').screenshot({ path: join(SHOTS, `${name}.png`) });
  try {
    await device.page.setViewportSize({ width: 400, height: 760 });
    const completed = [];
    const page = await signin.newPage();
    await page.exposeFunction('recordCompletion', (detail) => completed.push(detail));
    await page.addInitScript(() => document.addEventListener('edge-mfa-complete', (e) => window.recordCompletion(e.detail)));
    const ticket = await ticketFor(tenant, 'gus', { ttl: 900 });
    await page.goto(`${BASE}/demo/#tenant=${tenant.id}&ticket=${ticket}`);
    const prompt = page.locator('edge-mfa-prompt');
    await prompt.getByRole('button', { name: /Approve on your phone/ }).click();
    await prompt.getByRole('heading', { name: 'Set up your phone' }).waitFor();
    await pageShot(page, '1-scan-on-the-sign-in-page');
    // What the phone's camera reads: the QR code as the browser drew it (zbarimg).
    const link = decodeQrPng(await prompt.locator('img.qr').screenshot());
    assert.ok(link.startsWith(`${BASE}/approver/#activate=`), link);
    assert.equal(await prompt.locator('.secret code').textContent(), link);

    await device.page.goto(link);
    await device.page.getByRole('heading', { name: 'Approve sign-ins to Acme with this phone' }).waitFor();
    await device.page.fill('#device-name', 'Gus’s phone');
    await phoneShot('2-approver-set-up');
    await device.page.click('#activate-button');
    await device.page.getByRole('heading', { name: 'This phone is set up' }).waitFor();
    // The prompt saw the phone activate: the backup codes, then done.
    await prompt.getByRole('heading', { name: /backup codes/i }).waitFor({ timeout: 15_000 });
    await prompt.getByRole('checkbox').check();
    await prompt.getByRole('button', { name: 'Continue' }).click();
    await page.waitForFunction(() => document.querySelector('#welcome') && !document.querySelector('#welcome').hidden);
    assert.equal(completed.at(-1).method, 'push');

    // Signing in again: the prompt asks the phone and shows the number.
    const again = await ticketFor(tenant, 'gus', { ttl: 900 });
    // A new link in the same tab starts over (the demo page's own rule).
    await page.goto(`${BASE}/demo/#tenant=${tenant.id}&ticket=${again}`);
    const number = prompt.locator('.number');
    await number.waitFor({ timeout: 15_000 });
    const shown = (await number.textContent()).trim();
    assert.match(shown, /^\d{2}$/);
    await prompt.getByText(/We sent a sign-in request to Gus’s phone/).waitFor();
    await pageShot(page, '3-number-on-the-sign-in-page');
    // The phone's push message: the latest the push service took for it (the
    // prompt shows the number once the challenge, and so the push, is made).
    const plaintext = (await pushService.messages(device.clientHash())).at(-1);
    const approval = JSON.parse(plaintext).a;
    await open(device, plaintext, approval);
    await phoneShot('4-approver-asks-for-the-number');
    await device.page.fill('#number', shown);
    await device.page.click('#approve-button');
    await device.page.getByRole('heading', { name: 'Approved' }).waitFor();
    await phoneShot('5-approver-approved');
    // The prompt was polling: it completes with the token.
    await page.waitForFunction((n) => document.querySelector('#welcome') && !document.querySelector('#welcome').hidden && n > 0, completed.length);
    for (let i = 0; i < 100 && completed.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    const done = completed.at(-1);
    assert.equal(done.method, 'push');
    const claims = await verifyMfaToken(tenant, done.mfaToken);
    assert.equal(claims.mfa_method, 'push');
    assert.equal(claims.sub, 'gus');
  } finally {
    await device.close();
    await signin.close();
  }
});
