// docs/examples/backend.py (PyJWT) checks real mfa_tokens of this runtime: it
// accepts a token from a second factor, and refuses an expired one, another
// tenant's, another user's, and an `allow` from assess (acr "0") where a second
// factor is required.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { api, at, BASE, createTenant, now, oathtool, ticketFor } from './client.mjs';

const root = resolve(import.meta.dirname, '../..');
const PYTHON = process.env.EDGE_MFA_TEST_PYTHON ?? join(homedir(), '.cache/edge-mfa/venv/bin/python');
const EXAMPLE = join(root, 'docs/examples/backend.py');

/// Runs the example's command line: { ok, claims, refused }.
function backendPy(tenant, token, user, ...flags) {
  if (!existsSync(PYTHON)) throw new Error(`the tests' Python is required at ${PYTHON} (scripts/install test puts it there)`);
  const r = spawnSync(PYTHON, [EXAMPLE, BASE, tenant.id, user, ...flags], { input: token, encoding: 'utf8' });
  if (r.error) throw r.error;
  assert.ok(r.status === 0 || r.status === 1, `backend.py crashed (${r.status}): ${r.stderr}`);
  return r.status === 0 ? { ok: true, claims: JSON.parse(r.stdout) } : { ok: false, refused: r.stderr.trim() };
}

/// An mfa_token from a TOTP verify, the whole sign-in at Unix time `t` (test
/// hooks set the runtime's clock).
async function verifiedToken(tenant, user, t = now()) {
  const ticket = await ticketFor(tenant, user, { now: t });
  const enroll = await api('POST', `/v1/${tenant.id}/enroll`, { token: ticket, body: { type: 'totp' }, headers: at(t) });
  assert.equal(enroll.status, 201, enroll.text);
  const confirm = await api('POST', `/v1/${tenant.id}/enroll/${enroll.body.enrollment_id}/confirm`, { token: ticket, body: { code: oathtool(enroll.body.secret, t) }, headers: at(t) });
  assert.equal(confirm.status, 201, confirm.text);
  // A code of the next step: the one confirm used is spent.
  const verified = await api('POST', `/v1/${tenant.id}/verify`, { token: ticket, body: { type: 'totp', code: oathtool(enroll.body.secret, t + 30) }, headers: at(t + 30) });
  assert.equal(verified.status, 200, verified.text);
  return verified.body.mfa_token;
}

test('the Python backend example accepts a second factor and refuses what the checklist refuses', async () => {
  const tenant = await createTenant({ mode: 'required' });
  const token = await verifiedToken(tenant, 'alice');

  const good = backendPy(tenant, token, 'alice');
  assert.ok(good.ok, good.refused);
  assert.deepEqual([good.claims.sub, good.claims.acr, good.claims.iss, good.claims.aud], ['alice', 'mfa', `edge-mfa:${tenant.id}`, tenant.id]);

  const otherUser = backendPy(tenant, token, 'bob');
  assert.match(otherUser.refused ?? '', /refused: InvalidSubjectError/, 'another user');

  const other = await createTenant({ mode: 'required' });
  const foreign = backendPy(other, token, 'alice');
  assert.ok(!foreign.ok, "another tenant's token");

  // Issued 20 minutes ago (the runtime's clock moved back by the test hook): its
  // exp, 300 s after, is long past.
  const old = await verifiedToken(tenant, 'carol', now() - 1200);
  assert.match(backendPy(tenant, old, 'carol').refused ?? '', /refused: ExpiredSignatureError/);
});

test('the Python backend example refuses an allow from assess (acr "0") unless told a second factor is not needed', async () => {
  const tenant = await createTenant({ mode: 'off' });
  const ticket = await ticketFor(tenant, 'erin');
  const assessed = await api('POST', `/v1/${tenant.id}/assess`, { token: ticket, body: {} });
  assert.equal(assessed.body.action, 'allow', assessed.text);
  const refused = backendPy(tenant, assessed.body.mfa_token, 'erin');
  assert.match(refused.refused ?? '', /no second factor was presented in this sign-in \(acr '0', mfa_method 'policy'\)/);
  const allowed = backendPy(tenant, assessed.body.mfa_token, 'erin', '--allow-without-mfa');
  assert.ok(allowed.ok, allowed.refused);
  assert.equal(allowed.claims.acr, '0');
});
