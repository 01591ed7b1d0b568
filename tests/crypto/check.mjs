// The checks of the Worker's signature port (functions/worker/js/node-crypto.mjs)
// against shared/crypto/tests/vectors.json: the same module the Worker bundles,
// run here under Node and inside workerd by vectors.test.mjs. Returns failures.
import * as port from "../../functions/worker/js/node-crypto.mjs";

const KINDS = { EC: 0, OKP: 1, RSA: 2 };
const HASHES = { ES256: "sha256", EdDSA: "", RS256: "sha256", RS1: "sha1" };
const { Buffer } = globalThis.process.getBuiltinModule("node:buffer");
const bytes = (s) => new Uint8Array(Buffer.from(s, "base64url"));

export function check(vectors) {
  const failures = [];
  if (!port.available()) return ["node:crypto is not available"];
  // `precheck` vectors (Ed25519's small-order rules, RustCrypto's RSA sizes) are
  // refused by the Rust side of the port before it calls this module
  // (boringssl_precheck, checked with the same vectors in
  // shared/crypto/tests/vectors.rs); BoringSSL accepts them.
  for (const v of vectors.filter((v) => !v.precheck)) {
    const [a, b] = v.key.kty === "EC" ? [v.key.x, v.key.y]
      : v.key.kty === "OKP" ? [v.key.x, ""] : [v.key.n, v.key.e];
    // Twice: the second answer comes from the imported key the first one kept.
    for (const round of [1, 2]) {
      const got = port.verify(KINDS[v.key.kty], HASHES[v.alg], bytes(a), bytes(b), bytes(v.message), bytes(v.signature));
      if (got !== v.valid) failures.push(`${v.name} (round ${round}): got ${got}, want ${v.valid}`);
    }
  }
  // Signing: an imported key signs, its signature verifies, another message's does not.
  const d = new Uint8Array(32).fill(7);
  const x = bytes("HhhTL9R1TALzBB2cdc6zO4P_2BrHzk_ogsyxyYvFiW4");
  const y = bytes("pGwxHE4v9A3ZajZT5uRURdMt_khuztdcepDGoYiBwKM");
  const message = new TextEncoder().encode("header.payload");
  // A fresh id per run: the module keeps what it imported for the isolate's life.
  const id = `test-key-${Math.random()}`;
  if (port.sign_es256(id, message).length !== 0) failures.push("signed with a key never imported");
  if (!port.import_private_key(id, d)) failures.push("the test key did not import");
  if (!port.has_private_key(id)) failures.push("the imported key is not kept");
  const der = port.sign_es256(id, message);
  if (!port.verify(0, "sha256", x, y, message, der)) failures.push("its signature does not verify");
  if (port.verify(0, "sha256", x, y, new TextEncoder().encode("other"), der)) failures.push("its signature verifies another message");
  // A scalar that is no P-256 key (zero) does not import.
  if (port.import_private_key("zero-key", new Uint8Array(32))) failures.push("imported a zero scalar");
  if (port.import_private_key("n-key", new Uint8Array(32).fill(0xff))) failures.push("imported a scalar above n");
  if (port.verify(0, "sha256", x.subarray(1), y, message, der)) failures.push("verified with a 31-byte x");
  return failures;
}
