// Bad input is a 4xx problem+json, never a 5xx, and changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { api, assertProblem, BASE, createTenant, documentedOperations, enrollTotp, OPERATOR_KEY, ORIGIN, ticketFor } from './client.mjs';

test('malformed JSON, wrong types, unknown fields, huge bodies, unknown paths and methods', async () => {
  const tenant = await createTenant();
  const { ticket, enrollment } = await enrollTotp(tenant, 'lee');
  const t = tenant.id;
  const before = await api('GET', `/v1/${t}/factors`, { token: ticket });
  const cases = [
    ['POST', `/v1/${t}/enroll`, { raw: '{"type": "totp"' }, 400, 'invalid_request'],
    ['POST', `/v1/${t}/enroll`, { raw: '' }, 400, 'invalid_request'],
    ['POST', `/v1/${t}/enroll`, { raw: 'null' }, 400, 'invalid_request'],
    ['POST', `/v1/${t}/enroll`, { raw: '[]' }, 400, 'invalid_request'],
    ['POST', `/v1/${t}/enroll`, { body: { type: 7 } }, 400, 'invalid_request'],
    ['POST', `/v1/${t}/enroll`, { body: { type: 'carrier-pigeon' } }, 400, 'invalid_request'],
    ['POST', `/v1/${t}/enroll`, { body: { type: 'totp', admin: true } }, 400, 'invalid_request'],
    ['POST', `/v1/${t}/verify`, { body: { type: 'totp', code: 123456 } }, 400, 'invalid_request'],
    ['POST', `/v1/${t}/verify`, { body: { type: 'totp' } }, 400, 'invalid_request'],
    ['POST', `/v1/${t}/verify`, { body: { type: 'totp', code: '1'.repeat(100) } }, 400, 'invalid_request'],
    ['POST', `/v1/${t}/verify`, { body: { code: '123456' } }, 400, 'invalid_request'],
    ['POST', `/v1/${t}/verify`, { body: { type: 'totp', code: '123456', remember_devise: true } }, 400, 'invalid_request'],
    ['POST', `/v1/${t}/verify`, { raw: '\u0000\u00ff\u00fe' }, 400, 'invalid_request'],
    ['POST', `/v1/${t}/backup-codes/redeem`, { body: { code: ['a'] } }, 400, 'invalid_request'],
    ['POST', `/v1/${t}/enroll/${enrollment.enrollment_id}/confirm`, { body: { code: {} } }, 400, 'invalid_request'],
    ['POST', `/v1/${t}/challenge`, { body: {} }, 400, 'invalid_request'],
    ['POST', `/v1/${t}/enroll`, { raw: JSON.stringify({ type: 'totp', pad: 'x'.repeat(1024 * 1024) }) }, 413, 'payload_too_large'],
    ['GET', `/v1/${t}/nope`, {}, 404, 'not_found'],
    ['GET', `/v1/${t}/factors/extra/segments`, {}, 404, 'not_found'],
    ['GET', '/v1/NOT_A_TENANT/factors', {}, 404, 'not_found'],
    ['GET', '/v1/no-such-tenant/factors', {}, 404, 'not_found'],
    // Found by schemathesis: a credential's form is checked before its challenge
    // is looked up (not 410 for an unknown challenge).
    ['POST', `/v1/${t}/verify`, { body: { challenge_id: 'c_x', credential: { id: 'AAAA', rawId: 'AAAA', type: 'password', response: { clientDataJSON: 'e30', authenticatorData: 'AA', signature: 'AA' } } } }, 400, 'invalid_request'],
    ['POST', `/v1/${t}/verify`, { body: { challenge_id: 'c_x', credential: { id: '!!', rawId: '!!', type: 'public-key', response: { clientDataJSON: 'e30', authenticatorData: 'AA', signature: 'AA' } } } }, 400, 'invalid_request'],
    ['POST', `/v1/${t}/enroll/${enrollment.enrollment_id}/confirm`, { body: { credential: { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: 'e30', attestationObject: 'not base64!' } } } }, 400, 'invalid_request'],
    ['PUT', `/v1/${t}/verify`, {}, 405, 'method_not_allowed'],
    // Found by schemathesis: workers-rs reads a method it does not know as GET.
    // (A method workerd itself does not know, such as a lowercase `patch`, gets
    // its 501 before the Worker runs.)
    ['QUERY', `/v1/${t}/factors`, {}, 405, 'method_not_allowed'],
    ['GET', `/v1/${t}/enroll`, {}, 405, 'method_not_allowed'],
  ];
  for (const [method, path, opts, status, code] of cases) {
    const res = await api(method, path, { token: ticket, ...opts });
    const what = `${method} ${path} ${JSON.stringify(opts).slice(0, 80)}`;
    assert.ok(res.status < 500, `${what} → ${res.status}`);
    try {
      assertProblem(res, status, code);
    } catch (e) {
      e.message = `${what}: ${e.message}`;
      throw e;
    }
  }
  const after = await api('GET', `/v1/${t}/factors`, { token: ticket });
  assert.deepEqual(after.body, before.body, 'refusals changed nothing');
});

