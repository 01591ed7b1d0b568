// The phone-number port on Workers (src/phone_numbers.rs): libphonenumber-js with
// its full metadata ("max": a number's type needs it), bundled into the Worker's
// JavaScript by worker-build's esbuild. About 50 KB gzip in place of the 480 KB of
// the `phonenumber` crate in the wasm (docs/PERFORMANCE.md). The version is pinned
// to the one whose metadata is the crate's (libphonenumber 9.0.33), and both ports
// answer shared/api/tests/phone_numbers.json alike (tests/phone-numbers/).
import { ParseError, parsePhoneNumberWithError } from "libphonenumber-js/max";

// The number types SMS cares about (codes.rs `NumberType`); every other is 0.
const TYPES = { MOBILE: 1, FIXED_LINE_OR_MOBILE: 2 };
// libphonenumber-js's parse errors (codes.rs `PhoneParseError`); any other is 0.
const ERRORS = { INVALID_COUNTRY: 1, TOO_SHORT: 2, TOO_LONG: 3, INVALID_LENGTH: 4 };
// The library failed otherwise (a bug of its own): never an exception into wasm.
const FAILED = -1;

// `text` as an international number: [e164, callingCode, valid, type], or the
// number of its parse error.
export function parse(text) {
  try {
    const number = parsePhoneNumberWithError(text);
    return [number.number, number.countryCallingCode, number.isValid(), TYPES[number.getType()] ?? 0];
  } catch (e) {
    if (e instanceof ParseError) return ERRORS[e.message] ?? 0;
    console.error(`edge-mfa: libphonenumber-js failed: ${e}`);
    return FAILED;
  }
}
