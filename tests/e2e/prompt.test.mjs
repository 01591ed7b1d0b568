// <edge-mfa-prompt> in Chromium (playwright-core), on the demo page each runtime
// serves under its strict CSP: enrollment from the QR code (zbarimg reads what the
// browser drew, oathtool makes the code), passkeys with a CDP virtual authenticator,
// backup codes, "remember this device", the lockout countdown, help, the keyboard
// alone, and an axe-core scan of every step. The server's clock is moved with the
// test-hooks header, added to the page's API requests by Playwright's router; the
// page's own clock (the countdown) with Playwright's clock.
//
// Screenshots of every step go to build/prompt-screenshots; with
// EDGE_MFA_UPDATE_SCREENSHOTS=1 to docs/images/prompt (committed, in the README).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { launchChromium } from './chromium.mjs';
import { startReceiver } from './receiver.mjs';
import { mintTicket, verifyMfaToken as backendCheck } from '../../docs/examples/backend.mjs';
import {
  api, BASE, createTenant, decodeQrPng, enrollPasskey, enrollTotp, now, oathtool, ticketFor, useReceiver, verifyMfaToken, wrongCode,
} from './client.mjs';

const root = new URL('../..', import.meta.url).pathname;
const SHOTS = process.env.EDGE_MFA_UPDATE_SCREENSHOTS ? join(root, 'docs/images/prompt') : join(root, 'build/prompt-screenshots');
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const CTAP2_INTERNAL_UV = { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true };

let browser;
let receiver;
before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchChromium();
  receiver = await startReceiver();
});
after(async () => {
  await browser?.close();
  await receiver?.close();
});

/// A tenant offering email codes, its webhook pointed at the test's receiver.
async function codeTenant() {
  const tenant = await tenantFor({ allowed_methods: ['email', 'totp', 'backup_code'], default_method: 'email' });
  await useReceiver(tenant, receiver);
  return tenant;
}

/// The code of the newest delivery to `user` for `purpose` (enroll, challenge) since `since` (ms).
const codeSent = async (user, purpose, since) =>
  (await receiver.waitFor((d) => d.at >= since && d.payload?.data?.user === user && d.payload.data.purpose === purpose)).payload.data;

const tenantFor = (policy) => createTenant(policy, [new URL(BASE).origin]);

/// The demo page for `sub`, its API requests at the server time `clock.t`.
async function open(tenant, sub, { authenticator, fakeTime, claims, headers: extraHeaders = {}, ticket: givenTicket } = {}) {
  const context = await browser.newContext({ viewport: { width: 560, height: 860 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(BASE).origin });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // The browser logs every 4xx as "Failed to load resource"; those are expected here.
  page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && errors.push(m.text()));
  const clock = { t: now() };
  await page.route('**/v1/**', async (route) => {
    const headers = await route.request().allHeaders();
    await route.continue({ headers: { ...headers, ...extraHeaders, 'x-edge-mfa-test-now': String(clock.t) } });
  });
  if (fakeTime) await page.clock.install();
  let authenticatorId;
  let cdp;
  if (authenticator) {
    cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: authenticator }));
  }
  const ticket = givenTicket ?? await ticketFor(tenant, sub, { ttl: 900, ...(claims ? { extra: claims } : {}) });
  const completions = [];
  const events = [];
  await page.exposeFunction('recordCompletion', (detail) => completions.push(detail));
  await page.exposeFunction('recordEvent', (type, detail) => events.push({ type, ...detail }));
  await page.addInitScript(() => {
    document.addEventListener('edge-mfa-complete', (e) => window.recordCompletion(e.detail));
    document.addEventListener('edge-mfa-denied', (e) => window.recordEvent(e.type, e.detail));
    document.addEventListener('edge-mfa-error', (e) => window.recordEvent(e.type, { status: e.detail.status, message: String(e.detail.error) }));
  });
  await page.goto(`${BASE}/demo/#tenant=${tenant.id}&ticket=${ticket}`);
  return { page, clock, cdp, authenticatorId, ticket, errors, completions, events, close: () => context.close() };
}

const heading = (page) => page.locator('edge-mfa-prompt h2');
/// The focused element, inside the prompt's shadow root if it is there.
const focused = (page) => page.evaluate(() => {
  let e = document.activeElement;
  while (e?.shadowRoot?.activeElement) e = e.shadowRoot.activeElement;
  return { tag: e?.tagName.toLowerCase(), id: e?.id || null, text: e?.textContent?.trim().slice(0, 60) ?? null, type: e?.getAttribute('type') };
});

