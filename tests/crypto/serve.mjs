// Runs a few ES modules as one Worker on `workerd serve` itself (no Miniflare, no
// wrangler), with wrangler.toml's compatibility date and flags: for checks and
// timings of the Worker's JS modules inside the runtime they ship to.
//   const { url, stop } = await serveModules({ 'main.mjs': source, ... }, { json: {...} });
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { connect } from 'node:net';
import { freePort } from '../e2e/runtimes.mjs';

const root = resolve(import.meta.dirname, '../..');

/// `modules`: module name (a path; the first is the main module) -> source text;
/// `json`: module name -> value, importable as JSON.
export async function serveModules(modules, { json = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'edge-mfa-workerd-'));
  const write = (name, text) => {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  };
  for (const [name, text] of Object.entries(modules)) write(name, text);
  for (const [name, value] of Object.entries(json)) write(name, JSON.stringify(value));
  const port = await freePort();
  const entries = [
    ...Object.keys(modules).map((name) => `(name = "${name}", esModule = embed "${name}")`),
    ...Object.keys(json).map((name) => `(name = "${name}", json = embed "${name}")`),
  ];
  write('config.capnp', `
using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .w) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const w :Workerd.Worker = (
  modules = [ ${entries.join(', ')} ],
  compatibilityDate = "2025-09-01",
  compatibilityFlags = ["nodejs_compat"],
);
`);
  const workerd = createRequire(join(root, 'package.json')).resolve('workerd/bin/workerd');
  const child = spawn(workerd, ['serve', join(dir, 'config.capnp')], { stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`workerd exited with ${child.exitCode}`);
    // Listening is enough: a request would run the modules before the caller's.
    if (await listening(port)) return { url, stop: () => child.kill() };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('workerd did not listen within 10 s');
}

function listening(port) {
  return new Promise((ok) => {
    const socket = connect(port, '127.0.0.1', () => { socket.end(); ok(true); });
    socket.on('error', () => ok(false));
  });
}
