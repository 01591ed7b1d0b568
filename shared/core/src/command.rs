//! What the edge asks of one user's record, and what comes back.
//!
//! Commands and outcomes are serialisable because on Cloudflare they cross from the
//! Worker into the user's Durable Object; [`apply`] is the one function every
//! adapter runs inside its atomic section.

use edge_mfa_webauthn::json::{
    AuthenticationResponseJson, CreationOptionsJson, RegistrationResponseJson, RequestOptionsJson,
};
use serde::{Deserialize, Serialize};

use crate::assess::{Decision, Enrollment};
use crate::devices::DeviceView;
use crate::env::Env;
use crate::error::CoreError;
use crate::ids::UserId;
use crate::ops;
use crate::policy::Method;
use crate::seal::MasterKey;
use crate::secret::Secret;
use crate::tenant::Tenant;
use crate::user::{Factor, UserRecord, UserSummary};

/// A request to run against one user's record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRequest {
    pub command: UserCommand,
    /// The caller presented a valid (unexpired) `mfa_token` of this user.
    #[serde(default)]
    pub step_up: bool,
    /// What the edge knows of the request (country, remember-device wish).
    #[serde(default)]
    pub context: RequestContext,
}

/// The request around a command, as far as the core cares.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestContext {
    /// ISO 3166-1 alpha-2 of the client, when the runtime knows it.
    #[serde(default)]
    pub country: Option<String>,
    /// On a successful verification, remember the device under this label.
    #[serde(default)]
    pub remember_device: Option<String>,
    /// The client's address, as the platform tells it (for the audit log).
    #[serde(default)]
    pub ip: Option<String>,
    /// The client's `User-Agent` (for the audit log).
    #[serde(default)]
    pub user_agent: Option<String>,
}

