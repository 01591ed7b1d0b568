// What every end-to-end test needs: the runtime under test (from the environment
// run.mjs sets), HTTP helpers, tenants and users, and the independent checkers
// (oathtool, rsvg-convert + zbarimg, jose).
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { mintTicket } from '../../scripts/lib/ticket.mjs';
import { SoftAuthenticator } from './soft_authenticator.mjs';

export const BASE = process.env.EDGE_MFA_BASE_URL;
export const OPERATOR_KEY = process.env.EDGE_MFA_OPERATOR_KEY;
if (!BASE || !OPERATOR_KEY) {
  throw new Error('EDGE_MFA_BASE_URL and EDGE_MFA_OPERATOR_KEY are not set: run the suite through tests/e2e/run.mjs');
}
export const ORIGIN = 'http://localhost:5173';

export const now = () => Math.floor(Date.now() / 1000);

/// Notes an answer of the runtime under test for the status coverage that run.mjs
/// checks against the OpenAPI document (tests/e2e/status_coverage.mjs).
export function recordStatus(method, url, status) {
  const log = process.env.EDGE_MFA_STATUS_LOG;
  const u = new URL(url);
  if (log && u.origin === new URL(BASE).origin) {
    appendFileSync(log, `${JSON.stringify({ method: method.toUpperCase(), path: u.pathname, status })}\n`);
  }
}

/// One HTTP call; returns { status, headers, body (parsed JSON or null), text }.
/// `base` selects another runtime than the suite's (client_address.test.mjs).
export async function api(method, path, { token, body, headers = {}, raw, base = BASE } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload;
  if (raw !== undefined) payload = raw;
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    h['content-type'] = 'application/json';
  }
  const r = await fetch(`${base}${path}`, { method, headers: h, body: payload });
  recordStatus(method, `${base}${path}`, r.status);
  const text = await r.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, body: parsed, text };
}

