//! The one error type of the core. Each variant is one answer a client can act on;
//! the API layer maps them to RFC 9457 problem details.

use serde::{Deserialize, Serialize};

/// Why an operation was refused. Messages never contain secrets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", content = "detail", rename_all = "snake_case")]
pub enum CoreError {
    /// The input is well-formed JSON but not acceptable (a missing or bad field).
    InvalidRequest(String),
    /// The named thing does not exist for this user.
    NotFound(String),
    /// A thing that already exists cannot be created again.
    Conflict(String),
    /// The enrollment or challenge expired or was already used.
    Expired(String),
    /// A wrong, expired or replayed one-time code (TOTP, backup code): a guess at a
    /// guessable secret, so it counts towards the lockout.
    WrongCode(String),
    /// A proof that failed verification but that nobody could have guessed (a
    /// WebAuthn assertion or attestation). Not counted: counting it would let anyone
    /// with the password lock the user out of their strongest factor.
    VerificationFailed(String),
    /// The tenant's policy refuses this request outright (a denied country).
    Forbidden(String),
    /// The credential that authorised a change no longer does (a rotated key).
    Unauthorized(String),
    /// Too many failures: nothing is evaluated until `retry_after` seconds pass.
    RateLimited { retry_after: u64 },
    /// The operation needs a fresh `mfa_token` of this user (API.md "step-up").
    StepUpRequired,
    /// A state we cannot serve, such as a sealed secret that no longer opens.
    /// The detail goes to the log, never to the client.
    Internal(String),
}

impl CoreError {
    /// Whether the refusal counts towards the lockout: only wrong guesses at a
    /// one-time code do (docs/SECURITY.md "Lockout").
    pub fn counts_as_failure(&self) -> bool {
        matches!(self, CoreError::WrongCode(_))
    }
}

impl std::fmt::Display for CoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CoreError::InvalidRequest(m)
            | CoreError::NotFound(m)
            | CoreError::Conflict(m)
            | CoreError::Expired(m)
            | CoreError::WrongCode(m)
            | CoreError::VerificationFailed(m)
            | CoreError::Forbidden(m)
            | CoreError::Unauthorized(m) => f.write_str(m),
            CoreError::RateLimited { retry_after } => {
                write!(f, "too many failed attempts; retry in {retry_after} s")
            }
            CoreError::StepUpRequired => {
                f.write_str("this operation needs a recent mfa_token (X-MFA-Token) for this user")
            }
            CoreError::Internal(_) => f.write_str("internal error"),
        }
    }
}

impl std::error::Error for CoreError {}
