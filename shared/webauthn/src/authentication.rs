//! Verifying an authentication assertion: WebAuthn Level 3 §7.2, step by step.

use sha2::{Digest, Sha256};

use crate::authenticator_data::AuthenticatorData;
use crate::client_data::{Ceremony, CollectedClientData};
use crate::cose::CoseKey;
use crate::error::WebauthnError;
use crate::flags::Flags;
use crate::json::{AuthenticationResponseJson, b64url, credential_id, from_b64url};

#[derive(Debug)]
pub struct AuthenticationCeremony<'a> {
    pub challenge: &'a [u8],
    pub rp_id: &'a str,
    pub origins: &'a [String],
    pub user_verification_required: bool,
    /// The `allowCredentials` ids we sent; empty means any credential of the user.
    pub allow_credentials: &'a [Vec<u8>],
    /// This user's handle (`user.id` at registration).
    pub user_handle: &'a [u8],
}

/// One of the user's stored credentials.
#[derive(Clone, Copy, Debug)]
pub struct StoredCredential<'a> {
    pub id: &'a [u8],
    pub public_key: &'a [u8],
    pub sign_count: u32,
    pub backup_eligible: bool,
}

/// What changed, to store (§7.2 step 25).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assertion {
    /// Index into the credentials given.
    pub credential: usize,
    pub sign_count: u32,
    pub user_verified: bool,
    pub backup_state: bool,
}

pub fn verify_authentication(
    crypto: &dyn edge_mfa_crypto::Crypto,
    ceremony: &AuthenticationCeremony<'_>,
    credentials: &[StoredCredential<'_>],
    response: &AuthenticationResponseJson,
) -> Result<Assertion, WebauthnError> {
    let raw_id = credential_id(&response.id, &response.raw_id)?;
    // Step 5: one of allowCredentials, if we sent any.
    if !ceremony.allow_credentials.is_empty() && !ceremony.allow_credentials.contains(&raw_id) {
        return Err(WebauthnError::CredentialNotAllowed);
    }
    // Step 6: the credential is this user's, and the user handle (if sent) is theirs.
    let index = credentials
        .iter()
        .position(|c| c.id == raw_id.as_slice())
        .ok_or(WebauthnError::UnknownCredential)?;
    let stored = credentials
        .get(index)
        .ok_or(WebauthnError::UnknownCredential)?;
    if let Some(handle) = &response.response.user_handle
        && from_b64url(handle, "userHandle")? != ceremony.user_handle
    {
        return Err(WebauthnError::UserHandleMismatch);
    }
    // Step 8: the parts.
    let client_data_json = from_b64url(&response.response.client_data_json, "clientDataJSON")?;
    let authenticator_data =
        from_b64url(&response.response.authenticator_data, "authenticatorData")?;
    let signature = from_b64url(&response.response.signature, "signature")?;
    // Steps 9–14: client data.
    CollectedClientData::check(
        &client_data_json,
        Ceremony::Get,
        &b64url(ceremony.challenge),
        ceremony.origins,
    )?;
    let auth_data = AuthenticatorData::parse(&authenticator_data)?;
    // Steps 15–18: rpIdHash, UP, UV when required, BS only with BE.
    auth_data.check(ceremony.rp_id, ceremony.user_verification_required)?;
    let be = auth_data.flags.contains(Flags::BE);
    let bs = auth_data.flags.contains(Flags::BS);
    // Step 19: BE never changes for a credential.
    if be != stored.backup_eligible {
        return Err(WebauthnError::BackupEligibilityChanged);
    }
    // Step 20: no extensions were requested.
    // Steps 21–22: the signature over authenticatorData || SHA-256(clientDataJSON).
    let key = CoseKey::from_bytes(stored.public_key)?;
    let mut signed = Vec::with_capacity(authenticator_data.len() + 32);
    signed.extend_from_slice(&authenticator_data);
    signed.extend_from_slice(&Sha256::digest(&client_data_json));
    key.verify(crypto, &signed, &signature)?;
    // Step 23: the counter must rise unless both are zero (authenticators without one).
    let received = auth_data.sign_count;
    if (received != 0 || stored.sign_count != 0) && received <= stored.sign_count {
        return Err(WebauthnError::SignCountRegression {
            stored: stored.sign_count,
            received,
        });
    }
    Ok(Assertion {
        credential: index,
        sign_count: received,
        user_verified: auth_data.flags.contains(Flags::UV),
        backup_state: bs,
    })
}