impl RequestContext {
    /// Where the request came from, for its audit events.
    pub fn source(&self) -> crate::audit::Source {
        crate::audit::Source::new(
            self.ip.clone(),
            self.country.clone(),
            self.user_agent.as_deref(),
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum UserCommand {
    ListFactors,
    /// Start a TOTP enrollment; `account` labels it in the authenticator app.
    EnrollTotp {
        name: Option<String>,
        account: String,
    },
    /// Start an SMS or email enrollment to `destination` (validated by the API);
    /// `vouched`: the ticket says the tenant verified this email address.
    EnrollCode {
        method: Method,
        name: Option<String>,
        destination: crate::ops::NewDestination,
        #[serde(default)]
        vouched: bool,
    },
    /// Send an SMS or email challenge's code again (the earlier one stops working).
    Resend {
        challenge_id: String,
    },
    /// The code of challenge or enrollment `id` was not delivered: void it.
    /// `reason`: the problem code the client got (`delivery_failed`, `rate_limited`).
    VoidCode {
        id: String,
        #[serde(default)]
        reason: Option<String>,
    },
    /// Start a WebAuthn registration; `user_name` is what the authenticator shows.
    EnrollWebauthn {
        name: Option<String>,
        user_name: String,
    },
    /// Start a push enrollment: an activation code for the phone's link.
    EnrollPush {
        name: Option<String>,
    },
    /// The phone opened the activation link: the registration options of the
    /// Approver's credential (RP `rp_id`, the Approver's host), shown as
    /// `user_name`.
    PushActivationOptions {
        enrollment_id: String,
        activation_code: Secret<String>,
        rp_id: String,
        user_name: String,
    },
    /// The phone's subscription (JSON, checked by the API) and credential: the
    /// enrollment is activated, for the sign-in page to confirm.
    ActivatePush {
        enrollment_id: String,
        activation_code: Secret<String>,
        credential: Box<RegistrationResponseJson>,
        subscription: Secret<String>,
        origin: String,
        /// The phone's name, given on the phone (else the enrollment's).
        #[serde(default)]
        name: Option<String>,
    },
    /// The sign-in page asks where push approval `challenge_id` stands: proof once
    /// approved, a refusal once denied, `Pending` meanwhile.
    VerifyPush {
        challenge_id: String,
    },
    /// The phone reads approval `challenge_id`: what it is for, and whom to sign with.
    ApprovalContext {
        challenge_id: String,
    },
    /// The phone answers approval `challenge_id`, signed by its credential.
    AnswerApproval {
        challenge_id: String,
        answer: ApprovalAnswer,
        credential: Box<AuthenticationResponseJson>,
    },
    Confirm {
        enrollment_id: String,
        with: ConfirmWith,
    },
    RenameFactor {
        factor_id: String,
        name: String,
    },
    DeleteFactor {
        factor_id: String,
    },
    Challenge {
        factor_id: Option<String>,
        method: Option<Method>,
    },
    /// A code against a challenge, or (TOTP only) against every factor of `method`.
    VerifyCode {
        challenge_id: Option<String>,
        method: Option<Method>,
        code: Secret<String>,
    },
    /// A WebAuthn assertion against a challenge.
    VerifyCredential {
        challenge_id: String,
        credential: Box<AuthenticationResponseJson>,
    },
    RedeemBackupCode {
        code: Secret<String>,
    },
    RegenerateBackupCodes,
    /// The policy decision for this user now.
    Assess {
        groups: Vec<String>,
        ip: Option<String>,
        device_token: Option<Secret<String>>,
    },
    ListDevices,
    RevokeDevice {
        device_id: String,
    },
    /// Admin: forget every remembered device.
    ClearDevices,
    /// Admin: no MFA for this user for `minutes`.
    Bypass {
        minutes: u32,
    },
    /// Admin: the bypass ends now.
    EndBypass,
    /// Admin: clear the failure counters (the lockout ends now).
    Unlock,
    /// Admin: erase the user (right to erasure): the record is deleted.
    Erase,
    /// Admin: the user's MFA status.
    Status,
    /// Admin: forget every factor, code and pending operation.
    Reset,
    /// Admin: require MFA for this user whatever the mode, enrolling within
    /// `enrollment_days` (1–365, default 7) from now; or lift the requirement.
    SetRequirement {
        required: bool,
        enrollment_days: Option<u16>,
    },
    /// The user asks the tenant's admins for help (one open request at a time).
    AskForHelp {
        message: Option<String>,
    },
    /// Admin: answer the user's open help request `request_id`.
    ResolveHelp {
        request_id: String,
        action: crate::help::HelpAction,
        minutes: Option<u32>,
        note: Option<String>,
    },
}

/// How an enrollment is confirmed: a code (TOTP) or a WebAuthn registration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmWith {
    Code(Secret<String>),
    Credential(Box<RegistrationResponseJson>),
    /// Push: what the phone sent when it activated.
    Activation,
}

/// What the phone says about an approval: the number typed, or no.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalAnswer {
    Approve {
        number: Secret<String>,
    },
    Deny,
    /// "This wasn't me": denied, logged, notified, and counted as a failure.
    Report,
}

impl UserCommand {
    /// Commands that issue proof (a token), start a challenge, or create a factor
    /// or recovery codes: the policy's outright refusals apply to each of them.
    pub fn issues_proof_or_binds_factor(&self) -> bool {
        matches!(
            self,
            UserCommand::EnrollTotp { .. }
                | UserCommand::EnrollWebauthn { .. }
                | UserCommand::EnrollCode { .. }
                | UserCommand::EnrollPush { .. }
                | UserCommand::ActivatePush { .. }
                | UserCommand::VerifyPush { .. }
                | UserCommand::Resend { .. }
                | UserCommand::Confirm { .. }
                | UserCommand::Challenge { .. }
                | UserCommand::VerifyCode { .. }
                | UserCommand::VerifyCredential { .. }
                | UserCommand::RedeemBackupCode { .. }
                | UserCommand::RegenerateBackupCodes
        )
    }

    /// Commands of the tenant's admin, not of the user.
    pub fn is_admin(&self) -> bool {
        matches!(
            self,
            UserCommand::Status
                | UserCommand::Reset
                | UserCommand::ClearDevices
                | UserCommand::Bypass { .. }
                | UserCommand::EndBypass
                | UserCommand::Unlock
                | UserCommand::Erase
                | UserCommand::SetRequirement { .. }
                | UserCommand::ResolveHelp { .. }
        )
    }
}

/// A factor as clients see it: never its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "Factor")
)]
pub struct FactorView {
    pub id: String,
    #[serde(rename = "type")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::policy::factor_method_schema")
    )]
    pub method: Method,
    pub name: String,
    pub created_at: u64,
    pub last_used_at: Option<u64>,
}