async function shot(page, name) {
  await page.locator('main').screenshot({ path: join(SHOTS, `${name}.png`) });
}

/// axe-core on the whole page (it enters open shadow roots): no serious or
/// critical violation. Evaluated through CDP, which the page's CSP does not govern.
async function scan(page, step, found) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  for (const v of result.violations) {
    if (v.impact === 'serious' || v.impact === 'critical') {
      found.push(`${step}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    }
  }
}

async function until(condition, ms = 10_000) {
  for (const end = Date.now() + ms; !condition(); await new Promise((r) => setTimeout(r, 50))) {
    assert.ok(Date.now() < end, `not within ${ms} ms: ${condition}`);
  }
}

/// The `n`th sign-in of this page: its edge-mfa-complete event, then the page's welcome.
async function waitForWelcome(d, n) {
  await until(() => d.completions.length === n);
  await d.page.locator('#welcome h1').waitFor({ state: 'visible' });
  const claims = JSON.parse(await d.page.textContent('#claims'));
  const detail = d.completions[n - 1];
  assert.equal(claims.jti, JSON.parse(Buffer.from(detail.mfaToken.split('.')[1], 'base64url')).jti, 'the page shows this sign-in\'s token');
  return { claims, detail };
}

test('the prompt offers what the user can set up (the policy\'s methods, codes only with a webhook), its default first', async () => {
  // Email is allowed, but with no webhook to deliver codes it cannot be set up: not offered.
  const onlyTotp = await tenantFor({ allowed_methods: ['totp', 'email', 'backup_code'], default_method: 'totp' });
  const a = await open(onlyTotp, 'ann');
  try {
    await heading(a.page).filter({ hasText: 'Set up two-step verification' }).waitFor();
    assert.deepEqual(await a.page.locator('edge-mfa-prompt button.choice .label').allTextContents(), ['Authenticator app']);
  } finally {
    await a.close();
  }
  const passkeyFirst = await tenantFor({ allowed_methods: ['totp', 'webauthn', 'backup_code'], default_method: 'webauthn' });
  const b = await open(passkeyFirst, 'ben');
  try {
    await heading(b.page).filter({ hasText: 'Set up two-step verification' }).waitFor();
    assert.deepEqual(await b.page.locator('edge-mfa-prompt button.choice .label').allTextContents(), ['Passkey or security key', 'Authenticator app']);
    // The scan can fail: a nameless button planted in the prompt's shadow root is found.
    const clean = [];
    await scan(b.page, 'clean', clean);
    assert.deepEqual(clean, []);
    await b.page.evaluate(() => document.querySelector('edge-mfa-prompt').shadowRoot.querySelector('.card').append(document.createElement('button')));
    const planted = [];
    await scan(b.page, 'planted', planted);
    assert.equal(planted.length, 1, planted.join('\n'));
    assert.match(planted[0], /^planted: button-name \(critical\)/);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('keyboard only: enroll an authenticator app from the QR code, keep the backup codes, sign in with it, remember the device', async () => {
  const tenant = await tenantFor();
  const d = await open(tenant, 'kim');
  const violations = [];
  const { page, clock } = d;
  try {
    await heading(page).filter({ hasText: 'Set up two-step verification' }).waitFor();
    assert.equal((await focused(page)).tag, 'h2', 'the step\'s heading has the focus');
    await scan(page, 'choose a method', violations);
    await shot(page, '1-choose-method');

    await page.keyboard.press('Tab');
    assert.match((await focused(page)).text, /^Authenticator app/);
    await page.keyboard.press('Enter');
    const qr = page.locator('edge-mfa-prompt img.qr');
    await qr.waitFor();
    await page.waitForFunction(() => document.querySelector('edge-mfa-prompt').shadowRoot.querySelector('img.qr').complete);
    assert.equal(await qr.getAttribute('alt'), 'QR code for your authenticator app');
    // What the browser drew, read by zbarimg; the key typed by hand is the same.
    const uri = new URL(decodeQrPng(await qr.screenshot()));
    assert.equal(uri.protocol, 'otpauth:');
    const secret = uri.searchParams.get('secret');
    assert.equal((await page.locator('edge-mfa-prompt .secret code').textContent()).replaceAll(' ', ''), secret);
    assert.equal((await focused(page)).tag, 'h2', 'the step starts at its heading: the QR code and the key come before the field');
    await scan(page, 'scan the QR code', violations);
    await shot(page, '2-scan-qr');
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).text, 'Copy key');
    await page.keyboard.press('Enter');
    await page.locator('edge-mfa-prompt button', { hasText: 'Key copied.' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
    await page.keyboard.press('Tab');
    assert.deepEqual(await focused(page), { tag: 'input', id: 'code', text: '', type: null });

    await page.keyboard.type(wrongCode(secret, clock.t));
    await page.keyboard.press('Enter');
    await page.locator('edge-mfa-prompt .error').filter({ hasText: 'That code is not right' }).waitFor();
    assert.equal((await focused(page)).id, 'code', 'after a wrong code the focus is back in the field');
    await page.keyboard.type(oathtool(secret, clock.t));
    await page.keyboard.press('Enter');

    await heading(page).filter({ hasText: 'Save your backup codes' }).waitFor();
    const codes = await page.locator('edge-mfa-prompt ol.codes li').allTextContents();
    assert.equal(codes.length, 10);
    const proceed = page.locator('edge-mfa-prompt button.primary', { hasText: 'Continue' });
    assert.equal(await proceed.isDisabled(), true, 'Continue waits until the codes are saved');
    await scan(page, 'backup codes', violations);
    await shot(page, '3-backup-codes');
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).text, 'Copy codes');
    await page.keyboard.press('Enter');
    await page.locator('edge-mfa-prompt').locator('p.status', { hasText: 'Codes copied.' }).waitFor();
    // Moved in the page (as a framework may do), the prompt keeps its step: the codes are shown once.
    await page.evaluate(() => { const p = document.querySelector('edge-mfa-prompt'); p.parentNode.append(p); p.shadowRoot.querySelector('button').focus(); });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await heading(page).textContent(), 'Save your backup codes');
    assert.deepEqual(await page.locator('edge-mfa-prompt ol.codes li').allTextContents(), codes);
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${codes.join('\n')}\n`);
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).text, 'Download codes');
    const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    assert.equal(download.suggestedFilename(), 'backup-codes.txt');
    assert.equal(readFileSync(await download.path(), 'utf8'), `${codes.join('\n')}\n`);
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).type, 'checkbox');
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).text, 'Continue');
    await page.keyboard.press('Enter');

    const enrolled = await waitForWelcome(d, 1);
    assert.equal(enrolled.detail.method, 'totp');
    const claims = await verifyMfaToken(tenant, enrolled.detail.mfaToken);
    assert.equal(claims.sub, 'kim');
    assert.equal(claims.mfa_method, 'totp');
    assert.equal(claims.acr, 'mfa');
    await shot(page, '4-signed-in');

    // The next sign-in: the code of a later step, and "remember this device".
    clock.t += 30;
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).id, 'again');
    await page.keyboard.press('Enter');
    await heading(page).filter({ hasText: 'Confirm it is you' }).waitFor();
    assert.equal((await focused(page)).id, 'code');
    await scan(page, 'verify with the app', violations);
    await shot(page, '5-verify-totp');
    await page.keyboard.type(oathtool(secret, clock.t));
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).id, 'remember');
    assert.equal(await page.locator('edge-mfa-prompt label[for=remember]').textContent(), 'Remember this device for 30 days');
    await page.keyboard.press('Space');
    await page.keyboard.press('Enter');
    const second = await waitForWelcome(d, 2);
    assert.equal(d.completions.length, 2);
    assert.equal((await verifyMfaToken(tenant, second.detail.mfaToken)).mfa_method, 'totp');

    // Remembered: the next assess lets the user through without a factor.
    await page.click('#again');
    await until(() => d.completions.length === 3);
    assert.equal(d.completions[2].method, 'none');
    const remembered = await verifyMfaToken(tenant, d.completions[2].mfaToken);
    assert.equal(remembered.mfa_method, 'trusted_device');
    assert.equal(remembered.acr, '0');
    assert.deepEqual(violations, []);
    assert.deepEqual(d.errors, []);
  } finally {
    await d.close();
  }
});

