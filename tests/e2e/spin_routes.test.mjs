// Every operation of /openapi.json reaches, under spin.toml's routes, a component
// that holds the stores it needs: a path that falls through to the catch-all
// `public` component (no SQLite) answers 500 on Spin. (Found: the resend route.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url);

/// spin.toml's HTTP triggers and each component's SQLite grants.
function manifest() {
  const text = readFileSync(new URL('spin.toml', root), 'utf8');
  const triggers = [...text.matchAll(/\[\[trigger\.http\]\]\s*\nroute = "([^"]+)"\s*\ncomponent = "([^"]+)"/g)]
    .map(([, route, component]) => ({ route, component }));
  // Each `[component.X]` table up to the next table header.
  const sections = text.split(/^(?=\[)/m);
  const sqlite = new Set(sections
    .map((section) => [section.match(/^\[component\.([a-z-]+)\]\s*\n/)?.[1], section])
    .filter(([name, section]) => name && /^sqlite_databases = \["default"\]/m.test(section))
    .map(([name]) => name));
  return { triggers, sqlite };
}

/// Spin's routing: exact routes, then the longest `/...` prefix (`:name` matches
/// one segment).
function route(triggers, path) {
  const segments = path.split('/').filter(Boolean);
  const matches = (pattern, exact) => {
    const parts = pattern.split('/').filter(Boolean);
    if (exact ? parts.length !== segments.length : parts.length > segments.length) return false;
    return parts.every((p, i) => p.startsWith(':') || p === segments[i]);
  };
  const exact = triggers.find((t) => !t.route.endsWith('/...') && matches(t.route, true));
  if (exact) return exact.component;
  const wild = triggers
    .filter((t) => t.route.endsWith('/...') && matches(t.route.slice(0, -4) || '/', false))
    .sort((a, b) => b.route.length - a.route.length);
  return wild[0]?.component;
}

if (process.env.EDGE_MFA_RUNTIME === 'spin') test('spin.toml routes every stateful operation to a component with SQLite', () => {
  const { triggers, sqlite } = manifest();
  const doc = JSON.parse(readFileSync(new URL('shared/api/openapi.json', root), 'utf8'));
  const stateless = new Set(['/health', '/openapi.json', '/v1/{tenant}/jwks.json']);
  const missing = [];
  for (const path of Object.keys(doc.paths)) {
    const concrete = path.replace(/\{[^}]+\}/g, 'x1');
    const component = route(triggers, concrete);
    if (!stateless.has(path) && !sqlite.has(component)) missing.push(`${path} → ${component}`);
  }
  assert.deepEqual(missing, []);
  assert.equal(route(triggers, '/v1/acme/challenge/c1/resend'), 'challenge');
});

// Components are built each with only the optional parts its routes need
// (scripts/build-spin, functions/spin/Cargo.toml): SMS numbers (libphonenumber's
// metadata) in `enroll`, the OpenAPI document in `public`. A route that needs one
// must reach the component built with it, and no other component carries it.
if (process.env.EDGE_MFA_RUNTIME === 'spin') test('the optional parts of the API are in the components whose routes need them, and only there', () => {
  const { triggers } = manifest();
  assert.equal(route(triggers, '/v1/acme/enroll'), 'enroll', 'SMS enrollment');
  assert.equal(route(triggers, '/openapi.json'), 'public', 'the OpenAPI document');
  const components = [...new Set(triggers.map((t) => t.component))].filter((c) => c !== 'demo');
  for (const component of components) {
    const wasm = readFileSync(new URL(`build/spin/edge_mfa_spin_${component.replace(/-/g, '_')}.wasm`, root)).toString('latin1');
    assert.equal(wasm.includes('phonenumber'), component === 'enroll', `${component}: phonenumber`);
    assert.equal(wasm.includes('"openapi": "3.1.0"'), component === 'public', `${component}: the OpenAPI document`);
  }
});
