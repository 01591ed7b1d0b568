//! CollectedClientData (WebAuthn §5.8.1), parsed as JSON: members may come in any
//! order and extra members are allowed (Chromium adds `other_keys_can_be_added_here`).

use serde::Deserialize;

use crate::error::WebauthnError;

#[derive(Debug, Deserialize)]
pub struct CollectedClientData {
    #[serde(rename = "type")]
    pub type_: String,
    pub challenge: String,
    pub origin: String,
    #[serde(default, rename = "crossOrigin")]
    pub cross_origin: Option<bool>,
    #[serde(default, rename = "topOrigin")]
    pub top_origin: Option<String>,
}

/// The ceremony a client data belongs to (§5.8.1 `type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ceremony {
    Create,
    Get,
}

impl Ceremony {
    fn type_name(self) -> &'static str {
        match self {
            Ceremony::Create => "webauthn.create",
            Ceremony::Get => "webauthn.get",
        }
    }
}

impl CollectedClientData {
    /// Steps 5–10 of §7.1 (9–14 of §7.2): UTF-8 JSON, type, challenge, origin,
    /// not cross-origin. `challenge` is what we issued, as base64url.
    pub fn check(
        json: &[u8],
        ceremony: Ceremony,
        challenge: &str,
        origins: &[String],
    ) -> Result<CollectedClientData, WebauthnError> {
        let text = std::str::from_utf8(json).map_err(|_| WebauthnError::ClientDataMalformed)?;
        let c: CollectedClientData =
            serde_json::from_str(text).map_err(|_| WebauthnError::ClientDataMalformed)?;
        if c.type_ != ceremony.type_name() {
            return Err(WebauthnError::ClientDataType);
        }
        // Both sides are base64url of 32 random bytes; equal length is public.
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            c.challenge.as_bytes(),
            challenge.as_bytes(),
        )) {
            return Err(WebauthnError::Challenge);
        }
        if !origins.contains(&c.origin) {
            return Err(WebauthnError::Origin);
        }
        // We expect no iframe embedding: a cross-origin ceremony or a top origin is refused.
        if c.cross_origin == Some(true) || c.top_origin.is_some() {
            return Err(WebauthnError::CrossOrigin);
        }
        Ok(c)
    }
}