test('a passkey: registered from the prompt, then the default way in', async () => {
  const tenant = await tenantFor({ webauthn: { user_verification: 'required' } });
  const d = await open(tenant, 'pat', { authenticator: CTAP2_INTERNAL_UV });
  const violations = [];
  try {
    await d.page.locator('edge-mfa-prompt button.choice', { hasText: 'Passkey or security key' }).click();
    await heading(d.page).filter({ hasText: 'Create a passkey' }).waitFor();
    assert.equal((await focused(d.page)).tag, 'h2', 'the step starts at its heading, before the optional name');
    await scan(d.page, 'create a passkey', violations);
    await shot(d.page, '6-create-passkey');
    await d.page.getByLabel('Name for this passkey (optional)').fill('Laptop');
    await d.page.getByRole('button', { name: 'Create passkey' }).click();
    await heading(d.page).filter({ hasText: 'Save your backup codes' }).waitFor();
    await d.page.getByLabel('I have saved these codes').check();
    await d.page.getByRole('button', { name: 'Continue' }).click();
    const enrolled = await waitForWelcome(d, 1);
    assert.equal(enrolled.detail.method, 'webauthn');
    const factors = await api('GET', `/v1/${tenant.id}/factors`, { token: d.ticket });
    assert.deepEqual(factors.body.factors.map((f) => [f.type, f.name]), [['webauthn', 'Laptop']]);

    await d.page.click('#again');
    await heading(d.page).filter({ hasText: 'Confirm it is you' }).waitFor();
    assert.equal(await d.page.locator('edge-mfa-prompt form p').first().textContent(), 'Use your passkey or security key.');
    await scan(d.page, 'verify with a passkey', violations);
    await shot(d.page, '7-verify-passkey');
    await d.page.getByRole('button', { name: 'Use passkey' }).click();
    const signedIn = await waitForWelcome(d, 2);
    const claims = await verifyMfaToken(tenant, signedIn.detail.mfaToken);
    assert.equal(claims.mfa_method, 'webauthn');
    assert.deepEqual(claims.amr, ['hwk', 'user']);
    const { credentials } = await d.cdp.send('WebAuthn.getCredentials', { authenticatorId: d.authenticatorId });
    assert.equal(credentials[0].signCount, 2);

    // A second passkey (a software one, through the API with step-up): the prompt
    // says which one it asks for, and "another method" lists each by name.
    const second = await enrollPasskey(tenant, d.ticket, signedIn.detail.mfaToken);
    await d.page.click('#again');
    await d.page.locator('edge-mfa-prompt form p.muted').filter({ hasText: 'The one named “Laptop”.' }).waitFor();
    // Found trying the product: a passkey not on this device read "was not
    // created", and the focus fell to the page. Now its own words, focus kept.
    await d.cdp.send('WebAuthn.clearCredentials', { authenticatorId: d.authenticatorId });
    const use = d.page.getByRole('button', { name: 'Use passkey' });
    await use.focus();
    await d.page.keyboard.press('Enter');
    await d.page.locator('edge-mfa-prompt .error', { hasText: 'No passkey was used. Try again, or choose another method.' }).waitFor();
    assert.equal((await focused(d.page)).text, 'Use passkey');
    await d.page.getByRole('button', { name: 'Try another method' }).click();
    assert.deepEqual(await d.page.locator('edge-mfa-prompt button.choice .label').allTextContents(),
      ['Passkey or security key: Laptop', `Passkey or security key: ${second.name}`, 'Backup code']);
    assert.deepEqual(violations, []);
    assert.deepEqual(d.errors, []);
  } finally {
    await d.close();
  }
});

