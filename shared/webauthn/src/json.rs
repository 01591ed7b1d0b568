//! The JSON forms of WebAuthn Level 3 (§5.1.8–5.1.10, §5.4, §5.5): what
//! `PublicKeyCredential.toJSON()` sends and what `parseCreationOptionsFromJSON()` /
//! `parseRequestOptionsFromJSON()` take. Byte fields are unpadded base64url.
//! Unknown members are ignored, as the spec's parsers do.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::WebauthnError;

/// The JSON Schema `pattern` of a base64url member (RFC 4648 §5): whole groups,
/// then 2 or 3 characters (never 1, which encodes no byte), padding tolerated.
pub const BASE64URL: &str = r"^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2,3})?=*(?![\s\S])";

pub fn b64url(bytes: &[u8]) -> String {
    data_encoding::BASE64URL_NOPAD.encode(bytes)
}

/// Strict unpadded base64url; a trailing `=` padding is tolerated.
pub fn from_b64url(text: &str, field: &'static str) -> Result<Vec<u8>, WebauthnError> {
    data_encoding::BASE64URL_NOPAD
        .decode(text.trim_end_matches('=').as_bytes())
        .map_err(|_| WebauthnError::Base64(field))
}

/// `PublicKeyCredential.type` (W3C WebAuthn L3 §5.1): always `public-key`.
// An enum, so any other value is refused as the JSON is read, before any state
// is looked at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum PublicKeyCredentialType {
    #[default]
    #[serde(rename = "public-key")]
    PublicKey,
}

/// RegistrationResponseJSON (W3C WebAuthn L3 §5.1), as
/// `PublicKeyCredential.toJSON()` gives it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "RegistrationResponseJSON")
)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationResponseJson {
    /// The credential id, base64url.
    #[cfg_attr(feature = "schema", schemars(pattern(BASE64URL)))]
    pub id: String,
    /// The same id, base64url.
    #[cfg_attr(feature = "schema", schemars(pattern(BASE64URL)))]
    pub raw_id: String,
    pub response: AttestationResponseJson,
    #[serde(default)]
    pub authenticator_attachment: Option<String>,
    /// AuthenticationExtensionsClientOutputs; not read.
    #[serde(default)]
    pub client_extension_results: Value,
    #[serde(rename = "type")]
    pub type_: PublicKeyCredentialType,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AuthenticatorAttestationResponseJSON")
)]
#[serde(rename_all = "camelCase")]
pub struct AttestationResponseJson {
    /// The CollectedClientData JSON, base64url.
    #[serde(rename = "clientDataJSON")]
    #[cfg_attr(feature = "schema", schemars(pattern(BASE64URL)))]
    pub client_data_json: String,
    /// The CBOR attestation object, base64url.
    #[cfg_attr(feature = "schema", schemars(pattern(BASE64URL)))]
    pub attestation_object: String,
    #[serde(default)]
    pub transports: Vec<String>,
}

/// AuthenticationResponseJSON (W3C WebAuthn L3 §5.1), as
/// `PublicKeyCredential.toJSON()` gives it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AuthenticationResponseJSON")
)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationResponseJson {
    /// The credential id, base64url.
    #[cfg_attr(feature = "schema", schemars(pattern(BASE64URL)))]
    pub id: String,
    /// The same id, base64url.
    #[cfg_attr(feature = "schema", schemars(pattern(BASE64URL)))]
    pub raw_id: String,
    pub response: AssertionResponseJson,
    #[serde(default)]
    pub authenticator_attachment: Option<String>,
    /// AuthenticationExtensionsClientOutputs; not read.
    #[serde(default)]
    pub client_extension_results: Value,
    #[serde(rename = "type")]
    pub type_: PublicKeyCredentialType,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AuthenticatorAssertionResponseJSON")
)]
#[serde(rename_all = "camelCase")]
pub struct AssertionResponseJson {
    /// The CollectedClientData JSON, base64url.
    #[serde(rename = "clientDataJSON")]
    #[cfg_attr(feature = "schema", schemars(pattern(BASE64URL)))]
    pub client_data_json: String,
    /// base64url.
    #[cfg_attr(feature = "schema", schemars(pattern(BASE64URL)))]
    pub authenticator_data: String,
    /// base64url.
    #[cfg_attr(feature = "schema", schemars(pattern(BASE64URL)))]
    pub signature: String,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(pattern(BASE64URL)))]
    pub user_handle: Option<String>,
}

