//! One user's MFA state: what the Durable Object (or the SQLite row) holds.
//!
//! Everything single-use or counting lives here, so it is updated atomically with
//! the rest of the record: pending enrollments, challenges, the TOTP replay guard,
//! backup-code use, and the failure counter.

use edge_mfa_otp::{Algorithm, Digits, Totp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::backup_codes::BackupCodeSet;
use crate::devices::TrustedDevice;
use crate::lockout::Failures;
use crate::policy::Method;
use crate::seal::Sealed;

/// Pending TOTP enrollments expire after ten minutes.
pub const ENROLLMENT_LIFETIME: u64 = 600;
/// WebAuthn challenges, for registration and authentication, live five minutes.
pub const WEBAUTHN_CEREMONY_LIFETIME: u64 = 300;
/// Challenges expire after five minutes.
pub const CHALLENGE_LIFETIME: u64 = 300;
/// Bounds that keep a record small whatever a client does.
pub const MAX_FACTORS: usize = 20;
pub const MAX_PENDING: usize = 5;
pub const MAX_CHALLENGES: usize = 10;
pub const MAX_KNOWN_COUNTRIES: usize = 50;

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
    /// WebAuthn `user.id`: 32 random bytes (base64url), made at the first WebAuthn
    /// enrollment and kept, so it is opaque and stable (WebAuthn §14.6.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webauthn_user_handle: Option<String>,
    /// Remembered devices ("remember this device"), tokens hashed.
    #[serde(default)]
    pub trusted_devices: Vec<TrustedDevice>,
    /// An admin's temporary bypass: MFA is not asked until then.
    #[serde(default)]
    pub bypass_until: Option<u64>,
    /// Countries of earlier successful verifications, for adaptive policies.
    #[serde(default)]
    pub known_countries: Vec<String>,
    /// When codes were sent to this user in the last hour (SMS and email).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sends: Vec<u64>,
    /// When push approvals were sent to this user in the last hour: each waits
    /// longer after the one before (fatigue).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pushes: Vec<u64>,
    /// An admin required MFA for this user, whatever the tenant's mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirement: Option<Requirement>,
    /// The user's latest help request (open, or resolved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<crate::help::HelpRequest>,
    /// When the user asked for help in the last day (rate limit).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub help_asked: Vec<u64>,
    /// Grows with every stored change (and never goes back, even across an erasure:
    /// see `next_revision`), so a tenant-wide index keeps only the newest entry.
    #[serde(default)]
    pub revision: u64,
    /// Notifications of this request, handed to the adapter by `apply` (never
    /// stored in the record: the adapter's outbox holds them).
    #[serde(skip)]
    pub outbox: Vec<crate::notify::Notification>,
    /// Audit events of this request, handed to the adapter by `apply` with the
    /// record, to commit in the same atomic step.
    #[serde(skip)]
    pub audit: Vec<crate::audit::AuditEvent>,
}

/// `PUT …/requirement`: MFA is required for this user, and they must enroll by
/// `deadline` (Unix seconds).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    pub set_at: u64,
    pub deadline: u64,
}

/// One row of the users list (API.md "Admin additions", `GET …/admin/users`): what
/// the tenant-wide index keeps of a user, fed by the committed changes. The
/// enrollment state is derived from it with the policy of the moment the list is
/// read ([`UserEntry::enrollment`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEntry {
    pub first_seen: Option<u64>,
    /// Factor methods in enrollment order, then `backup_code` while unused codes remain.
    pub methods: Vec<Method>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_mfa_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bypass_until: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirement: Option<Requirement>,
}

impl UserEntry {
    /// The enrollment state under `policy` at `now` (as the admin status shows it).
    pub fn enrollment(
        &self,
        policy: &crate::policy::Policy,
        now: u64,
    ) -> crate::assess::Enrollment {
        let subject = crate::assess::Subject {
            has_factor: self.methods.iter().any(|m| *m != Method::BackupCode),
            first_seen: self.first_seen.unwrap_or(now),
            bypass_until: self.bypass_until,
            groups: &[],
            known_countries: &[],
            required_by: self.requirement.as_ref().map(|r| r.deadline),
        };
        crate::assess::enrollment(policy, &subject, now)
    }

    pub fn locked_at(&self, now: u64) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }
}

/// What a tenant-wide view needs of a user (the users list, erasing a tenant,
/// whether changing `rp_id` would strand WebAuthn credentials), small enough to
/// keep in an index beside the records.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub first_seen: Option<u64>,
    /// The methods of the user's factors, each once, in enrollment order.
    pub methods: Vec<Method>,
}

