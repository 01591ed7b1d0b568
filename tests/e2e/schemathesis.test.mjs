// schemathesis (PyPI), an independent property-based tester, against this runtime
// through /openapi.json: every check (no 5xx, answers and headers as documented,
// schema-valid data accepted, schema-violating data refused, 405 with Allow, auth
// not ignored), every phase (examples, coverage, fuzzing, stateful). What it may
// not do, and the refusals JSON Schema cannot state, are in
// tests/schemathesis/schemathesis.toml, each with its reason.
//
// Two runs, each on its own tenant, so that one's changes cannot make the other's
// data wrong: the end user's operations (a user enrolled with TOTP, a policy that
// allows every method, a webhook that takes every code), then the admin's and the
// operator's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { api, BASE, createTenant, enrollTotp, OPERATOR_KEY, recordStatus, ticketFor } from './client.mjs';
import { startReceiver } from './receiver.mjs';

const root = resolve(import.meta.dirname, '../..');
const ST = process.env.EDGE_MFA_SCHEMATHESIS ?? join(homedir(), '.cache/edge-mfa/venv/bin/st');
const CONFIG = join(root, 'tests/schemathesis/schemathesis.toml');
// A fixed seed, so that a failure reproduces; EDGE_MFA_SCHEMATHESIS_SEED explores others.
const SEED = process.env.EDGE_MFA_SCHEMATHESIS_SEED ?? '20261130';

let receiver;
before(async () => { receiver = await startReceiver(); });
after(async () => receiver?.close());

function schemathesis(env, include) {
  if (!existsSync(ST)) throw new Error(`schemathesis is required at ${ST} (scripts/install test puts it there)`);
  const args = ['--config-file', CONFIG, 'run', `${BASE}/openapi.json`, '--url', BASE,
    '--checks', 'all', '--max-examples', '25', '--seed', SEED, '--workers', '1',
    '--include-name-regex', include, '--no-color', '--report', 'har', '--report-har-path', 'requests.har'];
  // Its own working directory: schemathesis keeps a cache of earlier failures in
  // ./.schemathesis and replays them first, which would tie one run to the last.
  const cwd = mkdtempSync(join(tmpdir(), 'edge-mfa-schemathesis-'));
  return new Promise((done, failed) => {
    const child = spawn(ST, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { out += c; });
    child.on('error', failed);
    child.on('close', (code) => {
      // Its answers count towards the status coverage too (run.mjs).
      try {
        for (const { request, response } of JSON.parse(readFileSync(join(cwd, 'requests.har'), 'utf8')).log.entries) {
          recordStatus(request.method, request.url, response.status);
        }
      } catch { /* no report: the run failed early, which the assertions say */ }
      rmSync(cwd, { recursive: true, force: true });
      done({ code, out });
    });
  });
}

function assertPassed({ code, out }, what) {
  const summary = out.slice(out.lastIndexOf('SUMMARY'));
  assert.equal(code, 0, `schemathesis found failures in ${what}:\n${out.slice(-30000)}`);
  // It tested what it was given, not nothing.
  const tested = /Tested: (\d+)/.exec(summary);
  assert.ok(tested && Number(tested[1]) >= 10, `schemathesis tested too little in ${what}:\n${summary}`);
  // Its credentials worked: it lists operations that answered only 401 (only 403
  // is step-up, which a factor change needs once the user has a factor).
  assert.doesNotMatch(out, /401 Unauthorized \(/, `schemathesis's credentials were refused in ${what}:\n${summary}`);
  return summary;
}

test("schemathesis: the end user's operations", { timeout: 600_000 }, async () => {
  const tenant = await createTenant({ mode: 'required', allowed_methods: ['totp', 'webauthn', 'email', 'sms', 'backup_code'] });
  const hook = await api('PUT', `/v1/${tenant.id}/admin/webhook`, { token: tenant.admin_key, body: { url: receiver.url } });
  assert.equal(hook.status, 200, hook.text);
  const { factor } = await enrollTotp(tenant, 'alice');
  const ticket = await ticketFor(tenant, 'alice', { ttl: 900, extra: { email: 'alice@example.com' } });
  const run = await schemathesis({
    EDGE_MFA_TICKET: ticket,
    EDGE_MFA_ADMIN_KEY: tenant.admin_key,
    EDGE_MFA_OPERATOR_KEY: OPERATOR_KEY,
    EDGE_MFA_TENANT: tenant.id,
    EDGE_MFA_FACTOR_ID: factor.id,
  }, '^[A-Z]+ /(health|openapi\\.json|v1/\\{tenant\\}/(?!admin/).*)$');
  console.log(assertPassed(run, "the end user's operations"));
  // And it got through with schema-valid data: the user's own events are in the log.
  const log = await api('GET', `/v1/${tenant.id}/admin/audit?user=alice&limit=1000`, { token: tenant.admin_key });
  const types = new Set(log.body.events.map((e) => e.type));
  for (const type of ['assess.decided', 'enrollment.started', 'verify.failed', 'help_request.created']) {
    assert.ok(types.has(type), `no ${type} from schemathesis's requests: ${[...types]}`);
  }
});

test("schemathesis: the admin's and the operator's operations", { timeout: 600_000 }, async () => {
  const tenant = await createTenant({ mode: 'required' });
  await enrollTotp(tenant, 'alice');
  const run = await schemathesis({
    EDGE_MFA_TICKET: await ticketFor(tenant, 'alice', { ttl: 900 }),
    EDGE_MFA_ADMIN_KEY: tenant.admin_key,
    EDGE_MFA_OPERATOR_KEY: OPERATOR_KEY,
    EDGE_MFA_TENANT: tenant.id,
    EDGE_MFA_FACTOR_ID: 'none',
  }, '^[A-Z]+ /v1/(tenants.*|deliveries|\\{tenant\\}/admin/.*)$');
  console.log(assertPassed(run, "the admin's and the operator's operations"));
});
