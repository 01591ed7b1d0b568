//! COSE_Key (RFC 9052 §7, RFC 9053, RFC 8230) for credential public keys, and the
//! signature algorithms this build verifies — the three that WebAuthn peers offer
//! by default and users' devices create:
//!
//! | alg | name | key | signature (WebAuthn §6.5.5) |
//! |---|---|---|---|
//! | −7 | ES256: ECDSA P-256, SHA-256 | EC2, crv 1 | ASN.1 DER |
//! | −8 | EdDSA: Ed25519 | OKP, crv 6 | 64 bytes (RFC 8032) |
//! | −257 | RS256: RSASSA-PKCS1-v1_5, SHA-256 (Windows Hello) | RSA | as long as the modulus |

use ciborium::Value;
use edge_mfa_crypto::{Algorithm, Crypto, PublicKey, strip_leading_zeros};
use p256::ecdsa::VerifyingKey;
use p256::ecdsa::signature::Verifier;

use crate::error::WebauthnError;

/// COSE algorithm identifiers (IANA "COSE Algorithms").
pub const ES256: i64 = -7;
pub const EDDSA: i64 = -8;
pub const RS256: i64 = -257;
/// RSASSA-PKCS1-v1_5 with SHA-1: only for TPM attestation statements, which older
/// TPMs sign with it (WebAuthn §8.3); never for credential keys.
pub const RS1: i64 = -65535;

/// The algorithms this build can verify, in the order peers offer them.
pub const SUPPORTED_ALGORITHMS: &[i64] = &[EDDSA, ES256, RS256];

// COSE_Key labels and values (RFC 9052 §7.1, RFC 9053 §7.1.1 and §7.2, RFC 8230 §4).
const KTY: i64 = 1;
const ALG: i64 = 3;
/// EC2/OKP: crv. RSA: n.
const MINUS_1: i64 = -1;
/// EC2/OKP: x. RSA: e.
const MINUS_2: i64 = -2;
/// EC2: y.
const MINUS_3: i64 = -3;
const KTY_OKP: i64 = 1;
const KTY_EC2: i64 = 2;
const KTY_RSA: i64 = 3;
const CRV_P256: i64 = 1;
const CRV_ED25519: i64 = 6;

/// A parsed credential public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoseKey {
    /// EC2 key on P-256 for ES256.
    Es256(VerifyingKey),
    /// OKP key on Ed25519 for EdDSA.
    EdDsa(ed25519_dalek::VerifyingKey),
    /// RSA key for RS256.
    Rs256(RsaKey),
}

/// An RSA public key, with its modulus and exponent as received (big-endian).
#[derive(Clone, Debug)]
pub struct RsaKey {
    key: rsa::PublicKey,
    n: Vec<u8>,
    e: Vec<u8>,
}

impl PartialEq for RsaKey {
    fn eq(&self, other: &RsaKey) -> bool {
        self.n == other.n && self.e == other.e
    }
}

impl Eq for RsaKey {}

impl RsaKey {
    /// From the big-endian modulus and exponent; `None` unless it is a valid RSA
    /// public key of [`edge_mfa_crypto::RSA_BITS`] (2048–4096 bits).
    pub fn new(n: &[u8], e: &[u8]) -> Option<RsaKey> {
        let key = edge_mfa_crypto::rsa_key(n, e)?;
        Some(RsaKey {
            key,
            n: strip_leading_zeros(n).to_vec(),
            e: strip_leading_zeros(e).to_vec(),
        })
    }

    /// RSASSA-PKCS1-v1_5 with the digest `D` (RFC 8017 §8.2.2), in Rust: for
    /// certificate paths (chain.rs), whose digests the port does not name.
    pub(crate) fn verify_pkcs1v15<D>(
        &self,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), WebauthnError>
    where
        D: sha2::digest::Digest + sha2::digest::const_oid::AssociatedOid,
    {
        let verifier = rsa::pkcs1v15::VerifyingKey::<D>::new(self.key.clone());
        let signature =
            rsa::pkcs1v15::Signature::try_from(signature).map_err(|_| WebauthnError::Signature)?;
        verifier
            .verify(message, &signature)
            .map_err(|_| WebauthnError::Signature)
    }

    /// The modulus and exponent, big-endian without leading zeros.
    pub fn n_e(&self) -> (&[u8], &[u8]) {
        (&self.n, &self.e)
    }

    /// The key as the signature port takes it.
    pub fn port_key(&self) -> PublicKey<'_> {
        PublicKey::Rsa {
            n: &self.n,
            e: &self.e,
        }
    }
}

impl CoseKey {
    pub fn algorithm(&self) -> i64 {
        match self {
            CoseKey::Es256(_) => ES256,
            CoseKey::EdDsa(_) => EDDSA,
            CoseKey::Rs256(_) => RS256,
        }
    }

