// Writes vectors.json: signatures made by Node's node:crypto (OpenSSL), an
// implementation independent of both ports, and mutations of them that no
// implementation may accept. Rerun: node shared/crypto/tests/make-vectors.mjs
import crypto from "node:crypto";
import { writeFileSync } from "node:fs";

const b64 = (b) => Buffer.from(b).toString("base64url");
const message = Buffer.from("authenticatorData || SHA-256(clientDataJSON), or a JWS signing input");
const other = Buffer.from("another message");
const flip = (buf, i) => { const c = Buffer.from(buf); c[i] ^= 0x01; return c; };
const vectors = [];
// `precheck`: refused for a rule BoringSSL does not apply (Ed25519's strict rules,
// RustCrypto's RSA sizes); the Worker's port checks it in Rust first
// (boringssl_precheck).
const add = (name, alg, key, msg, sig, valid, precheck) =>
  vectors.push({ name, alg, key, message: b64(msg), signature: b64(sig), valid, ...(precheck ? { precheck } : {}) });

// P-256 / ES256. n, the group order, for high-S and out-of-range scalars.
const n = BigInt("0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
const ec = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
const ecJwk = ec.publicKey.export({ format: "jwk" });
const ecKey = { kty: "EC", x: ecJwk.x, y: ecJwk.y };
const ec2 = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "jwk" });
const der = crypto.sign("sha256", message, ec.privateKey);
// A signature whose r has its top bit set, so that DER needs a leading zero before
// it (and the vector without that zero below is always there).
let p1363;
do p1363 = crypto.sign("sha256", message, { key: ec.privateKey, dsaEncoding: "ieee-p1363" });
while (p1363[0] < 0x80);
const int = (v) => { let h = v.toString(16); if (h.length % 2) h = "0" + h; let b = Buffer.from(h, "hex"); if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]); return Buffer.concat([Buffer.from([2, b.length]), b]); };
const seq = (...parts) => { const body = Buffer.concat(parts); return Buffer.concat([Buffer.from([0x30, body.length]), body]); };
const r = BigInt("0x" + p1363.subarray(0, 32).toString("hex"));
const s = BigInt("0x" + p1363.subarray(32).toString("hex"));
add("es256 valid", "ES256", ecKey, message, der, true);
add("es256 high-S (n - s) is the same ECDSA signature", "ES256", ecKey, message, seq(int(r), int(n - s)), true);
add("es256 other message", "ES256", ecKey, other, der, false);
add("es256 another key", "ES256", { kty: "EC", x: ec2.x, y: ec2.y }, message, der, false);
add("es256 a bit of s flipped", "ES256", ecKey, message, flip(der, der.length - 1), false);
add("es256 r || s instead of DER", "ES256", ecKey, message, p1363, false);
add("es256 r = 0", "ES256", ecKey, message, seq(int(0n), int(s)), false);
add("es256 s = n", "ES256", ecKey, message, seq(int(r), int(n)), false);
add("es256 s + n (not reduced)", "ES256", ecKey, message, seq(int(r), int(s + n)), false);
add("es256 trailing byte after the DER", "ES256", ecKey, message, Buffer.concat([der, Buffer.from([0])]), false);
add("es256 empty signature", "ES256", ecKey, message, Buffer.alloc(0), false);
const longForm = Buffer.concat([Buffer.from([0x30, 0x81, der[1]]), der.subarray(2)]);
add("es256 DER with a long-form length", "ES256", ecKey, message, longForm, false);
add("es256 r with a needless leading zero", "ES256", ecKey, message, seq(Buffer.concat([Buffer.from([2, int(r).length - 1, 0]), int(r).subarray(2)]), int(s)), false);
const rNegative = Buffer.concat([Buffer.from([2, 32]), int(r).subarray(3)]);
add("es256 an INTEGER read as negative (no leading zero before a high bit)", "ES256", ecKey, message, seq(rNegative, int(s)), false);
add("es256 x + 1: not on the curve", "ES256", { kty: "EC", x: b64(flip(Buffer.from(ecJwk.x, "base64url"), 31)), y: ecJwk.y }, message, der, false);

