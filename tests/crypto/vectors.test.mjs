// The Worker's signature port against the shared vectors, under Node and inside
// workerd itself (`workerd serve`, the runtime the Worker runs on). Run:
//   node --test tests/crypto/vectors.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { check } from "./check.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const vectors = JSON.parse(readFileSync(join(root, "shared/crypto/tests/vectors.json"), "utf8")).vectors;

test("the port answers every vector under Node", () => {
  assert.ok(vectors.length >= 20);
  assert.deepEqual(check(vectors), []);
});

test("the port answers every vector inside workerd", async () => {
  const workerd = createRequire(join(root, "package.json")).resolve("workerd/bin/workerd");
  const dir = mkdtempSync(join(tmpdir(), "edge-mfa-crypto-"));
  mkdirSync(join(dir, "functions/worker/js"), { recursive: true });
  mkdirSync(join(dir, "tests/crypto"), { recursive: true });
  copyFileSync(join(root, "functions/worker/js/node-crypto.mjs"), join(dir, "functions/worker/js/node-crypto.mjs"));
  copyFileSync(join(root, "tests/crypto/check.mjs"), join(dir, "tests/crypto/check.mjs"));
  writeFileSync(join(dir, "vectors.json"), JSON.stringify(vectors));
  writeFileSync(join(dir, "main.mjs"), `
import { check } from "./tests/crypto/check.mjs";
import vectors from "./vectors.json";
export default { fetch() { return Response.json({ failures: check(vectors) }); } };
`);
  const port = 20000 + Math.floor(Math.random() * 20000);
  writeFileSync(join(dir, "config.capnp"), `
using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .w) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const w :Workerd.Worker = (
  modules = [
    (name = "main.mjs", esModule = embed "main.mjs"),
    (name = "tests/crypto/check.mjs", esModule = embed "tests/crypto/check.mjs"),
    (name = "functions/worker/js/node-crypto.mjs", esModule = embed "functions/worker/js/node-crypto.mjs"),
    (name = "vectors.json", json = embed "vectors.json"),
  ],
  compatibilityDate = "2025-09-01",
  compatibilityFlags = ["nodejs_compat"],
);
`);
  const child = spawn(workerd, ["serve", join(dir, "config.capnp")], { stdio: ["ignore", "inherit", "inherit"] });
  try {
    let answer;
    for (let i = 0; i < 100 && answer === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100));
      answer = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.json(), () => undefined);
    }
    assert.ok(answer, "workerd did not answer");
    assert.deepEqual(answer.failures, []);
  } finally {
    child.kill();
  }
});
