//! JWS Compact Serialization (RFC 7515 §7.1): `header.payload.signature`.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::JoseError;
use crate::base64url;

/// Longest token we parse at all; real ones are a few hundred bytes.
const MAX_TOKEN_LEN: usize = 8 * 1024;

#[derive(Debug, Deserialize)]
pub(crate) struct Header {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub crit: Option<serde_json::Value>,
}

/// A token split and decoded, its signature not yet checked.
#[derive(Debug)]
pub(crate) struct Compact<'a> {
    pub header: Header,
    /// `ASCII(BASE64URL(header) || '.' || BASE64URL(payload))`, what the signature covers.
    pub signing_input: &'a [u8],
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
}

impl<'a> Compact<'a> {
    pub fn parse(token: &'a str) -> Result<Self, JoseError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(JoseError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JoseError::Malformed);
        };
        let header_bytes = base64url::decode(h).ok_or(JoseError::Malformed)?;
        // RFC 7515 §4: the header is a JSON object (never an array of its members).
        let header: Header =
            edge_mfa_json::from_slice(&header_bytes).map_err(|_| JoseError::Malformed)?;
        if header.crit.is_some() {
            return Err(JoseError::UnsupportedCritical);
        }
        let payload = base64url::decode(p).ok_or(JoseError::Malformed)?;
        let signature = base64url::decode(s).ok_or(JoseError::Malformed)?;
        let signing_input = token
            .get(..h.len() + 1 + p.len())
            .ok_or(JoseError::Malformed)?;
        Ok(Compact {
            header,
            signing_input: signing_input.as_bytes(),
            payload,
            signature,
        })
    }

    /// The claims, only to be called once the signature has been verified. RFC
    /// 7519 §7.2 step 10: the claims set is a JSON object.
    pub fn claims<T: DeserializeOwned>(&self) -> Result<T, JoseError> {
        edge_mfa_json::from_slice(&self.payload).map_err(|_| JoseError::Malformed)
    }
}

pub(crate) fn encode_compact(header_json: &str, payload_json: &str) -> String {
    format!(
        "{}.{}",
        base64url::encode(header_json.as_bytes()),
        base64url::encode(payload_json.as_bytes())
    )
}
