use std::fmt;

/// Why a token was refused. Deliberately coarse where detail would help a forger:
/// every signature failure is just `BadSignature`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoseError {
    /// Not three base64url segments of JSON objects, or a claim of the wrong type.
    Malformed,
    /// `alg` is not the one algorithm this token type uses (this includes `none`).
    UnsupportedAlgorithm,
    /// A `crit` header names extensions we do not implement (RFC 7515 §4.1.11).
    UnsupportedCritical,
    /// The `kid` names no key we hold.
    UnknownKey,
    BadSignature,
    Expired,
    /// `iat` lies in the future beyond the allowed clock skew.
    IssuedInFuture,
    /// `nbf` lies in the future beyond the allowed clock skew (RFC 7519 §4.1.5).
    NotYetValid,
    /// `exp - iat` is longer than this token type may live.
    LifetimeTooLong,
    WrongIssuer,
    WrongAudience,
    /// `sub` missing, empty or too long.
    InvalidSubject,
    /// Our own signing key could not be opened (under this `MASTER_KEY`).
    KeyUnopenable,
    /// Our own signing key opened but the signature port could not sign with it.
    SigningFailed,
}

impl fmt::Display for JoseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JoseError::Malformed => "token is malformed",
            JoseError::UnsupportedAlgorithm => "token algorithm is not accepted",
            JoseError::UnsupportedCritical => "token has unsupported critical headers",
            JoseError::UnknownKey => "token key id is unknown",
            JoseError::BadSignature => "token signature is invalid",
            JoseError::Expired => "token has expired",
            JoseError::IssuedInFuture => "token is issued in the future",
            JoseError::NotYetValid => "token is not valid yet (nbf)",
            JoseError::LifetimeTooLong => "token lifetime is too long",
            JoseError::WrongIssuer => "token issuer is wrong",
            JoseError::WrongAudience => "token audience is wrong",
            JoseError::InvalidSubject => "token subject is invalid",
            JoseError::KeyUnopenable => "the signing key could not be opened",
            JoseError::SigningFailed => "the signing key could not be used",
        })
    }
}

impl std::error::Error for JoseError {}
