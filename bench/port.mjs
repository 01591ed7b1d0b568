// The Worker's signature port (functions/worker/js/node-crypto.mjs) timed inside
// workerd, beside the same calls natively in Node (OpenSSL): ES256 verify with an
// imported key (what a WebAuthn assertion and a step-up check cost) and ES256 sign
// (an mfa_token). workerd's clock is coarse (Spectre mitigations), so each figure
// is the mean over many calls in one request.
//   node bench/port.mjs [calls=5000]
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serveModules } from '../tests/crypto/serve.mjs';

const root = resolve(import.meta.dirname, '..');
const calls = Number(process.argv[2] ?? 5000);

// A key and a signature over WebAuthn-sized signed data (authenticatorData ||
// SHA-256(clientDataJSON): 37 + 32 bytes).
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = privateKey.export({ format: 'jwk' });
const message = Buffer.alloc(69, 7);
const der = sign('sha256', message, privateKey);
const input = { x: jwk.x, y: jwk.y, d: jwk.d, message: message.toString('base64url'), der: der.toString('base64url'), calls };

const timing = `
import * as port from "./node-crypto.mjs";
export function run({ x, y, d, message, der, calls }, Buffer) {
  const b = (s) => new Uint8Array(Buffer.from(s, "base64url"));
  const [X, Y, D, M, S] = [b(x), b(y), b(d), b(message), b(der)];
  if (!port.available() || !port.verify(0, "sha256", X, Y, M, S)) throw new Error("the port does not verify");
  let t = performance.now();
  for (let i = 0; i < calls; i++) port.verify(0, "sha256", X, Y, M, S);
  const verify_us = (performance.now() - t) * 1000 / calls;
  port.import_private_key("bench", D);
  t = performance.now();
  for (let i = 0; i < calls; i++) port.sign_es256("bench", M);
  const sign_us = (performance.now() - t) * 1000 / calls;
  return { verify_us: +verify_us.toFixed(1), sign_us: +sign_us.toFixed(1) };
}`;

const { url, stop } = await serveModules({
  'main.mjs': `
import { run } from "./timing.mjs";
const { Buffer } = globalThis.process.getBuiltinModule("node:buffer");
export default { async fetch(request) { return Response.json(run(await request.json(), Buffer)); } };`,
  'timing.mjs': timing,
  'node-crypto.mjs': readFileSync(resolve(root, 'functions/worker/js/node-crypto.mjs'), 'utf8'),
});
try {
  const started = performance.now();
  const inside = await (await fetch(`${url}/`, { method: 'POST', body: JSON.stringify(input) })).json();
  inside.request_ms = +(performance.now() - started).toFixed(1);
  if (inside.verify_us === undefined) throw new Error(`workerd answered ${JSON.stringify(inside)}`);
  // The same module, natively in Node (OpenSSL), for the ratio.
  const dir = mkdtempSync(join(tmpdir(), 'edge-mfa-port-'));
  writeFileSync(join(dir, 'timing.mjs'), timing.replace('./node-crypto.mjs', resolve(root, 'functions/worker/js/node-crypto.mjs')));
  const { run } = await import(join(dir, 'timing.mjs'));
  const native = run(input, Buffer);
  console.log(JSON.stringify({ calls, workerd: inside, node_openssl: native, verify_ratio: +(inside.verify_us / native.verify_us).toFixed(2) }));
} finally {
  stop();
}
