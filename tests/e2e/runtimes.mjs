// Starts a real runtime serving edge-mfa on loopback and says how to reach it.
// The suite runs against each through the same test code (tests/e2e/run.mjs).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';

const root = resolve(import.meta.dirname, '../..');

export async function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
    server.on('error', fail);
  });
}

/// Waits until /health answers 200 — or, with `ready: false` (a deliberately
/// misconfigured deployment), until it answers at all.
async function waitForHealth(baseUrl, child, log, { ready = true, seconds = 60 } = {}) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`runtime exited early (${child.exitCode}):\n${log()}`);
    try {
      const r = await fetch(`${baseUrl}/health`);
      if (r.ok || !ready) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`runtime did not answer /health within ${seconds}s:\n${log()}`);
}

function secrets() {
  return {
    masterKey: randomBytes(32).toString('base64'),
    // At least 32 random bytes, as the deployment requires.
    operatorKey: randomBytes(32).toString('base64url'),
  };
}

/// workerd through `wrangler dev --local`, with a fresh state directory and fresh
/// secrets. The Worker must have been built (scripts/build-worker). `testHooks:
/// false` runs it as production does, with X-Edge-MFA-Test-* headers ignored.
/// A restart (master_key_rotation.test.mjs) passes `state`, the keys, and
/// `keepState` so that `stop` leaves the state for the next start.
export async function startWorker({ testHooks = true, state: given, masterKey: mk, previousMasterKeys, operatorKey: ok, keepState = false, ready = true } = {}) {
  const port = await freePort();
  const fresh = secrets();
  const masterKey = mk ?? fresh.masterKey;
  const operatorKey = ok ?? fresh.operatorKey;
  const state = given ?? mkdtempSync(join(tmpdir(), 'edge-mfa-worker-'));
  const args = [
    'dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', '0',
    '--show-interactive-dev-session=false', '--persist-to', state, '--log-level', 'warn',
    '--var', `MASTER_KEY:${masterKey}`, '--var', `OPERATOR_KEY:${operatorKey}`,
    ...(previousMasterKeys ? ['--var', `MASTER_KEY_PREVIOUS:${previousMasterKeys}`] : []),
    // Tests only: the clock, client address and country from X-Edge-MFA-Test-* headers.
    ...(testHooks ? ['--var', 'EDGE_MFA_TEST_HOOKS:enabled'] : []),
    // Tests only: webhooks to the suite's receiver on loopback, retried within seconds.
    ...(testHooks ? ['--var', 'EDGE_MFA_LOOPBACK_WEBHOOKS:enabled', '--var', 'EDGE_MFA_WEBHOOK_RETRY_SECONDS:1'] : []),
  ];
  let output = '';
  const child = spawn(join(root, 'node_modules/.bin/wrangler'), args, {
    cwd: root,
    env: { ...process.env, SKIP_WORKER_BUILD: '1', CI: 'true', WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const baseUrl = `http://localhost:${port}`;
  await waitForHealth(baseUrl, child, () => output, { ready });
  return {
    name: 'worker',
    baseUrl,
    operatorKey,
    masterKey,
    state,
    log: () => output,
    async stop() {
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
      await new Promise((r) => setTimeout(r, keepState ? 1500 : 300));
      if (!keepState) rmSync(state, { recursive: true, force: true });
    },
  };
}

/// The Spin components (build/spin/*.wasm) under the Spin-compatible test host
/// (tests/spin-host), with fresh secrets and a fresh state directory; `testHooks`
/// as for the Worker.
export async function startSpin({ testHooks = true, state: given, masterKey: mk, previousMasterKeys, operatorKey: ok, keepState = false, ready = true, runtimeConfig, env: extraEnv = {} } = {}) {
  const host = process.env.EDGE_MFA_SPIN_HOST
    ?? join(process.env.HOME, '.cache/edge-mfa/spin-host-target/release/spin-test-host');
  const fresh = secrets();
  const masterKey = mk ?? fresh.masterKey;
  const operatorKey = ok ?? fresh.operatorKey;
  const state = given ?? mkdtempSync(join(tmpdir(), 'edge-mfa-spin-'));
  let output = '';
  const variables = {
    SPIN_VARIABLE_MASTER_KEY: masterKey, SPIN_VARIABLE_OPERATOR_KEY: operatorKey, SPIN_VARIABLE_TEST_HOOKS: testHooks ? 'enabled' : 'disabled', SPIN_VARIABLE_MASTER_KEY_PREVIOUS: previousMasterKeys ?? '',
    // Tests only: webhooks to the suite's receiver on loopback, retried within seconds.
    ...(testHooks ? { SPIN_VARIABLE_LOOPBACK_WEBHOOKS: 'enabled', SPIN_VARIABLE_LOOPBACK_OUTBOUND_HOSTS: 'http://127.0.0.1:*', SPIN_VARIABLE_WEBHOOK_RETRY_SECONDS: '1' } : {}),
  };
  // With a runtime config, the caller's `env` may carry the variables instead.
  const child = spawn(host, ['--manifest', join(root, 'spin.toml'), '--listen', '127.0.0.1:0', '--state-dir', state, ...(runtimeConfig ? ['--runtime-config-file', runtimeConfig] : [])], {
    env: { ...process.env, ...(runtimeConfig ? {} : variables), ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.on('error', (e) => { output += `\n${e}`; });
  child.stderr.on('data', (d) => { output += d; });
  const port = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`spin-test-host did not start:\n${output}`)), 120_000);
    child.stdout.on('data', (d) => {
      output += d;
      const m = output.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) { clearTimeout(timer); ok(Number(m[1])); }
    });
    child.on('exit', (code) => { clearTimeout(timer); fail(new Error(`spin-test-host exited (${code}):\n${output}`)); });
  });
  const baseUrl = `http://localhost:${port}`;
  await waitForHealth(baseUrl, child, () => output, { ready });
  return {
    name: 'spin',
    baseUrl,
    operatorKey,
    masterKey,
    state,
    log: () => output,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      if (!keepState) rmSync(state, { recursive: true, force: true });
    },
  };
}

export const runtimes = { worker: startWorker, spin: startSpin };
