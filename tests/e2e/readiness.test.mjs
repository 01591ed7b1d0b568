// Readiness (API.md "Readiness"): a deployment whose MASTER_KEY or OPERATOR_KEY is
// missing or malformed says so at /health with a 503 a load balancer catches, and
// every route answers 503 misconfigured — not a 500 on every route while /health
// says ok. A hex MASTER_KEY (`openssl rand -hex 32`) is a key like any other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, assertProblem, createTenant, enrollTotp, verifyMfaToken } from './client.mjs';
import { runtimes } from './runtimes.mjs';

const start = runtimes[process.env.EDGE_MFA_RUNTIME];

async function withRuntime(options, check) {
  const runtime = await start(options);
  try {
    await check(runtime.baseUrl, runtime);
  } finally {
    await runtime.stop();
  }
}

test('a malformed MASTER_KEY or OPERATOR_KEY: /health is 503 and names it; every route is 503', async () => {
  const hexOf48Bytes = randomBytes(48).toString('hex');
  for (const [options, problem] of [
    [{ masterKey: 'changeme' }, /MASTER_KEY must be 32 random bytes/],
    [{ masterKey: randomBytes(24).toString('base64') }, /MASTER_KEY must be 32 random bytes/],
    [{ masterKey: hexOf48Bytes }, /MASTER_KEY must be 32 random bytes/],
    [{ operatorKey: 'op_demo' }, /OPERATOR_KEY must hold at least 32 random bytes/],
  ]) {
    await withRuntime({ ...options, ready: false }, async (base) => {
      const health = await api('GET', '/health', { base });
      assert.equal(health.status, 503, health.text);
      assert.equal(health.body.status, 'misconfigured');
      assert.match(health.body.problems.join(' '), problem);
      if (options.masterKey) assert.ok(!health.text.includes(options.masterKey), 'never the key itself');
      for (const [method, path] of [['POST', '/v1/tenants'], ['GET', '/v1/acme/jwks.json'], ['POST', '/v1/acme/assess']]) {
        const r = await api(method, path, { base, token: 'x', ...(method === 'POST' ? { body: {} } : {}) });
        assertProblem(r, 503, 'misconfigured');
        assert.doesNotMatch(r.text, /MASTER_KEY|OPERATOR_KEY/, 'the reason is for the operator, not the client');
      }
    });
  }
});

test('a MASTER_KEY of 64 hex digits works, and /health is 200', async () => {
  await withRuntime({ masterKey: randomBytes(32).toString('hex') }, async (base, runtime) => {
    const health = await api('GET', '/health', { base });
    assert.deepEqual([health.status, health.body], [200, { status: 'ok' }]);
    const tenant = await createTenant(undefined, [], { base, operatorKey: runtime.operatorKey });
    const user = await enrollTotp(tenant, 'hexa', { base });
    assert.ok(user.factor.id);
    // What the new key sealed opens: the first factor's token verifies against the JWKS.
    const claims = await verifyMfaToken(tenant, user.mfaToken, { base });
    assert.equal(claims.sub, 'hexa');
    const assess = await api('POST', `/v1/${tenant.id}/assess`, { base, token: user.ticket });
    assert.equal(assess.body.action, 'challenge', assess.text);
  });
});

// Spin only: the Worker's configuration is wrangler.toml, which the test command
// checks with deploy/cloudflare/check-wrangler-config.mjs.
if (process.env.EDGE_MFA_RUNTIME === 'spin') test('Spin: the test host reads a runtime-config file: store paths and variables from a dotenv file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-mfa-runtime-config-'));
  try {
    const operatorKey = randomBytes(32).toString('base64url');
    writeFileSync(join(dir, 'secrets.env'), `EDGE_MASTER_KEY=${randomBytes(32).toString('base64')}\nEDGE_OPERATOR_KEY=${operatorKey}\n`);
    writeFileSync(join(dir, 'runtime-config.toml'), [
      '[sqlite_database.default]', 'type = "spin"', `path = "${join(dir, 'users.db')}"`, '',
      '[key_value_store.default]', 'type = "spin"', 'path = "tenants.db"', '',
      '[[variables_provider]]', 'type = "env"', 'prefix = "EDGE"', `dotenv_path = "${join(dir, 'secrets.env')}"`, '',
    ].join('\n'));
    await withRuntime({ runtimeConfig: join(dir, 'runtime-config.toml'), operatorKey }, async (base) => {
      const tenant = await createTenant(undefined, [], { base, operatorKey });
      await enrollTotp(tenant, 'configured', { base });
      assert.ok(existsSync(join(dir, 'users.db')), 'the SQLite database where the file says');
      assert.ok(existsSync(join(dir, 'tenants.db')), 'the key-value store beside the file (a relative path)');
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
