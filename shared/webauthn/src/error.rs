//! One variant per check of WebAuthn Level 3 §7.1 and §7.2, so every refusal says
//! which step failed (and every step has a test that makes it fail).

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebauthnError {
    /// A base64url field of the response JSON does not decode.
    Base64(&'static str),
    /// `id` and `rawId` differ, or `type` is not `public-key`.
    CredentialJson(&'static str),
    /// §7.1 step 5–6 / §7.2 step 9–10: clientDataJSON is not UTF-8 JSON of the right shape.
    ClientDataMalformed,
    /// §7.1 step 7 / §7.2 step 11: `type` is not `webauthn.create` / `webauthn.get`.
    ClientDataType,
    /// §7.1 step 8 / §7.2 step 12: the challenge is not the one we issued.
    Challenge,
    /// §7.1 step 9 / §7.2 step 13: the origin is not one of the tenant's origins.
    Origin,
    /// §7.1 step 10 / §7.2 step 14: created or used inside a cross-origin iframe.
    CrossOrigin,
    /// §7.1 step 12: the attestation object is not the CBOR map of §6.5.
    AttestationObjectMalformed,
    /// A CBOR item (named) is not strict CBOR: not well-formed, a map key twice, or
    /// too large (`cbor.rs`).
    Cbor(&'static str, crate::cbor::CborError),
    /// §6.1: authenticator data too short, bad lengths, or trailing bytes.
    AuthenticatorDataMalformed(&'static str),
    /// §7.1 step 13 / §7.2 step 15: rpIdHash is not SHA-256 of our RP ID.
    RpIdHash,
    /// §7.1 step 14 / §7.2 step 16: UP is not set.
    UserNotPresent,
    /// §7.1 step 15 / §7.2 step 17: UV is required and not set.
    UserNotVerified,
    /// §7.1 step 16 / §7.2 step 18: BS set without BE.
    BackupStateWithoutEligibility,
    /// §7.2 step 19: BE differs from the value at registration.
    BackupEligibilityChanged,
    /// Registration without attested credential data (AT flag).
    NoAttestedCredential,
    /// §6.5.1.2: the COSE_Key is malformed or not a supported key type.
    CoseKey(&'static str),
    /// §7.1 step 19: the key's algorithm is not one of those offered.
    AlgorithmNotAllowed(i64),
    /// §7.1 step 21: an attestation format we do not verify.
    UnsupportedAttestationFormat(String),
    /// §7.1 step 22: the attestation statement does not verify.
    Attestation(&'static str),
    /// §7.1 step 24: the tenant trusts only certain roots, and this attestation
    /// does not lead to one of them.
    AttestationNotTrusted(&'static str),
    /// §7.1 step 25: credential ids are at most 1023 bytes.
    CredentialIdTooLong,
    /// A credential id of zero bytes names no credential.
    CredentialIdTooShort,
    /// §7.1 step 26: the credential is already registered.
    CredentialAlreadyRegistered,
    /// The credential id in authenticator data is not the one in `rawId`.
    CredentialIdMismatch,
    /// §7.2 step 5: not one of `allowCredentials`.
    CredentialNotAllowed,
    /// §7.2 step 6: not a credential of this user.
    UnknownCredential,
    /// §7.2 step 6: `userHandle` is not this user's handle.
    UserHandleMismatch,
    /// §7.2 step 22 (and attestation): the signature does not verify or is not DER.
    Signature,
    /// §7.2 step 23: the signature counter did not increase: a possible clone.
    SignCountRegression { stored: u32, received: u32 },
}

impl WebauthnError {
    /// The spec step, for messages and the docs' table.
    pub fn describe(&self) -> String {
        match self {
            WebauthnError::Base64(field) => format!("{field} is not unpadded base64url"),
            WebauthnError::CredentialJson(what) => format!("credential: {what}"),
            WebauthnError::ClientDataMalformed => "clientDataJSON is not valid client data".into(),
            WebauthnError::Cbor(item, why) => format!("{item} {}", why.describe()),
            WebauthnError::ClientDataType => {
                "clientDataJSON.type is not the expected ceremony".into()
            }
            WebauthnError::Challenge => "the challenge does not match".into(),
            WebauthnError::Origin => "the origin is not one of the tenant's origins".into(),
            WebauthnError::CrossOrigin => "cross-origin ceremonies are not accepted".into(),
            WebauthnError::AttestationObjectMalformed => {
                "attestationObject is not a valid attestation object".into()
            }
            WebauthnError::AuthenticatorDataMalformed(why) => {
                format!("authenticatorData is malformed: {why}")
            }
            WebauthnError::RpIdHash => "rpIdHash does not match the RP ID".into(),
            WebauthnError::UserNotPresent => "the user-present flag is not set".into(),
            WebauthnError::UserNotVerified => {
                "user verification is required but was not performed".into()
            }
            WebauthnError::BackupStateWithoutEligibility => {
                "backup state is set without backup eligibility".into()
            }
            WebauthnError::BackupEligibilityChanged => {
                "backup eligibility changed since registration".into()
            }
            WebauthnError::NoAttestedCredential => {
                "authenticator data has no attested credential".into()
            }
            WebauthnError::CoseKey(why) => format!("credential public key: {why}"),
            WebauthnError::AlgorithmNotAllowed(alg) => format!("algorithm {alg} was not offered"),
            WebauthnError::UnsupportedAttestationFormat(fmt) => {
                format!("attestation format {fmt:?} is not supported")
            }
            WebauthnError::Attestation(why) => format!("attestation statement: {why}"),
            WebauthnError::AttestationNotTrusted(why) => format!("attestation not trusted: {why}"),
            WebauthnError::CredentialIdTooLong => "credential id is longer than 1023 bytes".into(),
            WebauthnError::CredentialIdTooShort => "credential id is empty".into(),
            WebauthnError::CredentialAlreadyRegistered => {
                "this credential is already registered".into()
            }
            WebauthnError::CredentialIdMismatch => {
                "the credential id does not match the authenticator data".into()
            }
            WebauthnError::CredentialNotAllowed => {
                "the credential is not one of those allowed".into()
            }
            WebauthnError::UnknownCredential => {
                "the credential is not registered for this user".into()
            }
            WebauthnError::UserHandleMismatch => "the user handle does not match this user".into(),
            WebauthnError::Signature => "the signature does not verify".into(),
            WebauthnError::SignCountRegression { .. } => {
                "the signature counter did not increase; the authenticator may be cloned".into()
            }
        }
    }
}

impl fmt::Display for WebauthnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl std::error::Error for WebauthnError {}