test('tenant creation validates its input', async () => {
  const good = { id: 'valid-one', name: 'Valid', rp_id: 'localhost', origins: ['http://localhost:3000'] };
  const cases = [
    { ...good, id: 'Not_Valid' },
    { ...good, id: 'x'.repeat(64) },
    { ...good, rp_id: 'https://localhost' },
    { ...good, origins: ['http://evil.example'] },
    { ...good, origins: [] },
    { ...good, name: '' },
    // Found by a review of the OpenAPI document against the server: no control characters.
    { ...good, name: 'Acme\u0001' },
    { ...good, policy: { mode: 'sometimes' } },
    { ...good, policy: { backup_codes: { count: 3 } } },
    { ...good, policy: { mdoe: 'off' } },
    { ...good, extra: 1 },
  ];
  for (const body of cases) {
    const res = await api('POST', '/v1/tenants', { token: OPERATOR_KEY, body });
    assertProblem(res, 400, 'invalid_request');
  }
});

test('health and the OpenAPI document', async () => {
  const health = await api('GET', '/health');
  assert.equal(health.status, 200);
  assert.equal(health.body.status, 'ok');
  const openapi = await api('GET', '/openapi.json');
  assert.equal(openapi.status, 200);
  assert.equal(openapi.body.openapi, '3.1.0');
});

