//! Unpadded base64url (RFC 4648 §5), the encoding of JWS segments and WebAuthn bytes.

use data_encoding::BASE64URL_NOPAD;

pub fn encode(bytes: &[u8]) -> String {
    BASE64URL_NOPAD.encode(bytes)
}

/// Strict: no padding, no whitespace, no non-zero trailing bits.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    BASE64URL_NOPAD.decode(text.as_bytes()).ok()
}
