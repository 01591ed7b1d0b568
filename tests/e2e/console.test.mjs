// The admin console (public/admin/) in a real browser: Debian's Chromium driven by
// playwright-core, through the page's roles and labels only, against the runtime
// that serves it. Sign in; find the locked user and unlock them; resolve a help
// request with a bypass; read both in the audit log; have an unusable policy refused
// in the server's own words; save a screenshot of the users page. The
// admin key must never reach a URL, the console or localStorage.
// Chromium missing is a failure, not a skip.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launchChromium } from './chromium.mjs';
import { api, BASE, createTenant, enrollTotp, now, ticketFor, wrongCode } from './client.mjs';

// The screenshot goes to a temporary directory, or, to refresh the one the README
// shows, to EDGE_MFA_SCREENSHOTS (e.g. EDGE_MFA_SCREENSHOTS=docs/images).
const IMAGES = resolve(process.env.EDGE_MFA_SCREENSHOTS ?? join(tmpdir(), 'edge-mfa-screenshots'));
let browser;

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

const etag = (res) => Number(JSON.parse(res.headers.get('etag')));

/// A tenant with: "locked-user" locked out by wrong TOTP codes, "helpless" asking
/// for help, and two ordinary users for the screenshot.
async function tenantWithUsers() {
  const tenant = await createTenant();
  const admin = (method, path, body) => api(method, `/v1/${tenant.id}/admin/${path}`, { token: tenant.admin_key, body });

  const locked = await enrollTotp(tenant, 'locked-user');
  const wrong = wrongCode(locked.secret, locked.t);
  let status;
  for (let i = 0; i < 20 && status !== 429; i++) {
    status = (await api('POST', `/v1/${tenant.id}/verify`, { token: locked.ticket, body: { type: 'totp', code: wrong } })).status;
  }
  assert.equal(status, 429, 'wrong codes end in a lockout');
  assert.ok((await admin('GET', 'users/locked-user')).body.locked_until > now());

  const help = await api('POST', `/v1/${tenant.id}/help`, { token: await ticketFor(tenant, 'helpless'), body: { message: 'lost my phone' } });
  assert.equal(help.status, 202, help.text);
  assert.ok(help.body.request_id);

  await enrollTotp(tenant, 'alice@example.com');
  const assessed = await api('POST', `/v1/${tenant.id}/assess`, { token: await ticketFor(tenant, 'new-hire'), body: {} });
  assert.equal(assessed.status, 200, assessed.text);
  return { tenant, admin, requestId: help.body.request_id };
}

