// The Worker's signature port against the shared vectors, under Node and inside
// workerd itself (`workerd serve`, the runtime the Worker runs on). Run:
//   node --test tests/crypto/vectors.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { check } from "./check.mjs";
import { serveModules } from "./serve.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const vectors = JSON.parse(readFileSync(join(root, "shared/crypto/tests/vectors.json"), "utf8")).vectors;

test("the port answers every vector under Node", () => {
  assert.ok(vectors.length >= 20);
  assert.deepEqual(check(vectors), []);
});

test("the port answers every vector inside workerd", async () => {
  const source = (path) => readFileSync(join(root, path), "utf8");
  const { url, stop } = await serveModules({
    "main.mjs": `
import { check } from "./tests/crypto/check.mjs";
import vectors from "./vectors.json";
export default { fetch() { return Response.json({ failures: check(vectors) }); } };`,
    "tests/crypto/check.mjs": source("tests/crypto/check.mjs"),
    "functions/worker/js/node-crypto.mjs": source("functions/worker/js/node-crypto.mjs"),
  }, { json: { "vectors.json": vectors } });
  try {
    const answer = await (await fetch(`${url}/`)).json();
    assert.deepEqual(answer.failures, []);
  } finally {
    stop();
  }
});