/// Every operation the served /openapi.json documents: [{ method (upper case), path
/// (the template), op (its Operation Object) }].
export async function documentedOperations() {
  const doc = await api('GET', '/openapi.json');
  assert.equal(doc.status, 200, doc.text);
  return Object.entries(doc.body.paths).flatMap(([path, item]) => Object.entries(item)
    .filter(([m]) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
    .map(([m, op]) => ({ method: m.toUpperCase(), path, op })));
}

/// Asserts an RFC 9457 problem with the given status and code.
export function assertProblem(res, status, code) {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text}`);
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  assert.equal(res.body.code, code);
  assert.equal(res.body.type, `urn:edge-mfa:error:${code}`);
  assert.equal(res.body.status, status);
  assert.ok(res.body.title && typeof res.body.detail === 'string');
}

export function uniqueId(prefix) {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/// A fresh tenant: { id, admin_key, ticket_secret }.
export async function createTenant(policy, extraOrigins = [], { base = BASE, operatorKey = OPERATOR_KEY } = {}) {
  const id = uniqueId('t');
  const res = await api('POST', '/v1/tenants', {
    base,
    token: operatorKey,
    body: { id, name: `Tenant ${id}`, rp_id: 'localhost', origins: [ORIGIN, ...extraOrigins], ...(policy ? { policy } : {}) },
  });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

/// Points the tenant's webhook at a test receiver (receiver.mjs) and has the
/// receiver check deliveries with the secret the PUT shows once; returns it.
export async function useReceiver(tenant, receiver) {
  const hook = await api('PUT', `/v1/${tenant.id}/admin/webhook`, { token: tenant.admin_key, body: { url: receiver.url } });
  assert.equal(hook.status, 200, hook.text);
  receiver.trust(hook.body.secret);
  return hook.body.secret;
}

export function ticketFor(tenant, sub, opts = {}) {
  return mintTicket({ tenant: tenant.id, secret: tenant.ticket_secret, sub, ...opts });
}

/// `oathtool` (an independent RFC 6238 implementation) at Unix time `t`.
export function oathtool(secretBase32, t, { algorithm = 'SHA1', digits = 6, period = 30 } = {}) {
  const r = spawnSync('oathtool', [`--totp=${algorithm}`, '-b', '-d', String(digits), '-s', `${period}s`, '--now', `@${t}`, secretBase32], { encoding: 'utf8' });
  if (r.error) throw new Error(`oathtool is required (apt-get install oathtool): ${r.error.message}`);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

/// Rasterises an SVG QR code with rsvg-convert and decodes it with zbarimg.
export function decodeQr(svg) {
  return inTempDir((dir) => {
    writeFileSync(join(dir, 'q.svg'), svg);
    const png = join(dir, 'q.png');
    const convert = spawnSync('rsvg-convert', ['-w', '400', '-b', 'white', '-o', png, join(dir, 'q.svg')], { encoding: 'utf8' });
    if (convert.error) throw new Error(`rsvg-convert is required (apt-get install librsvg2-bin): ${convert.error.message}`);
    assert.equal(convert.status, 0, convert.stderr);
    return zbarimg(png);
  });
}

/// Decodes a QR code in a PNG (a screenshot of what a browser shows) with zbarimg.
export function decodeQrPng(png) {
  return inTempDir((dir) => {
    writeFileSync(join(dir, 'q.png'), png);
    return zbarimg(join(dir, 'q.png'));
  });
}

function zbarimg(png) {
  const scan = spawnSync('zbarimg', ['--nodbus', '--raw', '-q', png], { encoding: 'utf8' });
  if (scan.error) throw new Error(`zbarimg is required (apt-get install zbar-tools): ${scan.error.message}`);
  assert.equal(scan.status, 0, `zbarimg found no code: ${scan.stderr}`);
  return scan.stdout.trim();
}

function inTempDir(fn) {
  const dir = mkdtempSync(join(tmpdir(), 'edge-mfa-qr-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/// Verifies an mfa_token with `jose` against the tenant's published JWKS.
export async function verifyMfaToken(tenant, token, { base = BASE } = {}) {
  const jwks = await api('GET', `/v1/${tenant.id}/jwks.json`, { base });
  assert.equal(jwks.status, 200);
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks.body), {
    issuer: `edge-mfa:${tenant.id}`,
    audience: tenant.id,
    algorithms: ['ES256'],
  });
  assert.equal(protectedHeader.alg, 'ES256');
  assert.ok(protectedHeader.kid);
  return payload;
}

/// Enrolls and confirms TOTP for `sub`; returns { ticket, secret, factor, backupCodes, mfaToken, t }
/// where `t` is the time whose code confirmed it.
export async function enrollTotp(tenant, sub, { stepUp, base = BASE } = {}) {
  const ticket = await ticketFor(tenant, sub);
  const headers = stepUp ? { 'x-mfa-token': stepUp } : {};
  const enroll = await api('POST', `/v1/${tenant.id}/enroll`, { base, token: ticket, body: { type: 'totp' }, headers });
  assert.equal(enroll.status, 201, enroll.text);
  const t = now();
  const confirm = await api('POST', `/v1/${tenant.id}/enroll/${enroll.body.enrollment_id}/confirm`, {
    base,
    token: ticket,
    body: { code: oathtool(enroll.body.secret, t) },
  });
  assert.equal(confirm.status, 201, confirm.text);
  return { ticket, secret: enroll.body.secret, enrollment: enroll.body, factor: confirm.body.factor, backupCodes: confirm.body.backup_codes, mfaToken: confirm.body.mfa_token, t };
}

/// A wrong TOTP code: one that no step near `t` produces.
export function wrongCode(secret, t) {
  const right = new Set([-2, -1, 0, 1, 2, 3].map((k) => oathtool(secret, t + 30 * k)));
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, '0');
    if (!right.has(code)) return code;
  }
}

/// Test hooks: the server's clock at `t`.
export const at = (t) => ({ 'x-edge-mfa-test-now': String(t) });

/// Registers a software passkey (soft_authenticator.mjs) for the ticket's user;
/// `stepUp` is an mfa_token when the user has a factor already. Returns the factor
/// ({id, type, name}) and the authenticator, for assertions.
export async function enrollPasskey(tenant, ticket, stepUp, { fmt, algorithm } = {}) {
  const headers = stepUp ? { 'x-mfa-token': stepUp } : {};
  const enroll = await api('POST', `/v1/${tenant.id}/enroll`, { token: ticket, body: { type: 'webauthn' }, headers });
  assert.equal(enroll.status, 201, enroll.text);
  const authenticator = new SoftAuthenticator({ origin: ORIGIN, algorithm });
  const confirm = await api('POST', `/v1/${tenant.id}/enroll/${enroll.body.enrollment_id}/confirm`, {
    token: ticket,
    body: { credential: authenticator.register(enroll.body.public_key, { fmt }) },
  });
  assert.equal(confirm.status, 201, confirm.text);
  return { ...confirm.body.factor, authenticator };
}