test('the admin console: unlock a locked user, resolve a help request, read the audit log, a refused policy; the key stays out of URLs', async () => {
  const { tenant, admin, requestId } = await tenantWithUsers();
  const key = tenant.admin_key;

  // A phone first (390 px); the screenshot at the end is on a desktop.
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, acceptDownloads: true });
  const page = await context.newPage();
  const leaks = [];
  const blocked = [];
  const errors = [];
  const puts = [];
  page.on('request', (r) => {
    if (r.url().includes(key)) leaks.push(`request ${r.url()}`);
    if (r.method() === 'PUT') puts.push(r.url());
  });
  page.on('console', (m) => {
    if (m.text().includes(key)) leaks.push(`console ${m.text()}`);
    // A violation reads "Refused to ..."; the note that a <meta> CSP ignores
    // frame-ancestors is not one.
    if (/^Refused to/.test(m.text())) blocked.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('dialog', (d) => d.accept()); // "Reset MFA?" and the like
  const keyNotInUrl = () => assert.ok(!page.url().includes(key), `the admin key is in the URL ${page.url()}`);
  const storage = () => page.evaluate(() => ({ local: localStorage.length, session: Object.keys(sessionStorage) }));

  try {
    await page.goto(`${BASE}/admin/`);

    // A wrong key is refused, and the form stays.
    await page.getByLabel('Tenant id').fill(tenant.id);
    await page.getByLabel('Admin key').fill('not-the-admin-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'refused the admin key' }).waitFor();
    assert.deepEqual(await storage(), { local: 0, session: [] }, 'nothing is kept for a refused key');

    await page.getByLabel('Admin key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    assert.match(await page.getByRole('banner').textContent(), new RegExp(`Tenant ${tenant.id}`), 'the header shows the tenant\'s name');
    assert.equal((await storage()).local, 0, 'nothing in localStorage');
    assert.equal((await storage()).session.length, 1, 'the session is in sessionStorage');
    keyNotInUrl();

    // Reloading the tab keeps the session.
    await page.reload();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    keyNotInUrl();

    // Users, filtered to "locked": exactly locked-user.
    const users = page.getByRole('region', { name: 'Users', exact: true });
    await users.getByRole('table', { name: /^Users: \d+ shown$/ }).waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the page fits a 390 px phone (the tables scroll in their own box): ${width}`);
    await users.getByLabel('Status').selectOption('locked');
    const lockedTable = users.getByRole('table', { name: 'Users: 1 shown (status locked)', exact: true });
    await lockedTable.waitFor();
    assert.deepEqual(await lockedTable.getByRole('rowheader').allTextContents(), ['locked-user']);
    assert.match(await lockedTable.getByRole('row').nth(1).textContent(), /locked/);

    // The CSV of the same query, fetched with the key in a header.
    const [download] = await Promise.all([page.waitForEvent('download'), users.getByRole('button', { name: 'Download CSV' }).click()]);
    const csv = readFileSync(await download.path(), 'utf8');
    assert.match(csv, /locked-user/);
    assert.ok(!csv.includes('helpless'), 'the CSV has the filter too');

    // The user's detail: unlock.
    await lockedTable.getByRole('button', { name: 'locked-user', exact: true }).click();
    const detail = page.getByRole('dialog', { name: 'locked-user', exact: true });
    await detail.getByRole('heading', { name: 'locked-user', exact: true }).waitFor();
    await detail.getByText(/^Backup codes left$/).waitFor();
    assert.match(await detail.textContent(), /totp/, 'the factor is listed');
    await detail.getByRole('button', { name: 'Unlock' }).click();
    await detail.getByRole('status').filter({ hasText: 'Unlocked locked-user' }).waitFor();
    assert.match(await detail.textContent(), /Not locked/, 'the detail was reloaded');
    await detail.getByRole('button', { name: 'Close' }).click();
    await users.getByRole('table', { name: 'Users: 0 shown (status locked)', exact: true }).waitFor();
    const unlocked = await admin('GET', 'users/locked-user');
    assert.equal(unlocked.status, 200, unlocked.text);
    assert.equal(unlocked.body.locked_until, undefined, 'unlocked on the server');
    keyNotInUrl();

    // Help requests: resolve helpless's with a 30-minute bypass.
    await page.getByRole('button', { name: 'Help requests', exact: true }).click();
    const request = page.getByRole('article', { name: 'Help request from helpless' });
    await request.waitFor();
    assert.match(await request.textContent(), /lost my phone/);
    // The reference the prompt showed the user, to match a call or an email to it.
    assert.equal(await request.locator('code').textContent(), requestId);
    await request.getByLabel('Action').selectOption('bypass');
    await request.getByLabel('Bypass minutes').fill('30');
    await request.getByLabel('Note').fill('identity checked by phone');
    await request.getByRole('button', { name: 'Resolve' }).click();
    await page.getByRole('status').filter({ hasText: 'Resolved the request from helpless' }).waitFor();
    await request.waitFor({ state: 'detached' });
    const resolved = await admin('GET', 'help-requests?state=resolved');
    assert.equal(resolved.status, 200, resolved.text);
    const mine = resolved.body.requests.find((r) => r.id === requestId);
    assert.ok(mine, `the request is among the resolved: ${resolved.text}`);
    assert.equal(mine.state, 'resolved');
    assert.equal(mine.action, 'bypass');
    assert.equal(mine.note, 'identity checked by phone');
    const helpless = await admin('GET', 'users/helpless');
    assert.ok(helpless.body.bypass_until > now() + 25 * 60 && helpless.body.bypass_until <= now() + 31 * 60, helpless.text);

    // Audit log: the unlock, the resolution and the bypass.
    await page.getByRole('button', { name: 'Audit log', exact: true }).click();
    const audit = page.getByRole('region', { name: 'Audit log', exact: true });
    await audit.getByRole('table', { name: /^Audit events, oldest first: \d+ shown/ }).waitFor();
    await audit.getByLabel('User', { exact: true }).fill('locked-user');
    await audit.getByLabel('Event type').selectOption('user.unlocked');
    await audit.getByRole('button', { name: 'Apply filters' }).click();
    const unlocks = audit.getByRole('table', { name: /^Audit events, oldest first: \d+ shown \(user “locked-user”, type user\.unlocked\)/ });
    await unlocks.waitFor();
    assert.equal(await unlocks.getByRole('row').filter({ hasText: 'user.unlocked' }).filter({ hasText: 'locked-user' }).count(), 1);

    await audit.getByLabel('User', { exact: true }).fill('helpless');
    await audit.getByLabel('Event type').selectOption('');
    await audit.getByRole('button', { name: 'Apply filters' }).click();
    const helpEvents = audit.getByRole('table', { name: /^Audit events, oldest first: \d+ shown \(user “helpless”\)/ });
    await helpEvents.waitFor();
    for (const type of ['help_request.resolved', 'bypass.granted']) {
      const rows = helpEvents.getByRole('row').filter({ hasText: type }).filter({ hasText: 'helpless' });
      assert.ok(await rows.count() >= 1, `an audit row ${type} for helpless`);
    }
    keyNotInUrl();

    // Policy: a JSON typo is explained without sending; an unusable policy is
    // refused with the server's own words and changes nothing; a good one saves.
    await page.getByRole('button', { name: 'Policy', exact: true }).click();
    const policy = page.getByRole('region', { name: 'Policy', exact: true });
    await policy.getByText(/^Version \d+$/).waitFor();
    const text = policy.getByLabel('Policy (JSON)');
    const stored = await admin('GET', 'policy');
    assert.deepEqual(JSON.parse(await text.inputValue()), stored.body);

    await text.fill('{"mode": ');
    await policy.getByRole('button', { name: 'Save policy' }).click();
    await policy.getByRole('alert').filter({ hasText: 'Not valid JSON' }).waitFor();
    assert.deepEqual(puts, [], 'invalid JSON is not sent');

    const unusable = { allowed_methods: ['backup_code'] };
    const direct = await admin('PUT', 'policy', unusable);
    assert.equal(direct.status, 400, direct.text);
    await text.fill(JSON.stringify(unusable, null, 2));
    await policy.getByRole('button', { name: 'Save policy' }).click();
    const refusal = policy.getByRole('alert').filter({ hasText: direct.body.detail });
    await refusal.waitFor();
    assert.ok((await refusal.textContent()).includes(direct.body.detail), 'the server\'s detail, verbatim');
    const unchanged = await admin('GET', 'policy');
    assert.deepEqual(unchanged.body, stored.body);
    assert.equal(etag(unchanged), etag(stored));

    await text.fill(JSON.stringify({ ...stored.body, grace_period_days: 3 }, null, 2));
    await policy.getByRole('button', { name: 'Save policy' }).click();
    const saved = policy.getByRole('status').filter({ hasText: /^Policy saved \(version \d+\)$/ });
    await saved.waitFor();
    const savedPolicy = await admin('GET', 'policy');
    assert.equal(savedPolicy.body.grace_period_days, 3);
    assert.equal(await saved.textContent(), `Policy saved (version ${etag(savedPolicy)})`);

    // The tenant: a new origin for the sign-in page is added here; one outside
    // the RP ID is refused with the server's words and changes nothing.
    await page.getByRole('button', { name: 'Tenant', exact: true }).click();
    const tenantView = page.getByRole('region', { name: 'Tenant', exact: true });
    const origins = tenantView.getByLabel('Origins, one per line');
    const was = await admin('GET', 'tenant');
    await page.waitForFunction((v) => document.getElementById('tenant-field-origins').value === v, was.body.origins.join('\n'));
    await origins.fill(`${was.body.origins.join('\n')}\nhttps://evil.example.net`);
    await tenantView.getByRole('button', { name: 'Save tenant' }).click();
    await tenantView.getByRole('alert').filter({ hasText: /origin/ }).waitFor();
    assert.deepEqual((await admin('GET', 'tenant')).body.origins, was.body.origins);
    await origins.fill(`${was.body.origins.join('\n')}\nhttp://localhost:5174`);
    await tenantView.getByRole('button', { name: 'Save tenant' }).click();
    await tenantView.getByRole('status').filter({ hasText: 'Tenant saved' }).waitFor();
    assert.deepEqual((await admin('GET', 'tenant')).body.origins, [...was.body.origins, 'http://localhost:5174']);

    // The screenshot for the docs: every user, on a desktop.
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole('button', { name: 'Users', exact: true }).click();
    await users.getByLabel('Status').selectOption('');
    const all = users.getByRole('table', { name: /^Users: \d+ shown$/ });
    await all.waitFor();
    assert.deepEqual((await all.getByRole('rowheader').allTextContents()).sort(), ['alice@example.com', 'helpless', 'locked-user', 'new-hire']);
    mkdirSync(IMAGES, { recursive: true });
    await page.screenshot({ path: resolve(IMAGES, 'admin-users.png'), fullPage: true });
    keyNotInUrl();

    // Signing out forgets the key and what was shown.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.deepEqual(await storage(), { local: 0, session: [] });
    assert.equal(await page.getByRole('button', { name: 'locked-user' }).count(), 0);
    assert.equal(await page.getByLabel('Admin key').inputValue(), '');

    // A key that stops working mid-session (rotated) sends the admin back to the
    // form with a message, and forgets it.
    await page.getByLabel('Tenant id').fill(tenant.id);
    await page.getByLabel('Admin key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    const rotated = await admin('POST', 'keys/admin-key/rotate');
    assert.equal(rotated.status, 200, rotated.text);
    await page.getByRole('button', { name: 'Policy', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'refused the admin key' }).waitFor();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.deepEqual(await storage(), { local: 0, session: [] });
    assert.equal(await policy.getByLabel('Policy (JSON)').count(), 0, 'the policy view is gone');

    assert.deepEqual(leaks, [], 'the admin key never appears in a URL or the console');
    assert.deepEqual(blocked, [], 'the Content-Security-Policy blocks nothing the page does');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