impl From<&Factor> for FactorView {
    fn from(f: &Factor) -> Self {
        FactorView {
            id: f.id.clone(),
            method: f.kind.method(),
            name: f.name.clone(),
            created_at: f.created_at,
            last_used_at: f.last_used_at,
        }
    }
}

/// Why a code is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodePurpose {
    Enroll,
    Challenge,
}

/// A code for the API to send through the tenant's webhook (`mfa.code.sms`,
/// `mfa.code.email`). `Debug` shows neither the code nor the full destination.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeDelivery {
    pub method: Method,
    pub purpose: CodePurpose,
    /// The enrollment or challenge id.
    pub id: String,
    pub to: Secret<String>,
    pub masked: String,
    #[serde(default)]
    pub calling_code: Option<String>,
    pub code: Secret<String>,
    pub expires_at: u64,
}

/// A successful second factor, for the edge to turn into an `mfa_token`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verified {
    pub method: Method,
    pub factor_id: Option<String>,
    pub auth_time: u64,
    /// Unused backup codes left, after a backup-code redemption.
    pub remaining: Option<usize>,
    /// WebAuthn: the authenticator verified the user (PIN, biometric).
    #[serde(default)]
    pub user_verified: bool,
    /// WebAuthn: the credential may be synced between devices (BE flag), so it is
    /// a software-protected key rather than one bound to hardware.
    #[serde(default)]
    pub synced: bool,
    /// The remember-device token, when one was asked for and the policy allows it.
    #[serde(default)]
    pub device_token: Option<Secret<String>>,
    /// Until when the device token is valid.
    #[serde(default)]
    pub device_expires_at: Option<u64>,
}

impl Verified {
    /// A success with `method` (and `factor_id`) at `auth_time`, nothing more
    /// known of it yet: no user verification, not synced, no device token.
    pub fn new(method: Method, factor_id: Option<String>, auth_time: u64) -> Verified {
        Verified {
            method,
            factor_id,
            auth_time,
            remaining: None,
            user_verified: false,
            synced: false,
            device_token: None,
            device_expires_at: None,
        }
    }
}

/// A pending approval as the phone sees it: the sign-in it is for, and the
/// Approver credential that answers (RP ID, credential id, base64url).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalContext {
    pub app: String,
    pub country: Option<String>,
    pub created_at: u64,
    pub expires_at: u64,
    pub digits: u8,
    pub rp_id: String,
    pub credential_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserStatus {
    pub factors: Vec<FactorView>,
    pub backup_codes_remaining: usize,
    pub last_mfa_at: Option<u64>,
    pub locked_until: Option<u64>,
    pub enrollment: Enrollment,
    pub trusted_devices: Vec<DeviceView>,
    pub bypass_until: Option<u64>,
    /// The user's first own request; `None` for a user edge-mfa has never seen.
    #[serde(default)]
    pub first_seen: Option<u64>,
    /// An admin's per-user requirement, if one is set.
    #[serde(default)]
    pub requirement: Option<crate::user::Requirement>,
    /// The user's open help request, if any.
    #[serde(default)]
    pub help_request: Option<crate::help::HelpRequest>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Factors {
        factors: Vec<FactorView>,
        backup_codes_remaining: usize,
    },
    TotpEnrollment {
        enrollment_id: String,
        secret: Secret<String>,
        /// Holds the secret too.
        otpauth_uri: Secret<String>,
        expires_at: u64,
    },
    Confirmed {
        factor: FactorView,
        backup_codes: Option<Secret<Vec<String>>>,
        /// The user's first factor: the proof to turn into an `mfa_token`.
        #[serde(default)]
        verified: Option<Verified>,
    },
    Deleted,
    WebauthnEnrollment {
        enrollment_id: String,
        public_key: Box<CreationOptionsJson>,
        expires_at: u64,
    },
    Challenge {
        challenge_id: String,
        method: Method,
        expires_at: u64,
        public_key: Option<Box<RequestOptionsJson>>,
        /// SMS and email: the code to send.
        #[serde(default)]
        delivery: Option<CodeDelivery>,
    },
    /// An SMS or email code to send (an enrollment started, or a resend).
    CodeSent(CodeDelivery),
    Voided,
    Renamed {
        factor: FactorView,
    },
    Verified(Verified),
    BackupCodes {
        codes: Secret<Vec<String>>,
    },
    Status(UserStatus),
    Reset,
    Assessed {
        decision: Decision,
        factors: Vec<FactorView>,
    },
    Devices {
        devices: Vec<DeviceView>,
    },
    DeviceRevoked,
    DevicesCleared,
    Bypassed {
        bypass_until: u64,
    },
    BypassEnded,
    Unlocked,
    Erased,
    /// A push enrollment started: the code for the activation link (shown once).
    PushEnrollment {
        enrollment_id: String,
        activation_code: Secret<String>,
        expires_at: u64,
    },
    /// The Approver credential's registration options, for the phone.
    PushActivation {
        public_key: Box<CreationOptionsJson>,
        /// The application the phone is becoming an Approver for.
        app: String,
    },
    PushActivated,
    /// Not yet: the phone has not activated, or not answered.
    Pending,
    /// A push approval made: the number for the sign-in page, and the message to
    /// send to the phone's subscription (JSON, opened).
    PushChallenge {
        challenge_id: String,
        factor_id: String,
        expires_at: u64,
        number: Secret<String>,
        subscription: Secret<String>,
    },
    /// What the phone shows of approval `challenge_id`, and how it signs.
    ApprovalContext(ApprovalContext),
    ApprovalAnswered {
        state: crate::user::ApprovalState,
    },
    /// The user's open help request (new, or the one already open).
    HelpRequested(crate::help::HelpRequest),
    HelpResolved(crate::help::HelpRequest),
}

