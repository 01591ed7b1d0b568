//! Registering a new credential: WebAuthn Level 3 §7.1, step by step.

use sha2::{Digest, Sha256};

use crate::attestation::{AttestationObject, AttestationType};
use crate::authenticator_data::AuthenticatorData;
use crate::client_data::{Ceremony, CollectedClientData};
use crate::error::WebauthnError;
use crate::flags::Flags;
use crate::json::{RegistrationResponseJson, b64url, credential_id, from_b64url};

/// What the relying party expects of this registration ceremony.
#[derive(Debug)]
pub struct RegistrationCeremony<'a> {
    /// The challenge we issued (and hold server-side).
    pub challenge: &'a [u8],
    pub rp_id: &'a str,
    /// The tenant's origins; the client data's origin must equal one exactly.
    pub origins: &'a [String],
    pub user_verification_required: bool,
    /// The `alg`s of `pubKeyCredParams` we offered.
    pub algorithms: &'a [i64],
    /// Credential ids this user already has (§7.1 step 26, within the user).
    pub existing: &'a [Vec<u8>],
    /// The tenant's trust anchors, if it configured any (§7.1 steps 23–24): then
    /// only a statement whose certificate path leads to one of them registers.
    pub trust_anchors: Option<crate::chain::TrustAnchors<'a>>,
}

/// The credential record to store (§7.1 step 27).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredCredential {
    pub id: Vec<u8>,
    /// The COSE_Key bytes as the authenticator sent them.
    pub public_key: Vec<u8>,
    pub algorithm: i64,
    pub sign_count: u32,
    pub user_verified: bool,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub aaguid: [u8; 16],
    pub transports: Vec<String>,
    pub attestation_format: String,
    pub attestation_type: AttestationType,
}

pub fn verify_registration(
    crypto: &dyn edge_mfa_crypto::Crypto,
    ceremony: &RegistrationCeremony<'_>,
    credential: &RegistrationResponseJson,
) -> Result<RegisteredCredential, WebauthnError> {
    let raw_id = credential_id(&credential.id, &credential.raw_id)?;
    let client_data_json = from_b64url(&credential.response.client_data_json, "clientDataJSON")?;
    let attestation_object =
        from_b64url(&credential.response.attestation_object, "attestationObject")?;

    // Steps 5–10: client data: JSON, type "webauthn.create", challenge, origin, no iframe.
    CollectedClientData::check(
        &client_data_json,
        Ceremony::Create,
        &b64url(ceremony.challenge),
        ceremony.origins,
    )?;
    // Step 11: hash of the client data.
    let client_data_hash: [u8; 32] = Sha256::digest(&client_data_json).into();
    // Step 12: decode the attestation object.
    let attestation = AttestationObject::parse(&attestation_object)?;
    let auth_data = AuthenticatorData::parse(&attestation.auth_data)?;
    // Steps 13–16: rpIdHash, UP, UV when required, BS only with BE.
    auth_data.check(ceremony.rp_id, ceremony.user_verification_required)?;
    let attested = auth_data
        .attested_credential_data
        .as_ref()
        .ok_or(WebauthnError::NoAttestedCredential)?;
    if attested.credential_id != raw_id.as_slice() {
        return Err(WebauthnError::CredentialIdMismatch);
    }
    // Step 19: the key's algorithm is one we offered.
    let algorithm = attested.credential_public_key.algorithm();
    if !ceremony.algorithms.contains(&algorithm) {
        return Err(WebauthnError::AlgorithmNotAllowed(algorithm));
    }
    // Step 20: no extensions were requested, so extension outputs are ignored.
    // Steps 21–22: the attestation statement of its format verifies.
    let attestation_type = attestation.verify(crypto, &auth_data, &client_data_hash)?;
    // Steps 23–24: where the tenant configured trust anchors, the statement must be
    // certificate-based and its path must lead to one of them; otherwise the
    // statement's type is recorded as the authenticator claims it.
    if let Some(anchors) = &ceremony.trust_anchors {
        if !matches!(
            attestation_type,
            AttestationType::Certificate | AttestationType::AnonymizationCa
        ) {
            return Err(WebauthnError::AttestationNotTrusted(
                "the tenant accepts only attested authenticators",
            ));
        }
        crate::chain::verify_path(&attestation.trust_path(), anchors)?;
    }
    // Step 25: credential id length (enforced while parsing; repeated for clarity).
    if raw_id.len() > crate::authenticator_data::MAX_CREDENTIAL_ID_LEN {
        return Err(WebauthnError::CredentialIdTooLong);
    }
    // Step 26: not already registered (for this user; see docs/WEBAUTHN.md).
    if ceremony.existing.contains(&raw_id) {
        return Err(WebauthnError::CredentialAlreadyRegistered);
    }
    Ok(RegisteredCredential {
        public_key: attested.credential_public_key_bytes.to_vec(),
        algorithm,
        sign_count: auth_data.sign_count,
        user_verified: auth_data.flags.contains(Flags::UV),
        backup_eligible: auth_data.flags.contains(Flags::BE),
        backup_state: auth_data.flags.contains(Flags::BS),
        aaguid: attested.aaguid,
        transports: credential
            .response
            .transports
            .iter()
            .take(8)
            .map(|t| t.chars().take(32).collect())
            .collect(),
        attestation_format: attestation.fmt.clone(),
        attestation_type,
        id: raw_id,
    })
}
