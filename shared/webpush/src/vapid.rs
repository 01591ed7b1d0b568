//! Voluntary Application Server Identification (RFC 8292): the claims the
//! application server signs (ES256, by the caller's signer) and the header that
//! carries the token and the public key.

use serde::Serialize;
use url::Url;

/// How long a VAPID token is valid. RFC 8292 §2 caps `exp` at 24 hours; push
/// services reject tokens near that bound, so a shorter one is sent.
pub const TOKEN_LIFETIME: u64 = 12 * 3600;

/// The JWT claims of RFC 8292 §2: `aud` the push resource's origin, `exp` (Unix
/// seconds), `sub` a contact URI (`mailto:` or `https:`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VapidClaims {
    pub aud: String,
    pub exp: u64,
    pub sub: String,
}

impl VapidClaims {
    /// The claims for a message to `endpoint` at `now`; `None` if the endpoint is
    /// not a URL with an origin.
    pub fn new(endpoint: &str, subject: &str, now: u64) -> Option<VapidClaims> {
        let origin = Url::parse(endpoint).ok()?.origin();
        if !origin.is_tuple() {
            return None;
        }
        Some(VapidClaims {
            aud: origin.ascii_serialization(),
            exp: now + TOKEN_LIFETIME,
            sub: subject.to_string(),
        })
    }
}

/// `Authorization: vapid t=<token>, k=<public key>` (RFC 8292 §3): the JWS and
/// the signer's uncompressed P-256 public key (65 bytes), base64url.
pub fn authorization(token: &str, public_key: &[u8; 65]) -> String {
    format!(
        "vapid t={token}, k={}",
        data_encoding::BASE64URL_NOPAD.encode(public_key)
    )
}