/// Runs `request` on `record`. On a refusal the record is left exactly as it was,
/// except that a failed verification is counted.
pub fn execute(
    record: &mut UserRecord,
    tenant: &Tenant,
    master: &MasterKey,
    user: &UserId,
    request: UserRequest,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    let UserRequest {
        command,
        step_up,
        context,
    } = request;
    let before = record.clone();
    record.prune(env.now);
    crate::devices::apply_policy(
        &mut record.trusted_devices,
        &tenant.policy.remember_device,
        tenant.devices_epoch,
        env.now,
    );
    // A request the policy refuses outright (a denied country) starts nothing, not
    // even the grace period.
    let refused = tenant.policy.denies_country(context.country.as_deref());
    if !command.is_admin() && !refused {
        // The user's own first request starts the grace period, not an admin's lookup.
        record.first_seen.get_or_insert(env.now);
    }
    let ctx = ops::Ctx {
        tenant,
        master,
        user,
        context: &context,
    };
    ops::reseal(record, &ctx, env);
    let first_contact = before.first_seen.is_none() && record.first_seen.is_some();
    let probe = ops::events::Probe::new(&command, record);
    let answered_number = ops::push::answered_number(&command);
    let result = ops::run(record, &ctx, command, step_up, env);
    if result.is_err() {
        *record = before;
    }
    ops::events::record(record, probe, &result, &ctx, env);
    if let Err(error) = &result {
        if error.counts_as_failure() {
            // A wrong number ends its approval: one guess each.
            if let Some(challenge_id) = &answered_number {
                ops::push::mark_wrong_number(record, challenge_id);
            }
            ops::count_failure(record, &ctx, env);
        }
    } else if first_contact {
        // The user's enrollment period started: tell them by when to enroll.
        let enrollment = ops::enrollment_of(record, &ctx, env.now);
        if enrollment.state == crate::assess::EnrollmentState::Grace {
            let data = serde_json::json!({"deadline": enrollment.deadline});
            crate::notify::queue(
                record,
                tenant,
                user.as_str(),
                "enrollment.required",
                data,
                env,
            );
        }
    }
    result
}

/// What an adapter writes back after [`apply`].
#[derive(Debug, PartialEq, Eq)]
pub enum Write {
    /// Store this record (JSON) in place of the old one.
    Put(String),
    /// Delete the record: the user was erased.
    Delete,
}

/// What an adapter does with the result of [`apply`].
#[derive(Debug)]
pub struct Applied {
    /// What to write, if anything changed.
    pub store: Option<Write>,
    /// The user's [`UserSummary`] when it changed (`Some(None)`: erased), for a
    /// runtime that keeps an index of the tenant's users beside the records.
    pub summary: Option<Option<UserSummary>>,
    /// Notifications to store with the record, in the same atomic step, and to
    /// deliver at least once (`crate::notify`).
    pub notifications: Vec<crate::notify::Notification>,
    /// What the tenant's log and its views learn from this request (its audit
    /// events, the user's new row of the users list, their help request), to
    /// commit with the record in the same atomic step.
    pub log: LogBatch,
    pub reply: Result<Outcome, CoreError>,
}

