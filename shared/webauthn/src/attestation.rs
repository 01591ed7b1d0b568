//! Attestation objects (WebAuthn §6.5) and the statement formats we verify:
//! `none` (§8.7), `packed` (§8.2, self and x5c) and `fido-u2f` (§8.6).

use ciborium::Value;
use sha2::Digest;

use crate::authenticator_data::AuthenticatorData;
use crate::cbor;
use crate::cose;
use crate::der::{self, Certificate};
use crate::error::WebauthnError;

/// The attestation object as sent: format, statement, authenticator data bytes.
#[derive(Debug)]
pub struct AttestationObject {
    pub fmt: String,
    pub att_stmt: Value,
    pub auth_data: Vec<u8>,
}

/// What an attestation statement proves (§6.5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttestationType {
    None,
    /// Signed by the credential's own key.
    SelfAttestation,
    /// Signed by an attestation certificate (basic or via a CA: we do not hold
    /// trust anchors, so we do not claim which).
    Certificate,
    /// A certificate made for this credential by the vendor's anonymization CA
    /// (Apple, §8.8).
    AnonymizationCa,
}

fn malformed() -> WebauthnError {
    WebauthnError::AttestationObjectMalformed
}

impl AttestationObject {
    pub fn parse(bytes: &[u8]) -> Result<AttestationObject, WebauthnError> {
        let value = cbor::decode_exact(bytes)
            .map_err(|e| WebauthnError::Cbor("the attestation object", e))?;
        let map = value
            .into_map()
            .map_err(|_| WebauthnError::AttestationObjectMalformed)?;
        let mut fmt = None;
        let mut att_stmt = None;
        let mut auth_data = None;
        for (k, v) in map {
            match k.as_text() {
                // Keys are unique (cbor.rs); a value of the wrong type is malformed,
                // never skipped.
                Some("fmt") => fmt = Some(v.into_text().map_err(|_| malformed())?),
                Some("attStmt") => att_stmt = Some(v),
                Some("authData") => auth_data = Some(v.into_bytes().map_err(|_| malformed())?),
                _ => return Err(WebauthnError::AttestationObjectMalformed),
            }
        }
        match (fmt, att_stmt, auth_data) {
            (Some(fmt), Some(att_stmt), Some(auth_data)) if att_stmt.is_map() => {
                Ok(AttestationObject {
                    fmt,
                    att_stmt,
                    auth_data,
                })
            }
            _ => Err(WebauthnError::AttestationObjectMalformed),
        }
    }

    /// The statement's certificate path (`x5c`, leaf first), for trust decisions;
    /// empty when it has none.
    pub fn trust_path(&self) -> Vec<&[u8]> {
        Statement::from(&self.att_stmt)
            .ok()
            .and_then(|s| s.x5c)
            .unwrap_or_default()
    }

