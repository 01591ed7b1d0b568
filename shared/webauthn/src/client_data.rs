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

/// §7.1 step 5 / §7.2 step 6: "Let JSONtext be the result of running UTF-8 decode
/// on the value of cData." The Encoding Standard's UTF-8 decode drops a leading
/// byte order mark and replaces each maximal invalid subsequence with U+FFFD; it
/// never fails. (A replaced byte inside `type`, `challenge` or `origin` then fails
/// the comparison of its own step, as the spec intends.)
pub fn utf8_decode(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    String::from_utf8_lossy(bytes)
}

impl CollectedClientData {
    /// Steps 5–10 of §7.1 (6–14 of §7.2): UTF-8 decode, JSON, type, challenge,
    /// origin, not cross-origin. `challenge` is what we issued, as base64url.
    pub fn check(
        json: &[u8],
        ceremony: Ceremony,
        challenge: &str,
        origins: &[String],
    ) -> Result<CollectedClientData, WebauthnError> {
        let text = utf8_decode(json);
        // A CollectedClientData dictionary: a JSON object, never an array.
        let c: CollectedClientData =
            edge_mfa_json::from_str(&text).map_err(|_| WebauthnError::ClientDataMalformed)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    const CHALLENGE: &str = "Y2hhbGxlbmdl";

    fn origins() -> Vec<String> {
        vec!["https://app.example".into()]
    }

    fn check(json: &[u8]) -> Result<CollectedClientData, WebauthnError> {
        CollectedClientData::check(json, Ceremony::Get, CHALLENGE, &origins())
    }

    const GOOD: &str = r#"{"type":"webauthn.get","challenge":"Y2hhbGxlbmdl","origin":"https://app.example","crossOrigin":false}"#;

    #[test]
    fn utf8_decode_is_the_encoding_standards() {
        // "UTF-8 decode": a leading BOM is dropped...
        assert_eq!(utf8_decode(b"\xEF\xBB\xBF{}"), "{}");
        // ...only one, and only at the start...
        assert_eq!(utf8_decode(b"\xEF\xBB\xBF\xEF\xBB\xBF{}"), "\u{feff}{}");
        // ...and invalid sequences become U+FFFD, one per maximal subpart.
        assert_eq!(utf8_decode(b"a\xFFb"), "a\u{fffd}b");
        assert_eq!(utf8_decode(b"a\xE2\x82b"), "a\u{fffd}b");
        assert_eq!(utf8_decode(b"\xF0\x9F\x98"), "\u{fffd}");
        assert_eq!(utf8_decode("é".as_bytes()), "é");
    }

    #[test]
    fn client_data_is_read_after_utf8_decode() {
        assert!(check(GOOD.as_bytes()).is_ok());
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend_from_slice(GOOD.as_bytes());
        assert!(check(&with_bom).is_ok(), "a BOM is not part of the JSON");
        // An invalid byte in a member we do not read changes nothing.
        let mut extra = GOOD.strip_suffix('}').unwrap().as_bytes().to_vec();
        extra.extend_from_slice(b",\"other_keys_can_be_added_here\":\"x\xFFy\"}");
        assert!(check(&extra).is_ok());
        // In the origin it becomes U+FFFD, and the origin no longer matches.
        let mut bad_origin = GOOD.as_bytes().to_vec();
        let at = GOOD.find("app").unwrap();
        bad_origin[at] = 0xFF;
        assert_eq!(check(&bad_origin).err(), Some(WebauthnError::Origin));
        // A dictionary is an object: the same members as an array are malformed.
        assert_eq!(
            check(br#"["webauthn.get","Y2hhbGxlbmdl","https://app.example",false]"#).err(),
            Some(WebauthnError::ClientDataMalformed)
        );
        // Not JSON after decoding: malformed.
        assert_eq!(
            check(b"\xFF").err(),
            Some(WebauthnError::ClientDataMalformed)
        );
    }
}