test('another method: a backup code; and asking for help', async () => {
  const tenant = await tenantFor();
  const user = await enrollTotp(tenant, 'bea');
  const d = await open(tenant, 'bea');
  const violations = [];
  try {
    await heading(d.page).filter({ hasText: 'Confirm it is you' }).waitFor();
    await d.page.getByRole('button', { name: 'Try another method' }).click();
    await heading(d.page).filter({ hasText: 'Choose another method' }).waitFor();
    // The app has its default name, the kind's own: not said twice.
    assert.equal(user.factor.name, 'Authenticator app');
    assert.deepEqual(await d.page.locator('edge-mfa-prompt button.choice .label').allTextContents(), ['Authenticator app', 'Backup code']);
    await scan(d.page, 'another method', violations);
    await shot(d.page, '8-another-method');
    await d.page.locator('edge-mfa-prompt button.choice', { hasText: 'Backup code' }).click();
    await d.page.getByLabel('Backup code').fill(user.backupCodes[0]);
    await d.page.getByRole('button', { name: 'Verify' }).click();
    const used = await waitForWelcome(d, 1);
    assert.equal(used.detail.method, 'backup_code');
    assert.equal(used.detail.backupCodesRemaining, 9);
    assert.equal(await d.page.textContent('#codes-left'), 'You signed in with a backup code; 9 left.');
    assert.equal((await verifyMfaToken(tenant, used.detail.mfaToken)).mfa_method, 'backup_code');
    const factors = await api('GET', `/v1/${tenant.id}/factors`, { token: d.ticket });
    assert.equal(factors.body.backup_codes_remaining, 9);

    await d.page.click('#again');
    await heading(d.page).filter({ hasText: 'Confirm it is you' }).waitFor();
    await d.page.getByRole('button', { name: 'Ask for help' }).click();
    await heading(d.page).filter({ hasText: 'Ask your administrator for help' }).waitFor();
    await scan(d.page, 'ask for help', violations);
    await d.page.getByLabel('Message').fill('Lost my phone');
    await d.page.getByRole('button', { name: 'Send request' }).click();
    const sent = await d.page.locator('edge-mfa-prompt p', { hasText: 'Your request was sent' }).textContent();
    const id = sent.match(/reference ([^)]+)\)/)[1];
    const status = await api('GET', `/v1/${tenant.id}/admin/users/bea`, { token: tenant.admin_key });
    assert.equal(status.body.help_request.id, id);
    assert.equal(status.body.help_request.message, 'Lost my phone');
    assert.deepEqual(violations, []);
    assert.deepEqual(d.errors, []);
  } finally {
    await d.close();
  }
});

