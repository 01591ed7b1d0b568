// Writes shared/api/tests/phone_numbers.json: the hand-picked inputs below, and the
// example mobile number of every region (libphonenumber's, as libphonenumber-js
// ships them), with what the Worker's port answers. The Rust port must answer the
// same (shared/api/tests/phone_numbers.rs), and both keep answering it until the
// file is written again. Run after changing either library:
//   node tests/phone-numbers/make-vectors.mjs
import { readFileSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { getCountryCallingCode } from "libphonenumber-js/max";
import { parse } from "../../functions/worker/js/phone-numbers.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const examples = JSON.parse(readFileSync(join(root, "node_modules/libphonenumber-js/examples.mobile.json"), "utf8"));
const libraryVersion = JSON.parse(readFileSync(join(root, "node_modules/libphonenumber-js/package.json"), "utf8")).version;

// Separators, brackets, a national prefix in brackets, regions that do not tell
// mobile from fixed-line, non-mobile ranges (fixed-line, toll-free, premium-rate,
// personal), invalid lengths, unknown calling codes, and no number at all.
const picked = [
  "+44 7400 123456", "+447400123456", "+44 7400-123-456", "+44 (0) 7400 123456",
  "+44 20 7946 0958", "+1 650 253 0000", "+1 (415) 555-2671", "+1.202.555.0143",
  "+33 6 12 34 56 78", "+49 1512 3456789", "+86 138 0013 8000", "+91 98765 43210",
  "+55 11 91234 5678", "+81 90 1234 5678", "+61 412 345 678", "+34 612 34 56 78",
  "+39 312 345 6789", "+7 912 345 67 89", "+27 82 123 4567", "+52 1 55 1234 5678",
  "+234 803 123 4567", "+800 1234 5678", "+44 909 8790000", "+1 900 555 0100",
  "+44 70 1234 5678", "+44 12", "+999 123456789", "+", "+44", "+0 123 456 789",
  "+353 85 123 4567", "+46 70 123 45 67", "+65 8123 4567", "+972 52 123 4567",
  "+1 800 555 0199", "+44 800 123 4567", "+44 7624 123456", "+1 242 359 1234",
  "+882 1234 5678", "+44 0", "+1 011 555 0100", "+12345",
];
const regions = Object.keys(examples).sort();
const inputs = [...picked, ...regions.map((r) => `+${getCountryCallingCode(r)} ${examples[r]}`)];
const TYPES = { 0: "other", 1: "mobile", 2: "fixed_line_or_mobile" };
const vectors = [...new Set(inputs)].map((input) => {
  const answer = parse(input);
  if (typeof answer === "number") return { input, error: true };
  const [e164, calling_code, valid, type] = answer;
  return { input, e164, calling_code, valid, number_type: TYPES[type] };
});
const about = `What a phone-number library makes of numbers as entered: the answers of the phone-number port, which the Rust port (the phonenumber crate, Spin) and the Worker's (libphonenumber-js) must both give; both carry libphonenumber's metadata 9.0.33. Hand-picked inputs, then the example mobile number of each of ${regions.length} regions. Written by tests/phone-numbers/make-vectors.mjs with libphonenumber-js ${libraryVersion}; checked by shared/api/tests/phone_numbers.rs and tests/phone-numbers/vectors.test.mjs. An error is only said to be one: the libraries name some differently (+44: too short, or not a number). Inputs with letters or over 20 characters are left out: the API refuses them before either library sees them.`;
writeFileSync(join(root, "shared/api/tests/phone_numbers.json"), JSON.stringify({ about, vectors }, null, 1) + "\n");
console.log(`${vectors.length} vectors`);