impl UserSummary {
    pub fn has_webauthn(&self) -> bool {
        self.methods.contains(&Method::Webauthn)
    }
}

impl UserRecord {
    pub fn summary(&self) -> UserSummary {
        let mut methods: Vec<Method> = Vec::new();
        for method in self.factors.iter().map(|f| f.kind.method()) {
            if !methods.contains(&method) {
                methods.push(method);
            }
        }
        UserSummary {
            first_seen: self.first_seen,
            methods,
        }
    }

    /// The user's row in the tenant's users list, with the lockout of `lockout`
    /// as it stands at `now`.
    pub fn entry(&self, lockout: &crate::policy::Lockout, now: u64) -> UserEntry {
        let mut methods = self.summary().methods;
        if self
            .backup_codes
            .as_ref()
            .is_some_and(|c| c.remaining() > 0)
        {
            methods.push(Method::BackupCode);
        }
        UserEntry {
            first_seen: self.first_seen,
            methods,
            last_mfa_at: self.last_mfa_at,
            locked_until: self.failures.locked_for(lockout, now).map(|s| now + s),
            bypass_until: self.bypass_until.filter(|&until| until > now),
            requirement: self.requirement.clone(),
        }
    }

    pub fn has_factor(&self) -> bool {
        !self.factors.is_empty()
    }

    pub fn factor(&self, id: &str) -> Option<&Factor> {
        self.factors.iter().find(|f| f.id == id)
    }

    /// Opens `challenge`; past [`MAX_CHALLENGES`] the oldest open one is forgotten.
    pub fn add_challenge(&mut self, challenge: Challenge) {
        if self.challenges.len() >= MAX_CHALLENGES {
            self.challenges.remove(0);
        }
        self.challenges.push(challenge);
    }

    /// The WebAuthn `user.id` of this user (base64url of 32 random bytes), made at
    /// the first ceremony that needs it and kept (W3C WebAuthn L3 §14.6.1).
    pub fn webauthn_handle(&mut self, env: &mut crate::env::Env<'_>) -> String {
        self.webauthn_user_handle
            .get_or_insert_with(|| data_encoding::BASE64URL_NOPAD.encode(&env.bytes::<32>()))
            .clone()
    }

    /// Drops what has expired; called before every operation.
    pub fn prune(&mut self, now: u64) {
        self.pending.retain(|p| p.expires_at > now);
        self.challenges.retain(|c| c.expires_at > now);
        self.trusted_devices.retain(|d| d.expires_at > now);
        if self.bypass_until.is_some_and(|until| until <= now) {
            self.bypass_until = None;
        }
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
    Webauthn(WebauthnFactor),
    Sms(Destination),
    Email(Destination),
    Push(PushFactor),
}

impl FactorKind {
    pub fn method(&self) -> Method {
        match self {
            FactorKind::Totp(_) => Method::Totp,
            FactorKind::Webauthn(_) => Method::Webauthn,
            FactorKind::Sms(_) => Method::Sms,
            FactorKind::Email(_) => Method::Email,
            FactorKind::Push(_) => Method::Push,
        }
    }
}

/// A phone running the Approver: where its push messages go (the Web Push
/// subscription, sealed: its keys let anyone send to the phone) and the WebAuthn
/// credential of the Approver's own origin that signs each answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushFactor {
    /// `PushSubscription.toJSON()` (W3C Push API), sealed.
    pub subscription: Sealed,
    pub credential: WebauthnFactor,
    /// The Approver's WebAuthn RP ID and origin, as at activation: its answers
    /// are verified against these, whatever host a later request names.
    pub rp_id: String,
    pub origin: String,
}

/// Where an SMS or email factor's codes go: the number or address sealed (it is
/// personal data), and a masked form to show (`+44 ••••••• 789`, `a•••@example.com`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destination {
    pub to: Sealed,
    pub masked: String,
    /// SMS: the E.164 country calling code of the number ("44"), for the policy's
    /// `sms_calling_codes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calling_code: Option<String>,
}

/// A one-time code sent by SMS or email: only its hash is kept (HMAC under the
/// tenant's pepper, bound to the challenge or enrollment id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimeCode {
    pub hash: String,
    pub expires_at: u64,
    /// When the current code was sent, and how many codes were sent so far.
    pub sent_at: u64,
    pub sends: u32,
}