// Ed25519 / EdDSA.
const ed = crypto.generateKeyPairSync("ed25519");
const edKey = { kty: "OKP", x: ed.publicKey.export({ format: "jwk" }).x };
const edSig = crypto.sign(null, message, ed.privateKey);
const L = (1n << 252n) + 27742317777372353535851937790883648493n;
const le = (v) => { const out = Buffer.alloc(32); for (let i = 0; i < 32; i++) { out[i] = Number(v & 0xffn); v >>= 8n; } return out; };
const edS = BigInt("0x" + Buffer.from(edSig.subarray(32)).reverse().toString("hex"));
add("eddsa valid", "EdDSA", edKey, message, edSig, true);
add("eddsa other message", "EdDSA", edKey, other, edSig, false);
add("eddsa a bit of R flipped", "EdDSA", edKey, message, flip(edSig, 0), false);
add("eddsa S + L (non-canonical)", "EdDSA", edKey, message, Buffer.concat([edSig.subarray(0, 32), le(edS + L)]), false);
add("eddsa 63 bytes", "EdDSA", edKey, message, edSig.subarray(0, 63), false);
add("eddsa an ES256 key", "EdDSA", ecKey, message, edSig, false);
// RFC 8032 §5.1.5-6 by hand: the clamped secret scalar a of a seed, k = H(R || A || M).
const sha512 = (...parts) => crypto.createHash("sha512").update(Buffer.concat(parts)).digest();
const leInt = (b) => BigInt("0x" + Buffer.from(b).reverse().toString("hex"));
const secretScalar = (seed) => { const h = sha512(seed).subarray(0, 32); h[0] &= 248; h[31] &= 127; h[31] |= 64; return leInt(h); };
const identity = Buffer.alloc(32); identity[0] = 1;
const edA = Buffer.from(edKey.x, "base64url");
const a = secretScalar(Buffer.from(ed.privateKey.export({ format: "jwk" }).d, "base64url"));
// R = the identity (small order), S = k·a: [S]B = R + [k]A holds, as BoringSSL checks.
const k = leInt(sha512(identity, edA, message)) % L;
add("eddsa R of small order (the identity), S = k·a: the equation holds", "EdDSA", edKey, message, Buffer.concat([identity, le((k * a) % L)]), false, true);
// The identity as the public key: any R = [S]B verifies any message.
const second = crypto.generateKeyPairSync("ed25519");
const a2 = secretScalar(Buffer.from(second.privateKey.export({ format: "jwk" }).d, "base64url"));
const A2 = Buffer.from(second.publicKey.export({ format: "jwk" }).x, "base64url");
add("eddsa the identity as the key, R = [S]B", "EdDSA", { kty: "OKP", x: b64(identity) }, message, Buffer.concat([A2, le(a2 % L)]), false, true);

// RSA / RS256 and RS1.
const rsa = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const rsaJwk = rsa.publicKey.export({ format: "jwk" });
const rsaKey = { kty: "RSA", n: rsaJwk.n, e: rsaJwk.e };
const rs256 = crypto.sign("sha256", message, rsa.privateKey);
const rs1 = crypto.sign("sha1", message, rsa.privateKey);
add("rs256 valid", "RS256", rsaKey, message, rs256, true);
add("rs256 other message", "RS256", rsaKey, other, rs256, false);
add("rs256 last bit flipped", "RS256", rsaKey, message, flip(rs256, rs256.length - 1), false);
add("rs256 one byte short", "RS256", rsaKey, message, rs256.subarray(1), false);
add("rs256 a SHA-1 signature", "RS256", rsaKey, message, rs1, false);
add("rs1 valid", "RS1", rsaKey, message, rs1, true);
add("rs1 a SHA-256 signature", "RS1", rsaKey, message, rs256, false);
add("es256 an RSA key", "ES256", rsaKey, message, der, false);
const small = crypto.generateKeyPairSync("rsa", { modulusLength: 1024 });
const smallJwk = small.publicKey.export({ format: "jwk" });
add("rs256 a valid signature by a 1024-bit key (below 2048)", "RS256", { kty: "RSA", n: smallJwk.n, e: smallJwk.e }, message, crypto.sign("sha256", message, small.privateKey), false, true);

writeFileSync(new URL("./vectors.json", import.meta.url), JSON.stringify({
  source: "shared/crypto/tests/make-vectors.mjs (Node " + process.version + ", OpenSSL " + process.versions.openssl + ")",
  vectors,
}, null, 1) + "\n");
console.log(`${vectors.length} vectors`);
