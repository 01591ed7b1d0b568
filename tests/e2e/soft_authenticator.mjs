// A software WebAuthn authenticator (ES256, EdDSA or RS256; attestation "none" or any format name
// asked for) built on node:crypto, for API-level tests that need a passkey without
// a browser: registration (WebAuthn L3 §6.1, §6.5) and assertion (§6.3.3) answers in
// the JSON form PublicKeyCredential.toJSON() gives. The browser suite
// (browser.test.mjs) covers the same ceremonies with Chromium's authenticators.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
const sha256 = (bytes) => createHash('sha256').update(bytes).digest();

/// RFC 8949 encoding of what the tests need: unsigned and negative integers, byte
/// strings (Buffer), text strings, arrays, and maps (Map for integer keys, plain
/// objects for text keys, in insertion order).
export function cbor(value) {
  const head = (major, n) => {
    if (n < 24) return Buffer.from([(major << 5) | n]);
    if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
    if (n < 0x10000) { const b = Buffer.alloc(3); b[0] = (major << 5) | 25; b.writeUInt16BE(n, 1); return b; }
    const b = Buffer.alloc(5); b[0] = (major << 5) | 26; b.writeUInt32BE(n, 1); return b;
  };
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.concat([head(2, value.length), Buffer.from(value)]);
  if (typeof value === 'string') { const t = Buffer.from(value, 'utf8'); return Buffer.concat([head(3, t.length), t]); }
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(cbor)]);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

/// COSE algorithms (IANA) and how node:crypto makes, describes and uses their keys.
const ALGORITHMS = {
  ES256: {
    alg: -7,
    generate: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    cose: (jwk) => new Map([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x, 'base64url')], [-3, Buffer.from(jwk.y, 'base64url')]]),
    // ES256 signatures in WebAuthn are DER, which node:crypto gives by default.
    sign: (data, key) => sign('sha256', data, key),
  },
  EdDSA: {
    alg: -8,
    generate: () => generateKeyPairSync('ed25519'),
    cose: (jwk) => new Map([[1, 1], [3, -8], [-1, 6], [-2, Buffer.from(jwk.x, 'base64url')]]),
    sign: (data, key) => sign(null, data, key),
  },
  RS256: {
    alg: -257,
    generate: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
    cose: (jwk) => new Map([[1, 3], [3, -257], [-1, Buffer.from(jwk.n, 'base64url')], [-2, Buffer.from(jwk.e, 'base64url')]]),
    // RSASSA-PKCS1-v1_5, node:crypto's default padding for RSA keys.
    sign: (data, key) => sign('sha256', data, key),
  },
};

export class SoftAuthenticator {
  /// `algorithm`: 'ES256' (default), 'EdDSA' or 'RS256'.
  constructor({ origin, userVerified = true, algorithm = 'ES256' } = {}) {
    this.origin = origin;
    this.userVerified = userVerified;
    this.algorithm = ALGORITHMS[algorithm];
    if (!this.algorithm) throw new Error(`unknown algorithm ${algorithm}`);
    this.credentialId = randomBytes(16);
    const { privateKey, publicKey } = this.algorithm.generate();
    this.privateKey = privateKey;
    this.jwk = publicKey.export({ format: 'jwk' });
    this.signCount = 0;
  }

  flags({ attested }) {
    return 0x01 | (this.userVerified ? 0x04 : 0) | (attested ? 0x40 : 0);
  }

  /// RegistrationResponseJSON for PublicKeyCredentialCreationOptionsJSON `options`;
  /// `fmt` names the attestation statement format (with an empty statement).
  register(options, { fmt = 'none' } = {}) {
    // A credential is scoped to the RP ID it was made for (WebAuthn §6): it signs
    // for that RP ID, whatever a later request names.
    this.rpId = options.rp.id;
    const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin: this.origin, crossOrigin: false }));
    const coseKey = cbor(this.algorithm.cose(this.jwk));
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const authData = Buffer.concat([
      sha256(options.rp.id), Buffer.from([this.flags({ attested: true })]), Buffer.alloc(4), Buffer.alloc(16),
      idLength, this.credentialId, coseKey,
    ]);
    const attestationObject = cbor({ fmt, attStmt: {}, authData });
    return {
      id: b64url(this.credentialId), rawId: b64url(this.credentialId), type: 'public-key',
      response: { clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(attestationObject), transports: ['internal'] },
      clientExtensionResults: {},
    };
  }

  /// AuthenticationResponseJSON for PublicKeyCredentialRequestOptionsJSON `options`.
  assert(options) {
    this.signCount += 1;
    const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: options.challenge, origin: this.origin, crossOrigin: false }));
    const count = Buffer.alloc(4);
    count.writeUInt32BE(this.signCount);
    const authenticatorData = Buffer.concat([sha256(this.rpId ?? options.rpId), Buffer.from([this.flags({ attested: false })]), count]);
    const signature = this.algorithm.sign(Buffer.concat([authenticatorData, sha256(clientDataJSON)]), this.privateKey);
    return {
      id: b64url(this.credentialId), rawId: b64url(this.credentialId), type: 'public-key',
      response: { clientDataJSON: b64url(clientDataJSON), authenticatorData: b64url(authenticatorData), signature: b64url(signature) },
      clientExtensionResults: {},
    };
  }
}
