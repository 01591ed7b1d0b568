//! One user's MFA state: what the Durable Object (or the SQLite row) holds.
//!
//! Everything single-use or counting lives here, so it is updated atomically with
//! the rest of the record: pending enrollments, challenges, the TOTP replay guard,
//! backup-code use, and the failure counter.

use edge_mfa_otp::{Algorithm, Digits, Totp};
use serde::{Deserialize, Serialize};

use crate::backup_codes::BackupCodeSet;
use crate::lockout::Failures;
use crate::policy::Method;
use crate::seal::Sealed;

/// Pending enrollments expire after ten minutes (issue #2).
pub const ENROLLMENT_LIFETIME: u64 = 600;
/// Challenges expire after five minutes.
pub const CHALLENGE_LIFETIME: u64 = 300;
/// Bounds that keep a record small whatever a client does.
pub const MAX_FACTORS: usize = 20;
pub const MAX_PENDING: usize = 5;
pub const MAX_CHALLENGES: usize = 10;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// When this user was first seen (grace periods count from here).
    pub first_seen: Option<u64>,
    pub factors: Vec<Factor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_codes: Option<BackupCodeSet>,
    #[serde(default)]
    pub pending: Vec<PendingEnrollment>,
    #[serde(default)]
    pub challenges: Vec<Challenge>,
    #[serde(default)]
    pub failures: Failures,
    #[serde(default)]
    pub last_mfa_at: Option<u64>,
}

impl UserRecord {
    pub fn has_factor(&self) -> bool {
        !self.factors.is_empty()
    }

    pub fn factor(&self, id: &str) -> Option<&Factor> {
        self.factors.iter().find(|f| f.id == id)
    }

    /// Drops what has expired; called before every operation.
    pub fn prune(&mut self, now: u64) {
        self.pending.retain(|p| p.expires_at > now);
        self.challenges.retain(|c| c.expires_at > now);
    }
}

/// A confirmed second factor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Factor {
    pub id: String,
    pub name: String,
    pub created_at: u64,
    pub last_used_at: Option<u64>,
    #[serde(flatten)]
    pub kind: FactorKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FactorKind {
    Totp(TotpFactor),
}

impl FactorKind {
    pub fn method(&self) -> Method {
        match self {
            FactorKind::Totp(_) => Method::Totp,
        }
    }
}

/// A TOTP authenticator. Its parameters are frozen at enrollment: a later policy
/// change must not invalidate the app the user already set up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpFactor {
    pub secret: Sealed,
    pub algorithm: Algorithm,
    pub digits: Digits,
    pub period: u64,
    /// The last accepted time step: codes at or before it are replays.
    pub last_step: Option<u64>,
}

impl TotpFactor {
    pub fn totp(&self, skew: u8) -> Totp {
        Totp {
            algorithm: self.algorithm,
            digits: self.digits,
            period: self.period,
            skew,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingEnrollment {
    pub id: String,
    pub name: String,
    pub created_at: u64,
    pub expires_at: u64,
    #[serde(flatten)]
    pub kind: PendingKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PendingKind {
    Totp(TotpFactor),
}

/// A started second-factor check, consumed by the verification that succeeds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    pub id: String,
    pub method: Method,
    /// The factor to check; `None` means any factor of `method`.
    pub factor_id: Option<String>,
    pub expires_at: u64,
}

/// Where a sealed factor secret belongs, so it opens nowhere else.
pub fn totp_secret_context(tenant: &str, user: &str, id: &str) -> String {
    format!("totp|{tenant}|{user}|{id}")
}
