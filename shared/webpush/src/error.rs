//! The one error type of this crate.

/// Why a message could not be made or a subscription is refused. `Display` is a
/// sentence for a problem's `detail`; none holds a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebPushError {
    /// `p256dh` is not an uncompressed P-256 point (65 bytes, on the curve).
    InvalidPublicKey,
    /// `auth` is not 16 bytes of base64url.
    InvalidAuthSecret,
    /// The ephemeral scalar is zero or not below the group order.
    InvalidEphemeralKey,
    /// The plaintext does not fit one 4096-byte record ([`crate::MAX_PLAINTEXT`]).
    TooLong,
    /// The endpoint is not an `https` URL of an allowed push service (named).
    EndpointRefused(String),
}

impl std::fmt::Display for WebPushError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WebPushError::InvalidPublicKey => {
                f.write_str("keys.p256dh is not an uncompressed P-256 public key in base64url")
            }
            WebPushError::InvalidAuthSecret => {
                f.write_str("keys.auth is not 16 bytes in base64url")
            }
            WebPushError::InvalidEphemeralKey => {
                f.write_str("the ephemeral key is not a P-256 scalar")
            }
            WebPushError::TooLong => write!(
                f,
                "a push message holds at most {} bytes",
                crate::MAX_PLAINTEXT
            ),
            WebPushError::EndpointRefused(why) => write!(f, "endpoint: {why}"),
        }
    }
}

impl std::error::Error for WebPushError {}
