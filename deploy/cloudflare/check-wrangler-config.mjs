#!/usr/bin/env node
// Checks wrangler.toml offline, for the top level and every [env.*]:
//  1. `wrangler deploy --dry-run` with the Worker already built (SKIP_WORKER_BUILD=1:
//     nothing is built, nothing is uploaded, Cloudflare is never contacted). It fails
//     on a Durable Object class the Worker does not export; a warning (for example an
//     environment without its own kv_namespaces or durable_objects, which wrangler
//     does not inherit) fails here too.
//  2. What the dry run does not check: the bindings TENANTS, USERS → UserState and
//     TENANT_DIRECTORY → TenantState, TENANT_LOG → TenantLogState; [[migrations]] that create every bound class;
//     named environments requiring the secrets MASTER_KEY and OPERATOR_KEY; the
//     nodejs_compat flag (node:crypto signs and verifies; without it the Worker
//     falls back to signing in wasm, silently).
//
//   source scripts/lib/env.sh   # Node 22 and wrangler on PATH
//   node deploy/cloudflare/check-wrangler-config.mjs [--config path/to/wrangler.toml]
//
// Needs functions/worker/build/ (scripts/build-worker). Exits 1 on the first problem.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const at = args.indexOf('--config');
const config = resolve(at >= 0 ? args[at + 1] : join(root, 'wrangler.toml'));
const wrangler = createRequire(join(root, 'package.json'))('wrangler');
const bin = join(root, 'node_modules/.bin/wrangler');

const BINDINGS = { USERS: 'UserState', TENANT_DIRECTORY: 'TenantState', TENANT_LOG: 'TenantLogState' };
const SECRETS = ['MASTER_KEY', 'OPERATOR_KEY'];

function fail(env, why) {
  console.error(`✘ ${config} [${env || 'top level'}]: ${why}`);
  process.exit(1);
}

function checkStructure(env) {
  const c = wrangler.unstable_readConfig({ config, env: env || undefined }, { hideWarnings: true });
  const kv = c.kv_namespaces.find((k) => k.binding === 'TENANTS');
  if (!kv?.id) fail(env, 'no kv_namespaces entry with binding "TENANTS" and an id');
  const created = new Set();
  for (const m of c.migrations) {
    for (const k of [...(m.new_classes ?? []), ...(m.new_sqlite_classes ?? [])]) created.add(k);
    for (const r of m.renamed_classes ?? []) { created.delete(r.from); created.add(r.to); }
    for (const k of m.deleted_classes ?? []) created.delete(k);
  }
  if (c.migrations[0]?.tag !== 'v1') fail(env, 'the first [[migrations]] tag is not "v1"');
  if (!(c.compatibility_flags ?? []).includes('nodejs_compat')) {
    fail(env, 'compatibility_flags lacks "nodejs_compat" (node:crypto for signatures: docs/DESIGN.md "The signature port")');
  }
  for (const [name, cls] of Object.entries(BINDINGS)) {
    const b = c.durable_objects.bindings.find((d) => d.name === name);
    if (b?.class_name !== cls) fail(env, `no Durable Object binding ${name} → ${cls}`);
    if (b.script_name) fail(env, `${name} points at another Worker (script_name ${b.script_name})`);
    if (!created.has(cls)) fail(env, `no [[migrations]] entry creates the class ${cls}`);
  }
  if (env) {
    const required = c.secrets?.required ?? [];
    for (const s of SECRETS) if (!required.includes(s)) fail(env, `secrets.required lacks ${s}`);
  }
}

function dryRun(env) {
  const outdir = mkdtempSync(join(tmpdir(), 'edge-mfa-dry-run-'));
  try {
    const r = spawnSync(bin, ['deploy', '--dry-run', '--outdir', outdir, '--config', config, '--env', env], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, SKIP_WORKER_BUILD: '1', CI: 'true', WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
    });
    // eslint-disable-next-line no-control-regex
    const out = `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
    if (r.status !== 0 || /\[WARNING\]/.test(out)) {
      fail(env, `wrangler deploy --dry-run ${r.status === 0 ? 'warned' : `exited ${r.status}`}:\n${out}`);
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const { rawConfig } = wrangler.experimental_readRawConfig({ config }, { hideWarnings: true });
const envs = ['', ...Object.keys(rawConfig.env ?? {})];
for (const env of envs) {
  dryRun(env);
  checkStructure(env);
  console.log(`✓ ${env || 'top level'}: wrangler deploy --dry-run passes; bindings, migrations and secrets in place`);
}