test('a chunked body over 64 KiB (no Content-Length) is 413, not read whole', async () => {
  const tenant = await createTenant();
  const ticket = await ticketFor(tenant, 'chunky');
  // node:http, not fetch: the server may answer and close before the client has
  // finished sending, and the answer must still be read.
  const res = await new Promise((resolve, reject) => {
    const url = new URL(`${BASE}/v1/${tenant.id}/enroll`);
    const req = request(url, { method: 'POST', headers: { authorization: `Bearer ${ticket}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } });
    let answered = false;
    req.on('response', (r) => {
      answered = true;
      let text = '';
      r.on('data', (d) => { text += d; });
      r.on('end', () => resolve({ status: r.statusCode, headers: new Headers(r.headers), text, body: JSON.parse(text) }));
    });
    req.on('error', (e) => { if (!answered) reject(e); });
    const chunk = ' '.repeat(16 * 1024);
    (async () => {
      for (let i = 0; i < 64 && !answered && !req.destroyed; i++) {
        if (!req.write(chunk)) await new Promise((r) => req.once('drain', r).once('close', r));
      }
      req.end();
    })();
  });
  assertProblem(res, 413, 'payload_too_large');
});

test('a body that is not a JSON object is refused on every operation that takes one', async () => {
  // Found by schemathesis: `POST assess` with `[null]` answered 200, since serde
  // reads a struct from an array of its fields. Every body is declared an object.
  const tenant = await createTenant();
  const { ticket, factor } = await enrollTotp(tenant, 'lee');
  const t = tenant.id;
  const ids = { tenant: t, factor_id: factor.id, enrollment_id: 'e_nonexistent', user: 'lee', id: 'h_nonexistent', challenge_id: 'c_nonexistent' };
  // What a refusal must leave as it was: the user's factors, the policy, the tenant, the user.
  const state = async () => Promise.all([
    api('GET', `/v1/${t}/factors`, { token: ticket }),
    ...['admin/policy', 'admin/tenant', 'admin/users/lee'].map((p) => api('GET', `/v1/${t}/${p}`, { token: tenant.admin_key })),
  ]).then((answers) => answers.map((r) => r.body));
  const before = await state();
  let checked = 0;
  for (const { method, path } of (await documentedOperations()).filter(({ op }) => op.requestBody)) {
    const concrete = path.replace(/\{(\w+)\}/g, (_, name) => ids[name]);
    const token = path === '/v1/tenants' ? OPERATOR_KEY : path.includes('/admin/') ? tenant.admin_key : ticket;
    for (const raw of ['[null]', '[]', '[{}]', 'null', '"x"', '1', 'true']) {
      const res = await api(method, concrete, { token, raw, headers: { 'content-type': 'application/json' } });
      const what = `${method} ${path} ${raw}`;
      try {
        assertProblem(res, 400, 'invalid_request');
      } catch (e) {
        e.message = `${what}: ${e.message}`;
        throw e;
      }
      checked++;
    }
  }
  assert.ok(checked >= 15 * 7, `only ${checked} checks: the document lists fewer body operations than expected`);
  // Nested objects too: a credential sent as an array of its members.
  const nested = await api('POST', `/v1/${t}/verify`, { token: ticket, body: { challenge_id: 'c_x', credential: [] } });
  assertProblem(nested, 400, 'invalid_request');
  assert.deepEqual(await state(), before, 'refusals changed nothing');
});

test('every 405 says in Allow which methods the path serves (RFC 9110 §15.5.6)', async () => {
  const tenant = await createTenant();
  const ticket = await ticketFor(tenant, 'lee');
  const t = tenant.id;
  let checked = 0;
  const methodsOf = Map.groupBy(await documentedOperations(), ({ path }) => path);
  for (const [path, operations] of methodsOf) {
    const concrete = path.replace('{tenant}', t).replace(/\{\w+\}/g, 'x1');
    const token = path.startsWith('/v1/tenants') || path === '/v1/deliveries' ? OPERATOR_KEY : path.includes('/admin/') ? tenant.admin_key : ticket;
    const expected = operations.map(({ method }) => method);
    if (expected.includes('GET')) expected.push('HEAD');
    // The end-user routes answer CORS preflights: OPTIONS is served there too (not
    // the Approver's, which only its own origin calls).
    const browserRoute = path.startsWith('/v1/{tenant}/') && !path.includes('/admin/') && !path.includes('/approver/') && !path.endsWith('/jwks.json');
    if (browserRoute) expected.push('OPTIONS');
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => !expected.includes(m))) {
      const res = await api(method, concrete, { token });
      const what = `${method} ${path}`;
      try {
        assertProblem(res, 405, 'method_not_allowed');
      } catch (e) {
        e.message = `${what}: ${e.message}`;
        throw e;
      }
      const allow = (res.headers.get('allow') ?? '').split(',').map((m) => m.trim()).filter(Boolean);
      assert.deepEqual(allow.toSorted(), expected.toSorted(), `${what}: Allow: ${res.headers.get('allow')}`);
      checked++;
    }
  }
  assert.ok(checked > 100, `only ${checked} checks`);
  // On an end-user route a browser can read it: with CORS for the tenant's origin,
  // Allow exposed. The key set is no browser route: no preflight, 405 to OPTIONS.
  const fromSpa = await api('PUT', `/v1/${t}/verify`, { token: ticket, headers: { origin: ORIGIN } });
  assertProblem(fromSpa, 405, 'method_not_allowed');
  assert.equal(fromSpa.headers.get('access-control-allow-origin'), ORIGIN);
  assert.match(fromSpa.headers.get('access-control-expose-headers') ?? '', /\ballow\b/);
  const jwksPreflight = await api('OPTIONS', `/v1/${t}/jwks.json`, { headers: { origin: ORIGIN } });
  assertProblem(jwksPreflight, 405, 'method_not_allowed');
});

test('an integer written with a zero fraction is that integer (JSON Schema), a fraction is refused', async () => {
  // Found by schemathesis: `{"minutes": 897.0}` is an integer to JSON Schema.
  const tenant = await createTenant();
  const t = tenant.id;
  const granted = await api('POST', `/v1/${t}/admin/users/lee/bypass`, { token: tenant.admin_key, raw: '{"minutes": 5.0}', headers: { 'content-type': 'application/json' } });
  assert.equal(granted.status, 200, granted.text);
  const refused = await api('POST', `/v1/${t}/admin/users/lee/bypass`, { token: tenant.admin_key, raw: '{"minutes": 5.5}', headers: { 'content-type': 'application/json' } });
  assertProblem(refused, 400, 'invalid_request');
});

test("a code's 64-character bound counts characters, as the document's maxLength does", async () => {
  // Found by schemathesis: 12 symbols with U+0085 between them are 64 characters
  // but more than 64 bytes, and were refused as too long instead of tried.
  const tenant = await createTenant();
  const { ticket } = await enrollTotp(tenant, 'kim');
  const code = Array(12).fill('0').join('\u0085'.repeat(4)) + '\u0085'.repeat(8);
  assert.equal([...code].length, 64);
  assert.ok(Buffer.byteLength(code) > 64);
  const redeemed = await api('POST', `/v1/${tenant.id}/backup-codes/redeem`, { token: ticket, body: { code } });
  assertProblem(redeemed, 422, 'verification_failed');
});

test("a name's or a message's length counts characters as sent, as the document's maxLength does", async () => {
  // Found by schemathesis: a tenant name of 101 characters, 100 of them U+0085
  // that the trim drops, passed the document's maxLength 100. Every trimmed text
  // field is bounded as sent: tenant names, factor names, help messages.
  const tenant = await createTenant();
  const { ticket, mfaToken } = await enrollTotp(tenant, 'ann');
  const t = tenant.id;
  const padded = (text, length) => text + '\u0085'.repeat(length - [...text].length);
  const cases = [
    ['PATCH', `/v1/${t}/admin/tenant`, tenant.admin_key, { name: padded('\u00850', 101) }],
    ['POST', `/v1/${t}/enroll`, ticket, { type: 'totp', name: padded('key', 65) }],
    ['POST', `/v1/${t}/help`, ticket, { message: padded('help', 501) }],
  ];
  for (const [method, path, token, body] of cases) {
    const res = await api(method, path, { token, body, headers: { 'x-mfa-token': mfaToken } });
    assertProblem(res, 400, 'invalid_request');
  }
  const view = await api('GET', `/v1/${t}/admin/tenant`, { token: tenant.admin_key });
  assert.notEqual(view.body.name, '0', 'the refused name was not stored');
  // At the bound as sent: accepted, stored trimmed.
  const fits = await api('PATCH', `/v1/${t}/admin/tenant`, { token: tenant.admin_key, body: { name: padded('\u00850', 100) } });
  assert.equal(fits.status, 200);
  assert.equal(fits.body.name, '0');
});