test('lockout: the countdown from Retry-After, the form closed until it ends, then a code works', async () => {
  const tenant = await tenantFor({ lockout: { max_failures: 2, window_seconds: 120 } });
  const user = await enrollTotp(tenant, 'lou');
  const d = await open(tenant, 'lou', { fakeTime: true });
  const { page, clock } = d;
  const violations = [];
  try {
    clock.t = user.t + 30;
    await heading(page).filter({ hasText: 'Confirm it is you' }).waitFor();
    const timer = page.locator('edge-mfa-prompt [role=timer]');
    const code = page.getByLabel('The code the app shows');
    for (let attempt = 0; attempt < 4 && !(await timer.textContent()); attempt++) {
      await code.fill(wrongCode(user.secret, clock.t));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.waitForFunction(() => {
        const root = document.querySelector('edge-mfa-prompt').shadowRoot;
        return !root.querySelector('.card').hasAttribute('aria-busy');
      });
    }
    const first = await timer.textContent();
    assert.match(first, /^Codes are not accepted for a while\. You can try again in \d:\d\d\.$/);
    const seconds = (text) => { const [, m, s] = text.match(/(\d+):(\d\d)\.$/); return Number(m) * 60 + Number(s); };
    assert.ok(seconds(first) > 60 && seconds(first) <= 120, `the lockout window is 120 s: ${first}`);
    assert.equal(await code.isDisabled(), true);
    assert.deepEqual(await focused(page), { tag: 'p', id: null, text: first.slice(0, 60), type: null }, 'the closed field\'s focus moves to the countdown');
    await page.locator('edge-mfa-prompt p.status', { hasText: 'Too many attempts' }).waitFor();
    await scan(page, 'locked', violations);
    await shot(page, '9-locked');

    await page.clock.fastForward(20_000);
    const later = await timer.textContent();
    assert.ok(seconds(later) <= seconds(first) - 19, `${first} → ${later}`);
    assert.equal(await code.isDisabled(), true);

    // Over (on the server too): the field opens, says so and takes the focus.
    clock.t += 180;
    await page.clock.fastForward(seconds(later) * 1000 + 1000);
    await page.locator('edge-mfa-prompt p.status', { hasText: 'You can try again now.' }).waitFor();
    assert.equal(await code.isDisabled(), false);
    assert.equal(await timer.textContent(), '');
    assert.equal((await focused(page)).id, 'code');
    await code.fill(oathtool(user.secret, clock.t));
    await page.getByRole('button', { name: 'Verify' }).click();
    const done = await waitForWelcome(d, 1);
    assert.equal((await verifyMfaToken(tenant, done.detail.mfaToken)).mfa_method, 'totp');
    assert.deepEqual(violations, []);
    assert.deepEqual(d.errors, []);
  } finally {
    await d.close();
  }
});