/// A WebAuthn credential record (WebAuthn §4 "Credential Record"). Nothing here is
/// secret: the public key verifies, it cannot sign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebauthnFactor {
    /// base64url.
    pub credential_id: String,
    /// The COSE_Key, base64url.
    pub public_key: String,
    pub algorithm: i64,
    pub sign_count: u32,
    pub backup_eligible: bool,
    pub backup_state: bool,
    /// The authenticator model, as a UUID string (all zeros when not given).
    pub aaguid: String,
    pub transports: Vec<String>,
    pub attestation_format: String,
    /// Whether the last ceremony verified the user (WebAuthn's `uvInitialized`).
    pub user_verified: bool,
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
    /// A registration ceremony: the challenge we issued and what we asked for.
    Webauthn(WebauthnCeremony),
    /// An SMS or email destination, confirmed by the code sent to it.
    Code(CodeEnrollment),
    /// A phone to activate as an Approver, then to confirm from the sign-in page.
    Push(PushEnrollment),
}

/// A push enrollment: the activation code's hash (the link the phone opens holds
/// the code), the registration ceremony the phone started, and once the phone
/// activated, the factor the sign-in page's confirmation adds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushEnrollment {
    /// base64url(SHA-256(activation code)).
    pub activation_sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceremony: Option<WebauthnCeremony>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activated: Option<PushFactor>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeEnrollment {
    pub method: Method,
    pub destination: Destination,
    pub code: OneTimeCode,
}

impl PendingKind {
    /// The kind of factor this enrollment makes.
    pub fn method(&self) -> Method {
        match self {
            PendingKind::Totp(_) => Method::Totp,
            PendingKind::Webauthn(_) => Method::Webauthn,
            PendingKind::Code(c) => c.method,
            PendingKind::Push(_) => Method::Push,
        }
    }
}

/// The server side of a WebAuthn ceremony: the challenge (base64url of 32 random
/// bytes), bound to this user by where it is stored and to its ceremony by its kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebauthnCeremony {
    pub challenge: String,
    pub user_verification_required: bool,
    /// For registration: the algorithms offered. For authentication: unused.
    #[serde(default)]
    pub algorithms: Vec<i64>,
    /// For authentication: the credential ids offered in `allowCredentials`.
    #[serde(default)]
    pub allow_credentials: Vec<String>,
}

/// A started second-factor check, consumed by the verification that succeeds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    pub id: String,
    pub method: Method,
    /// The factor to check; `None` means any factor of `method`.
    pub factor_id: Option<String>,
    pub expires_at: u64,
    /// For WebAuthn: the assertion ceremony.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webauthn: Option<WebauthnCeremony>,
    /// For SMS and email: the code sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<OneTimeCode>,
    /// For push: the approval the phone answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
}

/// A push approval (number matching): the number shown on the sign-in page,
/// kept hashed, what the phone shows of the sign-in, and where it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// HMAC of the number under the tenant's pepper, bound to the challenge id.
    pub number_hash: String,
    pub digits: u8,
    /// The application asking (the tenant's name), the client's country as the
    /// platform tells it, and when (Unix seconds).
    pub app: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    pub created_at: u64,
    pub state: ApprovalState,
}

/// Where an approval stands. Every state but `Pending` ends it: the next `verify`
/// answers it and consumes the challenge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalState {
    Pending,
    /// The phone signed the right number; with its flags.
    Approved {
        user_verified: bool,
        synced: bool,
    },
    Denied,
    /// "This wasn't me".
    Reported,
    /// The phone signed a number that is not the one shown.
    WrongNumber,
}

/// The challenge an Approver's assertion signs (docs/PUSH.md): SHA-256 of
/// `"edge-mfa approval" 0x00 || challenge_id || 0x00 || answer`, the answer being
/// the number typed, `deny` or `report`; bound to one approval and one answer.
pub fn answer_challenge(challenge_id: &str, answer: &str) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"edge-mfa approval\0");
    hash.update(challenge_id.as_bytes());
    hash.update(b"\0");
    hash.update(answer.as_bytes());
    hash.finalize().into()
}

/// Where a push subscription belongs, so it opens nowhere else (the factor keeps
/// its enrollment's id).
pub fn push_subscription_context(tenant: &str, user: &str, id: &str) -> String {
    format!("push|{tenant}|{user}|{id}")
}

/// Where a sealed factor secret belongs, so it opens nowhere else.
pub fn totp_secret_context(tenant: &str, user: &str, id: &str) -> String {
    format!("totp|{tenant}|{user}|{id}")
}
