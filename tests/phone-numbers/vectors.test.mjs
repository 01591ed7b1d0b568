// The Worker's phone-number port (functions/worker/js/phone-numbers.mjs:
// libphonenumber-js) against the vectors the Rust port answers too
// (shared/api/tests/phone_numbers.rs). make-vectors.mjs wrote them with this port,
// so this test holds the port to them until they are written again (a library
// update that changes an answer fails here, and the Rust test says whether the
// two still agree). Run:
//   node --test tests/phone-numbers/vectors.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "../../functions/worker/js/phone-numbers.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const { vectors } = JSON.parse(readFileSync(join(root, "shared/api/tests/phone_numbers.json"), "utf8"));
const TYPES = { 0: "other", 1: "mobile", 2: "fixed_line_or_mobile" };

test("the Worker's port answers every vector", () => {
  assert.ok(vectors.length >= 200);
  const failures = [];
  for (const v of vectors) {
    const answer = parse(v.input);
    const same = typeof answer === "number"
      ? v.error === true
      : v.error === undefined && answer[0] === v.e164 && answer[1] === v.calling_code
        && answer[2] === v.valid && TYPES[answer[3]] === v.number_type;
    if (!same) failures.push(`${v.input}: ${JSON.stringify(answer)}`);
  }
  assert.deepEqual(failures, []);
});

test("a parse error is a number, every other answer the four members", () => {
  assert.equal(typeof parse("+"), "number");
  assert.equal(typeof parse("+999 123456789"), "number");
  assert.deepEqual(parse("+44 7400 123456"), ["+447400123456", "44", true, 1]);
});