/// The tenant's app of docs/examples/prompt.html on its own origin: the page, its
/// backend's ticket for the signed-in user, and its check of the token it is handed.
async function tenantApp(user, { listed = true } = {}) {
  const app = { checked: [], refused: [] };
  const html = readFileSync(join(root, 'docs/examples/prompt.html'), 'utf8');
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    if (req.method === 'GET' && req.url === '/') {
      const page = html.replaceAll('https://mfa.example.com', BASE).replace('tenant="acme"', `tenant="${app.tenant.id}"`);
      return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    }
    if (req.method === 'GET' && req.url === '/home') return res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Home</h1>');
    if (req.method === 'POST' && req.url === '/api/mfa-ticket') {
      return res.writeHead(200).end(await mintTicket({ tenant: app.tenant.id, ticketSecret: app.tenant.ticket_secret, user }));
    }
    if (req.method === 'POST' && req.url === '/api/mfa-done') {
      try {
        app.checked.push(await backendCheck({ base: BASE, tenant: app.tenant.id, token: body, expectedUser: user }));
        return res.writeHead(204).end();
      } catch (e) {
        app.refused.push(String(e));
        return res.writeHead(401).end();
      }
    }
    res.writeHead(404).end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  app.origin = `http://localhost:${server.address().port}`;
  app.tenant = await createTenant(undefined, listed ? [app.origin] : []);
  app.close = () => new Promise((r) => server.close(r));
  return app;
}

test('the README\'s integration: a tenant page on another origin loads the prompt from /sdk/ and its backend checks the token', async () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = readme.match(/^```html file=docs\/examples\/prompt\.html\n([\s\S]*?)^```$/m);
  assert.equal(block?.[1], readFileSync(join(root, 'docs/examples/prompt.html'), 'utf8'), 'the README shows docs/examples/prompt.html as it is');
  const app = await tenantApp('tara');
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${app.origin}/`);
    // Cross-origin: the module from /sdk/ (CORS), then every API call (CORS with credentials).
    await page.locator('edge-mfa-prompt button.choice', { hasText: 'Authenticator app' }).click();
    const qr = page.locator('edge-mfa-prompt img.qr');
    await qr.waitFor();
    await page.waitForFunction(() => document.querySelector('edge-mfa-prompt').shadowRoot.querySelector('img.qr').complete);
    const secret = new URL(decodeQrPng(await qr.screenshot())).searchParams.get('secret');
    await page.getByLabel('The code the app shows').fill(oathtool(secret, now()));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByLabel('I have saved these codes').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${app.origin}/home`);
    assert.deepEqual(app.refused, []);
    assert.equal(app.checked.length, 1);
    assert.equal(app.checked[0].claims.sub, 'tara');
    assert.equal(app.checked[0].mfa, true);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    await app.close();
  }
});

test('email codes: enrolled with a code from the webhook, then signed in; a resend too soon holds the button and counts down', async () => {
  const tenant = await codeTenant();
  const d = await open(tenant, 'em', { claims: { email: 'em@example.com' } });
  const violations = [];
  try {
    await d.page.locator('edge-mfa-prompt button.choice', { hasText: 'Email code' }).click();
    await d.page.getByLabel('Email address (leave empty to use the one on your account)').waitFor();
    let since = Date.now();
    await d.page.getByRole('button', { name: 'Send code' }).click();
    const enrollCode = await codeSent('em', 'enroll', since);
    assert.equal(enrollCode.to, 'em@example.com', 'empty means the ticket\'s address');
    await d.page.locator('edge-mfa-prompt form p', { hasText: 'We sent a code to' }).waitFor();
    await d.page.getByLabel('Code', { exact: true }).fill(enrollCode.code);
    await d.page.getByRole('button', { name: 'Confirm' }).click();
    await d.page.getByLabel('I have saved these codes').check();
    await d.page.getByRole('button', { name: 'Continue' }).click();
    assert.equal((await waitForWelcome(d, 1)).detail.method, 'email');

    d.clock.t += 60;
    since = Date.now();
    await d.page.click('#again');
    const sent = await codeSent('em', 'challenge', since);
    await d.page.locator('edge-mfa-prompt form p', { hasText: 'Enter the code we sent to' }).waitFor();
    const resend = d.page.getByRole('button', { name: 'Send a new code' });
    await resend.click();
    const wait = d.page.locator('edge-mfa-prompt [role=timer]', { hasText: 'You can ask for a new code in' });
    await wait.waitFor();
    assert.equal(await resend.isDisabled(), true, 'held while the wait runs');
    await scan(d.page, 'resend too soon', violations);
    await d.page.getByLabel('Code', { exact: true }).fill(sent.code);
    await d.page.getByRole('button', { name: 'Verify' }).click();
    const signedIn = await waitForWelcome(d, 2);
    assert.equal(signedIn.detail.method, 'email');
    const claims = await verifyMfaToken(tenant, signedIn.detail.mfaToken);
    assert.deepEqual([claims.mfa_method, claims.amr], ['email', ['otp']]);
    assert.deepEqual(violations, []);
    assert.deepEqual(d.errors, []);
  } finally {
    await d.close();
  }
});