/// What one committed change adds to the tenant's log and the views fed from it
/// (the users list, the help-request queue). Delivered at least once: each event
/// is kept once by its id, a row only if its revision is newer, a help request
/// only while it is not resolved yet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogBatch {
    #[serde(default)]
    pub events: Vec<crate::audit::AuditEvent>,
    /// The user's new row of the users list, when it changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserRow>,
    /// The user's help request, when it changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<crate::help::HelpRequest>,
}

impl LogBatch {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.user.is_none() && self.help.is_none()
    }
}

/// A user's row of the users list at `revision`; `entry: None` when the user was
/// erased.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub user: String,
    pub revision: u64,
    pub entry: Option<crate::user::UserEntry>,
}

/// The revision of a record's next stored change: one more than `previous`, and
/// at least `now` scaled, so a user created again after an erasure (whose revision
/// started again from nothing) still outranks what the index holds of them.
fn next_revision(previous: u64, now: u64) -> u64 {
    (previous + 1).max(now << 20)
}

/// [`execute`] over the stored JSON form of the record, as adapters hold it.
/// A record that does not parse is an internal error and is left untouched.
pub fn apply(
    stored: Option<&str>,
    tenant: &Tenant,
    master: &MasterKey,
    user: &UserId,
    request: UserRequest,
    env: &mut Env<'_>,
) -> Applied {
    let parsed = match stored.map(serde_json::from_str::<UserRecord>).transpose() {
        Ok(record) => record,
        Err(e) => {
            return Applied {
                store: None,
                summary: None,
                notifications: Vec::new(),
                log: LogBatch::default(),
                reply: Err(CoreError::Internal(format!("stored user record: {e}"))),
            };
        }
    };
    let before = parsed.as_ref().map(UserRecord::summary);
    let original = parsed.clone().unwrap_or_default();
    let mut record = parsed.unwrap_or_default();
    let reply = execute(&mut record, tenant, master, user, request, env);
    let notifications = std::mem::take(&mut record.outbox);
    let mut events = std::mem::take(&mut record.audit);
    if matches!(reply, Ok(Outcome::Erased)) {
        if stored.is_none() {
            // Nobody to erase: nothing happened, nothing to log.
            events.clear();
        }
        let user_row = stored.map(|_| UserRow {
            user: user.as_str().to_string(),
            revision: next_revision(original.revision, env.now),
            entry: None,
        });
        return Applied {
            store: stored.map(|_| Write::Delete),
            summary: before.map(|_| None),
            notifications: Vec::new(),
            log: LogBatch {
                events,
                user: user_row,
                help: None,
            },
            reply,
        };
    }
    if record != original {
        record.revision = next_revision(original.revision, env.now);
    }
    let json = serde_json::to_string(&record).ok();
    let store = json
        .filter(|new| stored != Some(new.as_str()))
        .map(Write::Put);
    let after = Some(record.summary());
    let summary = (store.is_some() && after != before).then_some(after);
    if store.is_none() {
        // An admin's action that changed nothing (unlocking a user who was not
        // locked) is no change to log; the user's own requests are logged as
        // decisions even when they store nothing (an assess).
        events.retain(|e| e.actor != crate::audit::Actor::Admin);
    }
    // The row goes with every stored change, not only when it differs: the index
    // keeps the newest revision, and a user it missed (an older build, a lost
    // race) is listed again by their next change.
    let user_row = store.is_some().then(|| UserRow {
        user: user.as_str().to_string(),
        revision: record.revision,
        entry: Some(record.entry(&tenant.policy.lockout, env.now)),
    });
    let help = (store.is_some() && record.help != original.help)
        .then(|| record.help.clone())
        .flatten();
    Applied {
        store,
        summary,
        notifications,
        log: LogBatch {
            events,
            user: user_row,
            help,
        },
        reply,
    }
}

/// The [`UserSummary`] of a stored record, for a runtime that scans records
/// rather than keeping an index; `None` if it does not parse.
pub fn summarize(stored: &str) -> Option<UserSummary> {
    serde_json::from_str::<UserRecord>(stored)
        .ok()
        .map(|r| r.summary())
}
