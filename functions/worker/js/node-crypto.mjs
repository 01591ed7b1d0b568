// The signature port on Workers (src/crypto.rs): workerd's node:crypto, which is
// BoringSSL and synchronous, so the Rust core can call it like any function.
// Keys are imported once per isolate and kept here; a key that does not import
// verifies nothing. Checked against shared/crypto/tests/vectors.json under Node and
// workerd (tests/crypto/).

const crypto = globalThis.process?.getBuiltinModule?.("node:crypto");
const { Buffer } = globalThis.process?.getBuiltinModule?.("node:buffer") ?? {};

// Imported keys kept per isolate; past this many, the cache starts over.
const MAX_KEYS = 1024;
const publicKeys = new Map();
const privateKeys = new Map();

const b64url = (bytes) => Buffer.from(bytes).toString("base64url");

function remember(keys, id, make) {
  let key = keys.get(id);
  if (key === undefined) {
    key = make();
    if (keys.size >= MAX_KEYS) keys.clear();
    keys.set(id, key);
  }
  return key;
}

// kind: 0 = P-256 (a = x, b = y), 1 = Ed25519 (a = x), 2 = RSA (a = n, b = e).
function publicJwk(kind, a, b) {
  switch (kind) {
    case 0: return { kty: "EC", crv: "P-256", x: b64url(a), y: b64url(b) };
    case 1: return { kty: "OKP", crv: "Ed25519", x: b64url(a) };
    case 2: return { kty: "RSA", n: b64url(a), e: b64url(b) };
    default: throw new TypeError("unknown key kind");
  }
}

/** Whether node:crypto is there (the nodejs_compat flag). */
export function available() {
  return crypto !== undefined && Buffer !== undefined;
}

/**
 * `hash`: "sha256", "sha1", or "" for Ed25519. ECDSA signatures are DER. The Rust
 * side (src/crypto.rs, `boringssl_precheck`) checks first what BoringSSL does not:
 * RSA keys as RustCrypto parses them, and Ed25519's strict rules.
 */
export function verify(kind, hash, a, b, message, signature) {
  try {
    const id = `${kind}.${b64url(a)}.${b64url(b)}`;
    const key = remember(publicKeys, id, () =>
      crypto.createPublicKey({ key: publicJwk(kind, a, b), format: "jwk" }));
    return crypto.verify(hash === "" ? null : hash, message, key, signature) === true;
  } catch {
    return false;
  }
}

export function has_private_key(id) {
  return privateKeys.has(id);
}

// The order of P-256's group, big-endian: a private scalar lies in [1, n) (SEC 1
// §3.2.1).
const hex = (h) => Uint8Array.from(h.match(/../g), (b) => parseInt(b, 16));
const P256_N = hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
// PKCS #8 PrivateKeyInfo of a P-256 ECPrivateKey (RFC 5208, RFC 5915) up to the
// 32 bytes of the scalar; the optional public key is left out (derived on import).
const PKCS8_P256_PREFIX = hex("304102010030130607" + "2a8648ce3d0201" + "0608" + "2a8648ce3d030107" + "042730250201010420");

function isScalar(d) {
  if (d.length !== 32 || d.every((b) => b === 0)) return false;
  for (let i = 0; i < 32; i++) {
    if (d[i] !== P256_N[i]) return d[i] < P256_N[i];
  }
  return false;
}

/**
 * Imports the P-256 private scalar `d` under `id` (BoringSSL would take a zero
 * scalar; RustCrypto refuses it, and so does this). The DER it is imported from is
 * zeroed after; the key object stays, for the isolate's life.
 */
export function import_private_key(id, d) {
  if (!isScalar(d)) return false;
  const der = new Uint8Array(PKCS8_P256_PREFIX.length + 32);
  try {
    der.set(PKCS8_P256_PREFIX);
    der.set(d, PKCS8_P256_PREFIX.length);
    remember(privateKeys, id, () => crypto.createPrivateKey({ key: Buffer.from(der.buffer), format: "der", type: "pkcs8" }));
    return true;
  } catch {
    return false;
  } finally {
    der.fill(0);
  }
}

/** ECDSA P-256 with SHA-256 by the key imported under `id`: DER, or empty. */
export function sign_es256(id, message) {
  const key = privateKeys.get(id);
  if (key === undefined) return new Uint8Array(0);
  try {
    return new Uint8Array(crypto.sign("sha256", message, key));
  } catch {
    return new Uint8Array(0);
  }
}
