//! COSE_Key (RFC 9052 §7, RFC 9053) for credential public keys, and the one
//! signature algorithm this build verifies: ES256 (ECDSA P-256 with SHA-256, DER
//! signatures as WebAuthn §6.5.5 sends them).

use ciborium::Value;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};

use crate::error::WebauthnError;

/// COSE algorithm identifiers (IANA "COSE Algorithms").
pub const ES256: i64 = -7;
pub const EDDSA: i64 = -8;
pub const RS256: i64 = -257;

/// The algorithms this build can verify.
pub const SUPPORTED_ALGORITHMS: &[i64] = &[ES256];

// COSE_Key labels and values (RFC 9052 §7.1, RFC 9053 §7.1.1).
const KTY: i64 = 1;
const ALG: i64 = 3;
const CRV: i64 = -1;
const X: i64 = -2;
const Y: i64 = -3;
const KTY_EC2: i64 = 2;
const CRV_P256: i64 = 1;

/// A parsed credential public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoseKey {
    /// EC2 key on P-256 for ES256.
    Es256(VerifyingKey),
}

impl CoseKey {
    pub fn algorithm(&self) -> i64 {
        match self {
            CoseKey::Es256(_) => ES256,
        }
    }

    /// Parses a COSE_Key from its CBOR value.
    pub fn from_cbor(value: &Value) -> Result<CoseKey, WebauthnError> {
        let map = value
            .as_map()
            .ok_or(WebauthnError::CoseKey("not a CBOR map"))?;
        let mut kty = None;
        let mut alg = None;
        let mut crv = None;
        let mut x = None;
        let mut y = None;
        for (label, v) in map {
            let Some(label) = int(label) else { continue };
            let slot = match label {
                KTY => &mut kty,
                ALG => &mut alg,
                CRV => &mut crv,
                X => &mut x,
                Y => &mut y,
                _ => continue,
            };
            if slot.is_some() {
                return Err(WebauthnError::CoseKey("duplicate label"));
            }
            *slot = Some(v);
        }
        let alg = alg
            .and_then(int)
            .ok_or(WebauthnError::CoseKey("alg missing"))?;
        let kty = kty
            .and_then(int)
            .ok_or(WebauthnError::CoseKey("kty missing"))?;
        match (kty, alg) {
            (KTY_EC2, ES256) => {
                if crv.and_then(int) != Some(CRV_P256) {
                    return Err(WebauthnError::CoseKey("ES256 needs crv P-256"));
                }
                let x = x
                    .and_then(Value::as_bytes)
                    .ok_or(WebauthnError::CoseKey("x missing"))?;
                let y = y
                    .and_then(Value::as_bytes)
                    .ok_or(WebauthnError::CoseKey("y missing"))?;
                Ok(CoseKey::Es256(ec2_point(x, y)?))
            }
            (KTY_EC2, _) => Err(WebauthnError::AlgorithmNotAllowed(alg)),
            (_, ES256) => Err(WebauthnError::CoseKey("ES256 needs an EC2 key")),
            _ => Err(WebauthnError::AlgorithmNotAllowed(alg)),
        }
    }

    /// Parses a COSE_Key from CBOR bytes, as stored.
    pub fn from_bytes(bytes: &[u8]) -> Result<CoseKey, WebauthnError> {
        let value = crate::cbor::decode_exact(bytes)
            .map_err(|e| WebauthnError::Cbor("the stored credential public key", e))?;
        CoseKey::from_cbor(&value)
    }

    /// Verifies a DER-encoded signature over `message`.
    pub fn verify(&self, message: &[u8], der_signature: &[u8]) -> Result<(), WebauthnError> {
        match self {
            CoseKey::Es256(key) => verify_es256(key, message, der_signature),
        }
    }

    /// The uncompressed SEC1 point `04 || x || y` (for fido-u2f's verification data).
    pub fn sec1_uncompressed(&self) -> Vec<u8> {
        match self {
            CoseKey::Es256(key) => key.to_sec1_point(false).as_bytes().to_vec(),
        }
    }
}

pub(crate) fn ec2_point(x: &[u8], y: &[u8]) -> Result<VerifyingKey, WebauthnError> {
    if x.len() != 32 || y.len() != 32 {
        return Err(WebauthnError::CoseKey("P-256 coordinates are 32 bytes"));
    }
    let mut point = Vec::with_capacity(65);
    point.push(0x04);
    point.extend_from_slice(x);
    point.extend_from_slice(y);
    VerifyingKey::from_sec1_bytes(&point)
        .map_err(|_| WebauthnError::CoseKey("not a point on P-256"))
}

/// ES256 over `message`: SHA-256 then ECDSA, signature in ASN.1 DER (r and s may be
/// shorter than 32 bytes: DER integers are minimal).
pub(crate) fn verify_es256(
    key: &VerifyingKey,
    message: &[u8],
    der_signature: &[u8],
) -> Result<(), WebauthnError> {
    let signature = Signature::from_der(der_signature).map_err(|_| WebauthnError::Signature)?;
    key.verify(message, &signature)
        .map_err(|_| WebauthnError::Signature)
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
        let okp = key(vec![
            (1, V::Integer(1.into())),
            (3, V::Integer((-8).into())),
            (-1, V::Integer(6.into())),
            (-2, V::Bytes(vec![0; 32])),
        ]);
        assert_eq!(
            CoseKey::from_cbor(&okp),
            Err(WebauthnError::AlgorithmNotAllowed(-8))
        );
        assert!(CoseKey::from_cbor(&V::Array(vec![])).is_err());
        let dup = key(vec![
            (1, V::Integer(2.into())),
            (1, V::Integer(2.into())),
            (3, V::Integer((-7).into())),
        ]);
        assert_eq!(
            CoseKey::from_cbor(&dup),
            Err(WebauthnError::CoseKey("duplicate label"))
        );
    }
}