    /// Parses a COSE_Key from its CBOR value. Labels are unique (cbor.rs); labels
    /// this build does not use are ignored (RFC 9052 §7).
    pub fn from_cbor(value: &Value) -> Result<CoseKey, WebauthnError> {
        let map = value
            .as_map()
            .ok_or(WebauthnError::CoseKey("not a CBOR map"))?;
        let label = |wanted: i64| {
            map.iter()
                .find(|(k, _)| int(k) == Some(wanted))
                .map(|(_, v)| v)
        };
        let bytes = |wanted: i64, what: &'static str| {
            label(wanted)
                .and_then(Value::as_bytes)
                .ok_or(WebauthnError::CoseKey(what))
        };
        let alg = label(ALG)
            .and_then(int)
            .ok_or(WebauthnError::CoseKey("alg missing"))?;
        let kty = label(KTY)
            .and_then(int)
            .ok_or(WebauthnError::CoseKey("kty missing"))?;
        let crv = label(MINUS_1).and_then(int);
        match (kty, alg) {
            (KTY_EC2, ES256) => {
                if crv != Some(CRV_P256) {
                    return Err(WebauthnError::CoseKey("ES256 needs crv P-256"));
                }
                let x = bytes(MINUS_2, "x missing")?;
                let y = bytes(MINUS_3, "y missing")?;
                Ok(CoseKey::Es256(ec2_point(x, y)?))
            }
            (KTY_OKP, EDDSA) => {
                if crv != Some(CRV_ED25519) {
                    return Err(WebauthnError::CoseKey("EdDSA needs crv Ed25519"));
                }
                let x: [u8; 32] = bytes(MINUS_2, "x missing")?
                    .as_slice()
                    .try_into()
                    .map_err(|_| WebauthnError::CoseKey("Ed25519 keys are 32 bytes"))?;
                let key = ed25519_dalek::VerifyingKey::from_bytes(&x)
                    .map_err(|_| WebauthnError::CoseKey("not an Ed25519 point"))?;
                if key.is_weak() {
                    return Err(WebauthnError::CoseKey("a small-order Ed25519 key"));
                }
                Ok(CoseKey::EdDsa(key))
            }
            (KTY_RSA, RS256) => {
                let n = bytes(MINUS_1, "n missing")?;
                let e = bytes(MINUS_2, "e missing")?;
                RsaKey::new(n, e)
                    .map(CoseKey::Rs256)
                    .ok_or(WebauthnError::CoseKey("not an RSA key of 2048-4096 bits"))
            }
            (_, ES256) => Err(WebauthnError::CoseKey("ES256 needs an EC2 key")),
            (_, EDDSA) => Err(WebauthnError::CoseKey("EdDSA needs an OKP key")),
            (_, RS256) => Err(WebauthnError::CoseKey("RS256 needs an RSA key")),
            _ => Err(WebauthnError::AlgorithmNotAllowed(alg)),
        }
    }

    /// Parses a COSE_Key from CBOR bytes, as stored.
    pub fn from_bytes(bytes: &[u8]) -> Result<CoseKey, WebauthnError> {
        let value = crate::cbor::decode_exact(bytes)
            .map_err(|e| WebauthnError::Cbor("the stored credential public key", e))?;
        CoseKey::from_cbor(&value)
    }

    /// Verifies `signature`, in its algorithm's WebAuthn encoding (§6.5.5), over
    /// `message`, through the signature port (EdDSA strictly: no malleable
    /// signatures, no small-order components).
    pub fn verify(
        &self,
        crypto: &dyn Crypto,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), WebauthnError> {
        let valid = match self {
            CoseKey::Es256(key) => return verify_es256(crypto, key, message, signature),
            CoseKey::EdDsa(key) => crypto.verify(
                Algorithm::EdDsa,
                PublicKey::Ed25519(key.as_bytes()),
                message,
                signature,
            ),
            CoseKey::Rs256(key) => {
                crypto.verify(Algorithm::Rs256, key.port_key(), message, signature)
            }
        };
        if valid {
            Ok(())
        } else {
            Err(WebauthnError::Signature)
        }
    }

    /// The uncompressed SEC1 point `04 || x || y` (for fido-u2f's verification
    /// data); `None` for keys that are not on P-256.
    pub fn sec1_uncompressed(&self) -> Option<Vec<u8>> {
        match self {
            CoseKey::Es256(key) => Some(key.to_sec1_point(false).as_bytes().to_vec()),
            CoseKey::EdDsa(_) | CoseKey::Rs256(_) => None,
        }
    }
}