    /// §7.1 steps 21–22: verifies the statement over `authData || clientDataHash`.
    pub fn verify(
        &self,
        crypto: &dyn edge_mfa_crypto::Crypto,
        auth_data: &AuthenticatorData<'_>,
        client_data_hash: &[u8; 32],
    ) -> Result<AttestationType, WebauthnError> {
        let credential = auth_data
            .attested_credential_data
            .as_ref()
            .ok_or(WebauthnError::NoAttestedCredential)?;
        let stmt = Statement::from(&self.att_stmt)?;
        let mut signed = Vec::with_capacity(auth_data.raw.len() + 32);
        signed.extend_from_slice(auth_data.raw);
        signed.extend_from_slice(client_data_hash);
        match self.fmt.as_str() {
            "none" => {
                if !stmt.is_empty {
                    return Err(WebauthnError::Attestation("none has an empty statement"));
                }
                Ok(AttestationType::None)
            }
            "packed" => {
                let alg = stmt
                    .alg
                    .ok_or(WebauthnError::Attestation("packed needs alg"))?;
                let sig = stmt
                    .sig
                    .ok_or(WebauthnError::Attestation("packed needs sig"))?;
                match stmt.x5c.as_deref() {
                    Some([leaf, ..]) => {
                        let cert = Certificate::parse(leaf)?;
                        check_packed_certificate(&cert, &credential.aaguid)?;
                        cert.public_key.verify(
                            crypto,
                            alg,
                            &signed,
                            sig,
                            false,
                            "packed x5c signature does not verify",
                        )?;
                        Ok(AttestationType::Certificate)
                    }
                    Some([]) => Err(WebauthnError::Attestation("x5c is empty")),
                    None => {
                        // Self attestation: same algorithm as the credential, signed by it.
                        if alg != credential.credential_public_key.algorithm() {
                            return Err(WebauthnError::Attestation(
                                "self attestation alg differs from the key's",
                            ));
                        }
                        credential
                            .credential_public_key
                            .verify(crypto, &signed, sig)
                            .map_err(|_| {
                                WebauthnError::Attestation(
                                    "self attestation signature does not verify",
                                )
                            })?;
                        Ok(AttestationType::SelfAttestation)
                    }
                }
            }
            "fido-u2f" => {
                let sig = stmt
                    .sig
                    .ok_or(WebauthnError::Attestation("fido-u2f needs sig"))?;
                let [cert] = stmt.x5c.as_deref().unwrap_or_default() else {
                    return Err(WebauthnError::Attestation(
                        "fido-u2f needs exactly one certificate",
                    ));
                };
                let cert = Certificate::parse(cert)?;
                // §8.6 step 3: the credential key is a P-256 point (U2F knows nothing else).
                let public_key_u2f = credential.credential_public_key.sec1_uncompressed().ok_or(
                    WebauthnError::Attestation("fido-u2f needs an ES256 credential key"),
                )?;
                // §8.6 asks nothing of the flags, counter or AAGUID: CTAP2
                // authenticators may answer with this format too, and then carry an
                // AAGUID and a counter. (The statement covers none of them, as `none`
                // covers nothing.)
                // verificationData = 0x00 || rpIdHash || clientDataHash || credentialId || publicKeyU2F
                let mut data = vec![0u8];
                data.extend_from_slice(&auth_data.rp_id_hash);
                data.extend_from_slice(client_data_hash);
                data.extend_from_slice(credential.credential_id);
                data.extend_from_slice(&public_key_u2f);
                let der::PublicKey::P256(cert_key) = &cert.public_key else {
                    return Err(WebauthnError::Attestation(
                        "fido-u2f certificate key is not P-256",
                    ));
                };
                cose::verify_es256(crypto, cert_key, &data, sig).map_err(|_| {
                    WebauthnError::Attestation("fido-u2f signature does not verify")
                })?;
                Ok(AttestationType::Certificate)
            }
            "tpm" => {
                crate::tpm::verify(
                    crypto,
                    &crate::tpm::TpmStatement {
                        ver: stmt.ver,
                        alg: stmt.alg,
                        sig: stmt.sig,
                        x5c: stmt.x5c.as_deref(),
                        cert_info: stmt.cert_info,
                        pub_area: stmt.pub_area,
                    },
                    &signed,
                    &credential.credential_public_key,
                    &credential.aaguid,
                )?;
                Ok(AttestationType::Certificate)
            }
            "android-key" => {
                // §8.4: alg, sig, x5c; the leaf signed authData || clientDataHash.
                let alg = stmt
                    .alg
                    .ok_or(WebauthnError::Attestation("android-key needs alg"))?;
                let sig = stmt
                    .sig
                    .ok_or(WebauthnError::Attestation("android-key needs sig"))?;
                let [leaf, ..] = stmt.x5c.as_deref().unwrap_or_default() else {
                    return Err(WebauthnError::Attestation("android-key needs x5c"));
                };
                let cert = Certificate::parse(leaf)?;
                cert.public_key.verify(
                    crypto,
                    alg,
                    &signed,
                    sig,
                    false,
                    "android-key signature does not verify",
                )?;
                crate::android_key::verify(
                    &cert,
                    &credential.credential_public_key,
                    client_data_hash,
                )?;
                Ok(AttestationType::Certificate)
            }
            "apple" => {
                // §8.8 Apple Anonymous Attestation.
                let [leaf, ..] = stmt.x5c.as_deref().unwrap_or_default() else {
                    return Err(WebauthnError::Attestation("apple needs x5c"));
                };
                let cert = Certificate::parse(leaf)?;
                // Steps 2-3: nonce = SHA-256(authenticatorData || clientDataHash) is the
                // value of the certificate's 1.2.840.113635.100.8.2 extension.
                let nonce: [u8; 32] = sha2::Sha256::digest(&signed).into();
                if cert.apple_nonce != Some(nonce) {
                    return Err(WebauthnError::Attestation(
                        "apple nonce does not match authenticatorData and clientDataHash",
                    ));
                }
                // Step 4: the credential public key is the certificate's.
                if !cert.public_key.is(&credential.credential_public_key) {
                    return Err(WebauthnError::Attestation(
                        "apple certificate key is not the credential key",
                    ));
                }
                Ok(AttestationType::AnonymizationCa)
            }
            other => Err(WebauthnError::UnsupportedAttestationFormat(
                other.to_string(),
            )),
        }
    }
}

