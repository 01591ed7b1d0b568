//! The port in pure Rust: `p256`, `ed25519-dalek` and `rsa`.

use p256::ecdsa::signature::Verifier;
use sha2::Digest;
use zeroize::{Zeroize, Zeroizing};

use crate::{Algorithm, Crypto, PublicKey, SigningKey};

/// RSA moduli accepted: 2048 bits (NIST SP 800-57's floor, what TPMs and Windows
/// Hello make) to 4096 (a bound on verification cost).
pub const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=4096;

/// The default port: no state, nothing cached (a key is parsed per call).
#[derive(Clone, Copy, Debug, Default)]
pub struct RustCrypto;

impl Crypto for RustCrypto {
    fn verify(&self, alg: Algorithm, key: PublicKey<'_>, message: &[u8], signature: &[u8]) -> bool {
        match (alg, key) {
            (Algorithm::Es256, PublicKey::P256 { x, y }) => verify_es256(x, y, message, signature),
            (Algorithm::EdDsa, PublicKey::Ed25519(x)) => verify_ed25519(x, message, signature),
            (Algorithm::Rs256, PublicKey::Rsa { n, e }) => {
                verify_pkcs1v15::<sha2::Sha256>(n, e, message, signature)
            }
            (Algorithm::Rs1, PublicKey::Rsa { n, e }) => {
                verify_pkcs1v15::<sha1::Sha1>(n, e, message, signature)
            }
            _ => false,
        }
    }

    fn sign_es256(&self, key: &SigningKey<'_>, message: &[u8]) -> Option<[u8; 64]> {
        let scalar: Zeroizing<[u8; 32]> = (key.open)()?;
        // The scalar alone: `ecdsa::SigningKey` would also compute the public
        // point, a second scalar multiplication the signature does not need.
        let mut d =
            Option::<p256::NonZeroScalar>::from(p256::NonZeroScalar::from_repr((*scalar).into()))?;
        let z = sha2::Sha256::digest(message);
        // RFC 6979 (deterministic k), as `ecdsa::SigningKey::sign` does.
        let (signature, _) =
            ecdsa::hazmat::sign_prehashed_rfc6979::<p256::NistP256, sha2::Sha256>(&d, &z, &[]);
        d.zeroize();
        Some(signature.to_bytes().into())
    }
}

/// `04 || x || y` (SEC 1 §2.3.3), checked to be on the curve.
pub fn p256_key(x: &[u8; 32], y: &[u8; 32]) -> Option<p256::ecdsa::VerifyingKey> {
    let mut point = [0u8; 65];
    point[0] = 0x04;
    point[1..33].copy_from_slice(x);
    point[33..].copy_from_slice(y);
    p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).ok()
}

fn verify_es256(x: &[u8; 32], y: &[u8; 32], message: &[u8], der: &[u8]) -> bool {
    let Some(key) = p256_key(x, y) else {
        return false;
    };
    p256::ecdsa::Signature::from_der(der)
        .is_ok_and(|signature| key.verify(message, &signature).is_ok())
}

fn verify_ed25519(x: &[u8; 32], message: &[u8], signature: &[u8]) -> bool {
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(x) else {
        return false;
    };
    let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else {
        return false;
    };
    // Strict: no malleable signatures, no small-order key or R.
    key.verify_strict(message, &signature).is_ok()
}

/// What [`RustCrypto`] refuses and BoringSSL does not check, so a port on
/// BoringSSL calls this first and answers `false` where it does: RSA keys outside
/// [`RSA_BITS`] (or otherwise not [`rsa_key`]s), and Ed25519's strict rules (a
/// public key or `R` of small order or that does not decompress, a signature that
/// is not 64 bytes; BoringSSL checks only `S < L` and the equation).
pub fn boringssl_precheck(key: PublicKey<'_>, signature: &[u8]) -> bool {
    match key {
        PublicKey::P256 { .. } => true,
        PublicKey::Rsa { n, e } => rsa_key(n, e).is_some(),
        PublicKey::Ed25519(x) => {
            let strong = |point: &[u8; 32]| {
                ed25519_dalek::VerifyingKey::from_bytes(point).is_ok_and(|p| !p.is_weak())
            };
            let r = signature
                .get(..32)
                .and_then(|r| <[u8; 32]>::try_from(r).ok());
            signature.len() == 64 && strong(x) && r.is_some_and(|r| strong(&r))
        }
    }
}

/// An RSA public key of [`RSA_BITS`], from its big-endian modulus and exponent.
pub fn rsa_key(n: &[u8], e: &[u8]) -> Option<rsa::PublicKey> {
    rsa::PublicKey::new_with_size_limits(
        rsa::BoxedUint::from_be_slice_vartime(strip_leading_zeros(n)),
        rsa::BoxedUint::from_be_slice_vartime(strip_leading_zeros(e)),
        RSA_BITS,
    )
    .ok()
}

fn verify_pkcs1v15<D>(n: &[u8], e: &[u8], message: &[u8], signature: &[u8]) -> bool
where
    D: sha2::digest::Digest + sha2::digest::const_oid::AssociatedOid,
{
    let Some(key) = rsa_key(n, e) else {
        return false;
    };
    let Ok(signature) = rsa::pkcs1v15::Signature::try_from(signature) else {
        return false;
    };
    rsa::pkcs1v15::VerifyingKey::<D>::new(key)
        .verify(message, &signature)
        .is_ok()
}

/// Big-endian integers without their leading zero bytes.
pub fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}