test('an address the ticket vouches for: the factor at once, its backup codes kept, then a code to sign in', async () => {
  const tenant = await codeTenant();
  const d = await open(tenant, 'vee', { claims: { email: 'vee@example.com', email_verified: true } });
  try {
    await d.page.locator('edge-mfa-prompt button.choice', { hasText: 'Email code' }).click();
    const since = Date.now();
    await d.page.getByRole('button', { name: 'Send code' }).click();
    await heading(d.page).filter({ hasText: 'Save your backup codes' }).waitFor();
    assert.equal((await d.page.locator('edge-mfa-prompt ol.codes li').allTextContents()).length, 10);
    await d.page.getByLabel('I have saved these codes').check();
    await d.page.getByRole('button', { name: 'Continue' }).click();
    // Made without proof, so no token yet: the sign-in asks for a code.
    const sent = await codeSent('vee', 'challenge', since);
    await d.page.getByLabel('Code', { exact: true }).fill(sent.code);
    await d.page.getByRole('button', { name: 'Verify' }).click();
    assert.equal((await waitForWelcome(d, 1)).detail.method, 'email');
    assert.deepEqual(d.errors, []);
  } finally {
    await d.close();
  }
});

test('a denied sign-in says so and fires edge-mfa-denied; a refused ticket fires edge-mfa-error with 401', async () => {
  const tenant = await tenantFor({ mode: 'adaptive', adaptive: { deny_countries: ['KP'] } });
  const denied = await open(tenant, 'dan', { headers: { 'x-edge-mfa-test-country': 'KP' } });
  try {
    await heading(denied.page).filter({ hasText: 'Sign-in is not allowed' }).waitFor();
    await until(() => denied.events.length === 1);
    assert.deepEqual(denied.events, [{ type: 'edge-mfa-denied', reasons: ['denied_country'] }]);
    assert.equal(denied.completions.length, 0);
  } finally {
    await denied.close();
  }
  // Signed with another secret: well formed, refused.
  const refused = await open(tenant, 'rex', { ticket: await ticketFor({ ...tenant, ticket_secret: 'another-secret-another-secret-xx' }, 'rex') });
  try {
    await refused.page.locator('edge-mfa-prompt [role=alert]', { hasText: 'Your sign-in session has expired.' }).waitFor();
    await until(() => refused.events.length === 1);
    assert.equal(refused.events[0].type, 'edge-mfa-error');
    assert.equal(refused.events[0].status, 401);
    // A fixed ticket would fail again: no "Start again", the focus on the message,
    // and the demo page says how to get a new link.
    assert.equal(await refused.page.locator('edge-mfa-prompt button').count(), 0);
    assert.match((await focused(refused.page)).text, /^Your sign-in session has expired/);
    await refused.page.locator('#expired').waitFor({ state: 'visible' });
  } finally {
    await refused.close();
  }
});

test('a page whose origin the tenant does not list: the prompt says it cannot reach the service, and fires edge-mfa-error with status 0', async () => {
  const app = await tenantApp('uma', { listed: false });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const events = [];
    await page.exposeFunction('recordEvent', (detail) => events.push(detail));
    await page.addInitScript(() => document.addEventListener('edge-mfa-error', (e) => window.recordEvent({ status: e.detail.status })));
    await page.goto(`${app.origin}/`);
    // The browser refuses the answer to the preflight (403): fetch has no answer to give.
    await page.locator('edge-mfa-prompt [role=alert]', { hasText: 'Cannot reach the sign-in service' }).waitFor();
    await until(() => events.length === 1);
    assert.deepEqual(events, [{ status: 0 }]);
  } finally {
    await context.close();
    await app.close();
  }
});