/// §8.2.1 "Certificate Requirements for Packed Attestation Statements".
fn check_packed_certificate(cert: &Certificate, aaguid: &[u8; 16]) -> Result<(), WebauthnError> {
    if cert.version != 2 {
        return Err(WebauthnError::Attestation(
            "attestation certificate is not X.509 v3",
        ));
    }
    for oid in [
        der::OID_COUNTRY,
        der::OID_ORGANIZATION,
        der::OID_COMMON_NAME,
    ] {
        if cert.subject_value(oid).is_none_or(<[u8]>::is_empty) {
            return Err(WebauthnError::Attestation(
                "attestation certificate subject lacks C, O or CN",
            ));
        }
    }
    if cert.subject_value(der::OID_ORGANIZATIONAL_UNIT)
        != Some(b"Authenticator Attestation".as_slice())
    {
        return Err(WebauthnError::Attestation(
            "attestation certificate OU is not \"Authenticator Attestation\"",
        ));
    }
    if cert.is_ca {
        return Err(WebauthnError::Attestation(
            "attestation certificate is a CA",
        ));
    }
    if cert.aaguid.is_some_and(|a| a != *aaguid) {
        return Err(WebauthnError::Attestation(
            "attestation certificate AAGUID differs from authenticator data",
        ));
    }
    Ok(())
}

/// The members of an attestation statement map that the formats use.
struct Statement<'a> {
    alg: Option<i64>,
    sig: Option<&'a [u8]>,
    x5c: Option<Vec<&'a [u8]>>,
    is_empty: bool,
    /// tpm only.
    ver: Option<&'a str>,
    cert_info: Option<&'a [u8]>,
    pub_area: Option<&'a [u8]>,
}

impl<'a> Statement<'a> {
    fn from(value: &'a Value) -> Result<Statement<'a>, WebauthnError> {
        let map = value
            .as_map()
            .ok_or(WebauthnError::AttestationObjectMalformed)?;
        let mut stmt = Statement {
            alg: None,
            sig: None,
            x5c: None,
            is_empty: map.is_empty(),
            ver: None,
            cert_info: None,
            pub_area: None,
        };
        for (k, v) in map {
            match k.as_text() {
                Some("alg") => {
                    let alg = v.as_integer().and_then(|i| i64::try_from(i).ok());
                    stmt.alg =
                        Some(alg.ok_or(WebauthnError::Attestation("alg is not an integer"))?);
                }
                Some("sig") => {
                    stmt.sig = Some(
                        v.as_bytes()
                            .ok_or(WebauthnError::Attestation("sig is not bytes"))?,
                    )
                }
                Some("x5c") => {
                    let certs = v
                        .as_array()
                        .ok_or(WebauthnError::Attestation("x5c is not an array"))?;
                    let certs: Option<Vec<&[u8]>> = certs
                        .iter()
                        .map(|c| c.as_bytes().map(Vec::as_slice))
                        .collect();
                    stmt.x5c = Some(
                        certs.ok_or(WebauthnError::Attestation("x5c holds a non-bytes item"))?,
                    );
                }
                Some("ver") => {
                    stmt.ver = Some(
                        v.as_text()
                            .ok_or(WebauthnError::Attestation("ver is not text"))?,
                    )
                }
                Some("certInfo") => {
                    stmt.cert_info = Some(
                        v.as_bytes()
                            .ok_or(WebauthnError::Attestation("certInfo is not bytes"))?,
                    )
                }
                Some("pubArea") => {
                    stmt.pub_area = Some(
                        v.as_bytes()
                            .ok_or(WebauthnError::Attestation("pubArea is not bytes"))?,
                    )
                }
                _ => {}
            }
        }
        Ok(stmt)
    }
}