pub(crate) fn ec2_point(x: &[u8], y: &[u8]) -> Result<VerifyingKey, WebauthnError> {
    let (Ok(x), Ok(y)) = (<&[u8; 32]>::try_from(x), <&[u8; 32]>::try_from(y)) else {
        return Err(WebauthnError::CoseKey("P-256 coordinates are 32 bytes"));
    };
    edge_mfa_crypto::p256_key(x, y).ok_or(WebauthnError::CoseKey("not a point on P-256"))
}

/// ES256 over `message` through the signature port: SHA-256 then ECDSA, signature
/// in ASN.1 DER (r and s may be shorter than 32 bytes: DER integers are minimal).
pub(crate) fn verify_es256(
    crypto: &dyn Crypto,
    key: &VerifyingKey,
    message: &[u8],
    der_signature: &[u8],
) -> Result<(), WebauthnError> {
    let point = key.to_sec1_point(false);
    let (Some(x), Some(y)) = (
        point
            .x()
            .map(|x| x.as_slice())
            .and_then(|x| x.try_into().ok()),
        point
            .y()
            .map(|y| y.as_slice())
            .and_then(|y| y.try_into().ok()),
    ) else {
        return Err(WebauthnError::Signature);
    };
    if crypto.verify(
        Algorithm::Es256,
        PublicKey::P256 { x, y },
        message,
        der_signature,
    ) {
        Ok(())
    } else {
        Err(WebauthnError::Signature)
    }
}

fn int(value: &Value) -> Option<i64> {
    value.as_integer().and_then(|i| i64::try_from(i).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ciborium::Value as V;

    fn key(entries: Vec<(i64, V)>) -> V {
        V::Map(
            entries
                .into_iter()
                .map(|(k, v)| (V::Integer(k.into()), v))
                .collect(),
        )
    }

    fn p256_xy() -> (Vec<u8>, Vec<u8>) {
        let sk = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
        let point = sk.verifying_key().to_sec1_point(false);
        (point.x().unwrap().to_vec(), point.y().unwrap().to_vec())
    }

    #[test]
    fn parses_ec2_p256() {
        let (x, y) = p256_xy();
        let k = key(vec![
            (1, V::Integer(2.into())),
            (3, V::Integer((-7).into())),
            (-1, V::Integer(1.into())),
            (-2, V::Bytes(x)),
            (-3, V::Bytes(y)),
        ]);
        assert_eq!(CoseKey::from_cbor(&k).unwrap().algorithm(), ES256);
    }

    #[test]
    fn refuses_bad_keys() {
        let (x, y) = p256_xy();
        let base = |alg: i64, crv: i64, x: Vec<u8>, y: Vec<u8>| {
            key(vec![
                (1, V::Integer(2.into())),
                (3, V::Integer(alg.into())),
                (-1, V::Integer(crv.into())),
                (-2, V::Bytes(x)),
                (-3, V::Bytes(y)),
            ])
        };
        assert_eq!(
            CoseKey::from_cbor(&base(-35, 2, x.clone(), y.clone())),
            Err(WebauthnError::AlgorithmNotAllowed(-35))
        );
        assert!(
            CoseKey::from_cbor(&base(-7, 2, x.clone(), y.clone())).is_err(),
            "P-384 curve id with ES256"
        );
        assert!(
            CoseKey::from_cbor(&base(-7, 1, x[..31].to_vec(), y.clone())).is_err(),
            "short x"
        );
        let mut off = y.clone();
        off[31] ^= 1;
        assert!(
            CoseKey::from_cbor(&base(-7, 1, x.clone(), off)).is_err(),
            "not on the curve"
        );
        // The identity point is a small-order Ed25519 key.
        let mut identity = vec![0u8; 32];
        identity[0] = 1;
        let okp = key(vec![
            (1, V::Integer(1.into())),
            (3, V::Integer((-8).into())),
            (-1, V::Integer(6.into())),
            (-2, V::Bytes(identity)),
        ]);
        assert_eq!(
            CoseKey::from_cbor(&okp),
            Err(WebauthnError::CoseKey("a small-order Ed25519 key"))
        );
        let ec2_for_eddsa = base(-8, 6, x.clone(), y.clone());
        assert_eq!(
            CoseKey::from_cbor(&ec2_for_eddsa),
            Err(WebauthnError::CoseKey("EdDSA needs an OKP key"))
        );
        let short_rsa = key(vec![
            (1, V::Integer(3.into())),
            (3, V::Integer((-257).into())),
            (-1, V::Bytes(vec![0xC5; 128])),
            (-2, V::Bytes(vec![1, 0, 1])),
        ]);
        assert_eq!(
            CoseKey::from_cbor(&short_rsa),
            Err(WebauthnError::CoseKey("not an RSA key of 2048-4096 bits"))
        );
        assert!(CoseKey::from_cbor(&V::Array(vec![])).is_err());
    }
}