/// `id` and `rawId` name the same bytes, and `type` is `public-key` (§5.1).
impl RegistrationResponseJson {
    /// Every base64url member decodes (§5.1's JSON encoding). Checked as the
    /// request is read, so a malformed credential is refused before any state is
    /// looked up.
    ///
    /// # Errors
    /// [`WebauthnError::Base64`] naming the member.
    pub fn check_encoding(&self) -> Result<(), WebauthnError> {
        from_b64url(&self.id, "id")?;
        from_b64url(&self.raw_id, "rawId")?;
        from_b64url(&self.response.client_data_json, "clientDataJSON")?;
        from_b64url(&self.response.attestation_object, "attestationObject")?;
        Ok(())
    }
}

impl AuthenticationResponseJson {
    /// As [`RegistrationResponseJson::check_encoding`], for an assertion.
    ///
    /// # Errors
    /// [`WebauthnError::Base64`] naming the member.
    pub fn check_encoding(&self) -> Result<(), WebauthnError> {
        from_b64url(&self.id, "id")?;
        from_b64url(&self.raw_id, "rawId")?;
        from_b64url(&self.response.client_data_json, "clientDataJSON")?;
        from_b64url(&self.response.authenticator_data, "authenticatorData")?;
        from_b64url(&self.response.signature, "signature")?;
        if let Some(handle) = &self.response.user_handle {
            from_b64url(handle, "userHandle")?;
        }
        Ok(())
    }
}

pub(crate) fn credential_id(id: &str, raw_id: &str) -> Result<Vec<u8>, WebauthnError> {
    let raw = from_b64url(raw_id, "rawId")?;
    if from_b64url(id, "id")? != raw {
        return Err(WebauthnError::CredentialJson("id and rawId differ"));
    }
    // The bounds of authenticator data's credentialId hold for rawId too.
    if raw.len() > crate::authenticator_data::MAX_CREDENTIAL_ID_LEN {
        return Err(WebauthnError::CredentialIdTooLong);
    }
    if raw.len() < crate::authenticator_data::MIN_CREDENTIAL_ID_LEN {
        return Err(WebauthnError::CredentialIdTooShort);
    }
    Ok(raw)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "PublicKeyCredentialRpEntity")
)]
pub struct RpEntity {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "PublicKeyCredentialUserEntityJSON")
)]
#[serde(rename_all = "camelCase")]
pub struct UserEntity {
    pub id: String,
    pub name: String,
    pub display_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "PublicKeyCredentialParameters")
)]
pub struct CredentialParameters {
    #[serde(rename = "type")]
    pub type_: String,
    pub alg: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "PublicKeyCredentialDescriptorJSON")
)]
pub struct CredentialDescriptor {
    #[serde(rename = "type")]
    pub type_: String,
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transports: Vec<String>,
}

impl CredentialDescriptor {
    pub fn new(id: &[u8], transports: &[String]) -> CredentialDescriptor {
        CredentialDescriptor {
            type_: "public-key".into(),
            id: b64url(id),
            transports: transports.to_vec(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AuthenticatorSelectionCriteria")
)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticatorSelection {
    pub resident_key: String,
    pub require_resident_key: bool,
    pub user_verification: String,
}

/// PublicKeyCredentialCreationOptionsJSON (W3C WebAuthn L3 §5.4): give it to
/// PublicKeyCredential.parseCreationOptionsFromJSON().
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "PublicKeyCredentialCreationOptionsJSON")
)]
#[serde(rename_all = "camelCase")]
pub struct CreationOptionsJson {
    pub rp: RpEntity,
    pub user: UserEntity,
    pub challenge: String,
    pub pub_key_cred_params: Vec<CredentialParameters>,
    pub timeout: u64,
    pub exclude_credentials: Vec<CredentialDescriptor>,
    pub authenticator_selection: AuthenticatorSelection,
    pub attestation: String,
}

/// PublicKeyCredentialRequestOptionsJSON (W3C WebAuthn L3 §5.5): give it to
/// PublicKeyCredential.parseRequestOptionsFromJSON().
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "PublicKeyCredentialRequestOptionsJSON")
)]
#[serde(rename_all = "camelCase")]
pub struct RequestOptionsJson {
    pub challenge: String,
    pub timeout: u64,
    pub rp_id: String,
    pub allow_credentials: Vec<CredentialDescriptor>,
    pub user_verification: String,
}
