// @edge-mfa/browser's answer types against the OpenAPI document: each interface
// has exactly the members of its schema, optional where the schema does not
// require them. Read with the TypeScript compiler's own parser.
//   node --test tests/sdk/types.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '../..');
const doc = JSON.parse(readFileSync(resolve(root, 'shared/api/openapi.json'), 'utf8'));
const file = resolve(root, 'packages/browser/src/index.ts');
const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);

/// name -> { members: Map(name -> optional), bases: [names] } of the file's interfaces.
const interfaces = new Map();
source.forEachChild((node) => {
  if (!ts.isInterfaceDeclaration(node)) return;
  const members = new Map();
  for (const m of node.members) {
    if (ts.isPropertySignature(m)) members.set(m.name.getText(source), Boolean(m.questionToken));
  }
  const bases = (node.heritageClauses ?? []).flatMap((h) => h.types.map((t) => t.expression.getText(source)));
  interfaces.set(node.name.text, { members, bases });
});
function membersOf(name) {
  const found = interfaces.get(name);
  assert.ok(found, `no interface ${name} in the SDK`);
  return new Map([...found.bases.flatMap((b) => [...membersOf(b)]), ...found.members]);
}

/// A schema's members: name -> optional, through $ref, allOf and oneOf (a member
/// of a oneOf is optional unless every alternative requires it).
function schemaMembers(schema) {
  if (schema.$ref) return schemaMembers(doc.components.schemas[schema.$ref.split('/').pop()]);
  if (schema.oneOf) {
    const each = schema.oneOf.map(schemaMembers);
    const out = new Map();
    for (const members of each) {
      for (const [k, optional] of members) out.set(k, (out.get(k) ?? false) || optional);
    }
    for (const [k] of out) if (each.some((m) => !m.has(k))) out.set(k, true);
    return out;
  }
  const out = new Map();
  for (const part of schema.allOf ?? []) for (const [k, v] of schemaMembers(part)) out.set(k, v);
  const required = new Set(schema.required ?? []);
  for (const k of Object.keys(schema.properties ?? {})) out.set(k, !required.has(k));
  return out;
}
const answer = (path, method, status) => doc.paths[path][method].responses[status].content['application/json'].schema;

const PAIRS = {
  Decision: answer('/v1/{tenant}/assess', 'post', '200'),
  Factor: doc.components.schemas.Factor,
  TotpEnrollment: doc.components.schemas.TotpEnrollment,
  WebauthnEnrollment: doc.components.schemas.WebauthnEnrollment,
  CodeEnrollment: doc.components.schemas.CodeEnrollment,
  PushEnrollment: doc.components.schemas.PushEnrollment,
  Delivery: doc.components.schemas.CodeDelivery,
  Confirmed: answer('/v1/{tenant}/enroll/{enrollment_id}/confirm', 'post', '201'),
  Challenge: doc.components.schemas.Challenge,
  Device: doc.components.schemas.Device,
};

test('each answer type of the SDK has the members of its schema in /openapi.json', () => {
  for (const [name, schema] of Object.entries(PAIRS)) {
    const sdk = membersOf(name);
    const documented = schemaMembers(schema);
    assert.deepEqual([...sdk.keys()].sort(), [...documented.keys()].sort(), `${name}: members`);
    if (schema.required || schema.$ref || schema.allOf || schema.oneOf) {
      for (const [member, optional] of documented) {
        assert.equal(sdk.get(member), optional, `${name}.${member}: ${optional ? 'optional' : 'required'} in the document`);
      }
    }
  }
});

test("Verified covers verify's and redeem's answers", () => {
  const sdk = membersOf('Verified');
  const verify = schemaMembers(answer('/v1/{tenant}/verify', 'post', '200'));
  const redeem = schemaMembers(answer('/v1/{tenant}/backup-codes/redeem', 'post', '200'));
  assert.deepEqual([...sdk.keys()].sort(), [...new Set([...verify.keys(), ...redeem.keys()])].sort());
  for (const [member, optional] of verify) assert.equal(sdk.get(member), optional, `Verified.${member}`);
  assert.equal(sdk.get('remaining'), true, 'remaining: only in redeem');
});
