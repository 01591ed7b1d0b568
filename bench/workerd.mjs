// The built Worker on workerd through Miniflare's API, without `wrangler dev`:
// wrangler puts its own proxy worker (and Miniflare's entry worker) in front of
// ours, so its latencies measure those hops too. Mirrors wrangler.toml; needs
// scripts/build-worker to have run. Miniflare 5's options are its own schema
// (`workers: [{ config, dev }]`), not the README's v4 shape.
//   const { url, stop } = await startWorkerd({ vars: { MASTER_KEY, OPERATOR_KEY } });
import { createRequire } from 'node:module';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const build = resolve(root, 'functions/worker/build');
// The Miniflare that wrangler pins (not a direct dependency of ours).
const { Miniflare, Log, LogLevel } = createRequire(resolve(root, 'node_modules/wrangler/package.json'))('miniflare');

const NAME = 'edge-mfa';
// wrangler.toml's migrations v1 + v2: all three classes are SQLite-backed.
const SQLITE_CLASSES = ['UserState', 'TenantState', 'TenantLogState'];
const DURABLE_OBJECTS = { USERS: 'UserState', TENANT_DIRECTORY: 'TenantState', TENANT_LOG: 'TenantLogState' };

/// `compatibilityFlags`: wrangler.toml's by default; without `nodejs_compat` the
/// Worker's signature port falls back to its pure-Rust code (bench/compare.mjs's
/// `worker-rust-crypto`).
export async function startWorkerd({ vars = {}, port = 0, persistTo, compatibilityFlags = ['nodejs_compat'] } = {}) {
  const env = {
    TENANTS: { type: 'kv', id: 'edge-mfa-tenants' },
    ...Object.fromEntries(Object.entries(DURABLE_OBJECTS).map(([binding, exportName]) =>
      [binding, { type: 'durable-object', worker: NAME, exportName }])),
    // Secrets are plain text bindings locally, as under `wrangler dev --var`.
    ...Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, { type: 'text', value: String(v) }])),
  };
  const mf = new Miniflare({
    // No network fetch of a `request.cf` template at start-up.
    cf: false,
    logRequests: false,
    log: new Log(LogLevel.WARN),
    // Unset: Miniflare's temp dir, removed by dispose().
    resourcePersistencePath: persistTo,
    workers: [{
      config: {
        name: NAME,
        compatibilityDate: '2025-09-01',
        compatibilityFlags,
        manifest: {
          // Module names are paths relative to modulesRoot: index.js imports
          // "./index_bg.wasm", so the wasm must be named exactly that. "wasm" is
          // workerd's CompiledWasm (the import yields a WebAssembly.Module).
          mainModule: 'index.js',
          modulesRoot: build,
          modules: {
            'index.js': { type: 'esm', contents: readFileSync(resolve(build, 'index.js'), 'utf8') },
            'index_bg.wasm': { type: 'wasm', contents: new Uint8Array(readFileSync(resolve(build, 'index_bg.wasm'))) },
          },
        },
        env,
        exports: Object.fromEntries(SQLITE_CLASSES.map((c) => [c, { type: 'durable-object', storage: 'sqlite' }])),
      },
      dev: {
        // A socket bound straight to our Worker's service inside workerd, so a
        // request skips Miniflare's entry worker (the usual `mf.ready` URL), which
        // would also re-encode responses (gzip, chunked).
        unsafeDirectSockets: [{ host: '127.0.0.1', port }],
      },
    }],
  });
  await mf.ready;
  const url = (await mf.unsafeGetDirectURL(NAME)).href.replace(/\/$/, '');
  return {
    url,
    stop: () => mf.dispose(),
    // Miniflare keeps workerd's handle private: find the process that owns our
    // listening socket (/proc/net/tcp inode -> /proc/PID/fd), among our children.
    // Linux only; undefined elsewhere or once stopped.
    pid: () => listenerPid(Number(new URL(url).port)),
  };
}

function listenerPid(port) {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  const line = readFileSync('/proc/net/tcp', 'utf8').split('\n')
    .find((l) => l.includes(`0100007F${hexPort}`) && l.trim().split(/\s+/)[3] === '0A');
  if (!line) return undefined;
  const socket = `socket:[${line.trim().split(/\s+/)[9]}]`;
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] !== String(process.pid)) continue;
      if (readdirSync(`/proc/${p}/fd`).some((fd) => readlinkSync(`/proc/${p}/fd/${fd}`) === socket)) return Number(p);
    } catch { /* gone, or not ours to read */ }
  }
  return undefined;
}
