//! Attestation trust (WebAuthn §7.1 steps 23–24) for tenants that configure trust
//! anchors: the statement's certificate path (`x5c`: leaf first) must lead, each
//! certificate signed by the next and valid now, to one of the tenant's roots.
//!
//! Issuers sign with ECDSA P-256 (SHA-256 or SHA-384) or RSA PKCS#1 v1.5 (SHA-256,
//! SHA-384, SHA-512). A path through a P-384 key (Apple's root, for one) is refused
//! by name: this build does not verify P-384.

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use sha2::Digest;

use crate::der::{Certificate, PublicKey};
use crate::error::WebauthnError;

const ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
const RSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
const RSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
const RSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
/// Certificates in a path, leaf and root included: deeper than any vendor's.
const MAX_PATH: usize = 6;

fn untrusted(why: &'static str) -> WebauthnError {
    WebauthnError::AttestationNotTrusted(why)
}

/// The tenant's roots and the time to check validity at.
#[derive(Clone, Copy, Debug)]
pub struct TrustAnchors<'a> {
    /// DER certificates.
    pub roots: &'a [Vec<u8>],
    /// Unix seconds.
    pub now: u64,
}

/// Whether `issuer` signed `subject`.
fn signed_by(subject: &Certificate, issuer: &PublicKey) -> Result<(), WebauthnError> {
    let tbs = subject.tbs_der.as_slice();
    let sig = subject.signature.as_slice();
    let alg = subject.signature_algorithm.as_slice();
    let ok = match issuer {
        PublicKey::P256(key) => {
            let signature = p256::ecdsa::Signature::from_der(sig)
                .map_err(|_| untrusted("a certificate signature is not DER ECDSA"))?;
            let prehash = if alg == ECDSA_SHA256 {
                sha2::Sha256::digest(tbs).to_vec()
            } else if alg == ECDSA_SHA384 {
                sha2::Sha384::digest(tbs).to_vec()
            } else {
                return Err(untrusted(
                    "a certificate signature algorithm does not fit its issuer's key",
                ));
            };
            key.verify_prehash(&prehash, &signature).is_ok()
        }
        PublicKey::Rsa(key) => if alg == RSA_SHA256 {
            key.verify_pkcs1v15::<sha2::Sha256>(tbs, sig)
        } else if alg == RSA_SHA384 {
            key.verify_pkcs1v15::<sha2::Sha384>(tbs, sig)
        } else if alg == RSA_SHA512 {
            key.verify_pkcs1v15::<sha2::Sha512>(tbs, sig)
        } else {
            return Err(untrusted(
                "a certificate signature algorithm does not fit its issuer's key",
            ));
        }
        .is_ok(),
    };
    if ok {
        Ok(())
    } else {
        Err(untrusted("a certificate signature does not verify"))
    }
}

fn valid_at(cert: &Certificate, now: u64) -> Result<(), WebauthnError> {
    if cert.not_before <= now && now <= cert.not_after {
        Ok(())
    } else {
        Err(untrusted("a certificate is not valid now"))
    }
}

/// §7.1 step 24 for certificate-based statements: `path` (leaf first, as `x5c`)
/// chains to one of `anchors.roots`.
pub fn verify_path(path: &[&[u8]], anchors: &TrustAnchors<'_>) -> Result<(), WebauthnError> {
    if path.is_empty() {
        return Err(untrusted("the statement has no certificate"));
    }
    if path.len() >= MAX_PATH {
        return Err(untrusted("the certificate path is too long"));
    }
    let certs = path
        .iter()
        .map(|der| Certificate::parse(der))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, cert) in certs.iter().enumerate() {
        valid_at(cert, anchors.now)?;
        if let Some(issuer) = certs.get(i + 1) {
            if !issuer.is_ca || issuer.subject_der != cert.issuer {
                return Err(untrusted(
                    "a certificate is not issued by the next one in x5c",
                ));
            }
            signed_by(cert, &issuer.public_key)?;
        }
    }
    let (last, last_der) = certs
        .last()
        .zip(path.last())
        .ok_or(untrusted("the statement has no certificate"))?;
    for root_der in anchors.roots {
        // The path may end with the root itself, or with a certificate it signed.
        if root_der.as_slice() == *last_der {
            return Ok(());
        }
        let Ok(root) = Certificate::parse(root_der) else {
            continue;
        };
        if root.subject_der == last.issuer
            && valid_at(&root, anchors.now).is_ok()
            && signed_by(last, &root.public_key).is_ok()
        {
            return Ok(());
        }
    }
    Err(untrusted(
        "the certificate path leads to none of the tenant's roots",
    ))
}
