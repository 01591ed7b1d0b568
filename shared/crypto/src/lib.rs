//! The signature port: every public-key operation edge-mfa performs per request
//! goes through [`Crypto`], so a runtime with native code for it can supply its own.
//!
//! - [`RustCrypto`] (pure Rust: `p256`, `ed25519-dalek`, `rsa`) is the default, and
//!   what Spin and native builds use.
//! - The Worker implements the port with workerd's `node:crypto` (BoringSSL),
//!   synchronously and with imported keys kept per isolate (docs/PERFORMANCE.md).
//!
//! Both must give the same answer for every input: `tests/vectors.json` holds the
//! cases each implementation is checked against.

mod rust;

pub use rust::{RSA_BITS, RustCrypto, boringssl_precheck, p256_key, rsa_key, strip_leading_zeros};
use zeroize::Zeroizing;

/// The signature algorithms verified, by their COSE (RFC 9053, RFC 8812) and JOSE
/// (RFC 7518) names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256 (COSE −7). Signatures are ASN.1 DER
    /// (`Ecdsa-Sig-Value`, SEC 1 §C.5), as WebAuthn sends them (§6.5.5); a JWS's
    /// 64-byte `r || s` is converted with [`es256_der_from_raw`] first.
    Es256,
    /// Ed25519 (COSE −8, RFC 8032): 64-byte signatures, checked strictly (no
    /// non-canonical `S`, no small-order components).
    EdDsa,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (COSE −257, RFC 8017 §8.2).
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-1 (COSE −65535): TPM attestation statements only.
    Rs1,
}

/// A public key by its JWK members (RFC 7518 §6): the port imports it as such.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublicKey<'a> {
    /// An uncompressed P-256 point: `x` and `y`, 32 bytes each, big-endian.
    P256 { x: &'a [u8; 32], y: &'a [u8; 32] },
    /// An Ed25519 public key (RFC 8032 §5.1.5), 32 bytes.
    Ed25519(&'a [u8; 32]),
    /// An RSA public key: modulus and exponent, big-endian.
    Rsa { n: &'a [u8], e: &'a [u8] },
}

/// A P-256 private key the port may keep between calls, opened only when it does
/// not hold it already. Its `Debug` shows the id only.
pub struct SigningKey<'a> {
    /// Names exactly one key, across tenants and their incarnations (for a
    /// tenant's token key: its data scope and the key's RFC 7638 thumbprint).
    pub id: &'a str,
    /// Opens the 32-byte private scalar (RFC 7518 §6.2.2.1 `d`); `None` if it
    /// cannot be opened.
    pub open: &'a dyn Fn() -> Option<Zeroizing<[u8; 32]>>,
}

impl std::fmt::Debug for SigningKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The port. Implementations never panic on any input: a key or signature that
/// does not parse is simply not valid.
pub trait Crypto {
    /// Whether `signature` is `key`'s signature over `message` under `alg`
    /// (encodings as [`Algorithm`] says). A key that does not fit `alg` is `false`.
    fn verify(&self, alg: Algorithm, key: PublicKey<'_>, message: &[u8], signature: &[u8]) -> bool;

    /// ES256 over `message` (SHA-256, then ECDSA on P-256): the 64-byte `r || s`
    /// of RFC 7518 §3.4. `None` if the key cannot be opened or is not a valid
    /// scalar. The nonce may be random or deterministic (RFC 6979); verifiers
    /// cannot tell.
    fn sign_es256(&self, key: &SigningKey<'_>, message: &[u8]) -> Option<[u8; 64]>;
}

/// A JWS ES256 signature (`r || s`, 32 bytes each, RFC 7518 §3.4) as ASN.1 DER;
/// `None` unless it is 64 bytes with `r` and `s` in `[1, n)`.
pub fn es256_der_from_raw(raw: &[u8]) -> Option<Vec<u8>> {
    let signature = p256::ecdsa::Signature::from_slice(raw).ok()?;
    Some(signature.to_der().as_bytes().to_vec())
}

/// The inverse of [`es256_der_from_raw`]: `r || s` from strict DER.
pub fn es256_raw_from_der(der: &[u8]) -> Option<[u8; 64]> {
    let signature = p256::ecdsa::Signature::from_der(der).ok()?;
    Some(signature.to_bytes().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_and_der_signatures_convert_both_ways() {
        let mut raw = [0u8; 64];
        raw[31] = 1;
        raw[63] = 0x80; // s needs a leading zero in DER
        let der = es256_der_from_raw(&raw).unwrap();
        assert_eq!(der, [0x30, 7, 2, 1, 1, 2, 2, 0, 0x80]);
        assert_eq!(es256_raw_from_der(&der).unwrap(), raw);
        // r = 0 is no signature; nor is a short input.
        assert!(es256_der_from_raw(&[0u8; 64]).is_none());
        assert!(es256_der_from_raw(&raw[..63]).is_none());
        // Non-minimal DER (a needless leading zero) is refused.
        assert!(es256_raw_from_der(&[0x30, 8, 2, 2, 0, 1, 2, 2, 0, 0x80]).is_none());
    }
}
