//! The operations on one user's record. Each validates first and mutates after, and
//! [`crate::execute`] restores the record on any refusal, so a half-done change can
//! never be stored.

mod assess;
mod backup_codes;
mod codes;
mod devices;
pub(crate) mod events;
mod help;
pub(crate) mod push;
mod totp;
mod webauthn;

use crate::backup_codes::BackupCodeSet;
use crate::command::{
    ConfirmWith, FactorView, Outcome, RequestContext, UserCommand, UserStatus, Verified,
};
use crate::env::Env;
use crate::error::CoreError;
use crate::ids::{UserId, random_id};
use crate::policy::Method;
use crate::seal::MasterKey;
use crate::secret::Secret;
use crate::tenant::Tenant;
use crate::user::{
    CHALLENGE_LIFETIME, Challenge, Factor, FactorKind, MAX_FACTORS, MAX_KNOWN_COUNTRIES,
    MAX_PENDING, PendingEnrollment, UserRecord,
};

const MAX_NAME_CHARS: usize = 64;

pub(crate) struct Ctx<'a> {
    pub tenant: &'a Tenant,
    pub master: &'a MasterKey,
    pub user: &'a UserId,
    pub context: &'a RequestContext,
}

pub use codes::{MAX_SENDS_PER_USER_PER_HOUR, NewDestination};

/// After a `MASTER_KEY` rotation: every sealed value of the record under the
/// current key (TOTP secrets, SMS and email destinations).
pub(crate) fn reseal(record: &mut UserRecord, ctx: &Ctx<'_>, env: &mut Env<'_>) {
    totp::reseal(record, ctx, env);
    codes::reseal(record, ctx, env);
    push::reseal(record, ctx, env);
}

/// What is kept of a short secret (a one-time code, an approval's number): HMAC-
/// SHA-256 under the tenant's pepper of `label|id|value`, bound to what it is for,
/// base64url.
pub(crate) fn peppered(
    ctx: &Ctx<'_>,
    label: &str,
    id: &str,
    value: &str,
) -> Result<String, CoreError> {
    use hmac::{Hmac, KeyInit, Mac};
    let pepper = ctx.tenant.backup_code_pepper(ctx.master)?;
    let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&pepper)
        .map_err(|_| CoreError::Internal("pepper".into()))?;
    for part in [label, "|", id, "|", value] {
        mac.update(part.as_bytes());
    }
    Ok(edge_mfa_jose::b64url_encode(&mac.finalize().into_bytes()))
}

/// `digits` decimal digits, uniformly random (a one-time code, an approval's
/// number).
pub(crate) fn random_digits(digits: u32, env: &mut Env<'_>) -> String {
    let modulus = 10u64.pow(digits);
    // Uniform: draw again above the largest multiple of the modulus.
    let limit = u64::MAX - u64::MAX % modulus;
    let value = loop {
        let n = u64::from_le_bytes(env.bytes::<8>());
        if n < limit {
            break n % modulus;
        }
    };
    format!("{value:0width$}", width = digits as usize)
}

/// Counts a failed attempt towards the lockout; the one that locks starts it
/// (`lockout.started`, event and notification).
pub(crate) fn count_failure(record: &mut UserRecord, ctx: &Ctx<'_>, env: &mut Env<'_>) {
    let lockout = &ctx.tenant.policy.lockout;
    let was_locked = record.failures.locked_for(lockout, env.now).is_some();
    record.failures.record(lockout, env.now);
    if let (false, Some(retry_after)) = (was_locked, record.failures.locked_for(lockout, env.now)) {
        let until = env.now + retry_after;
        events::lockout_started(record, ctx, until, env);
        let data = serde_json::json!({ "until": until });
        crate::notify::queue(
            record,
            ctx.tenant,
            ctx.user.as_str(),
            "lockout.started",
            data,
            env,
        );
    }
}

pub(crate) fn run(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    command: UserCommand,
    step_up: bool,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    if command.issues_proof_or_binds_factor() {
        policy_gate(ctx)?;
    }
    let before_factors: Vec<FactorView> = record.factors.iter().map(FactorView::from).collect();
    match command {
        #[cfg(feature = "enroll")]
        UserCommand::ListFactors => Ok(Outcome::Factors {
            factors: record.factors.iter().map(FactorView::from).collect(),
            backup_codes_remaining: backup_codes_remaining(record),
        }),
        #[cfg(feature = "enroll")]
        UserCommand::EnrollTotp { name, account } => {
            start_enrollment(record, ctx, Method::Totp, step_up)?;
            totp::enroll(record, ctx, name, &account, env)
        }
        #[cfg(feature = "enroll")]
        UserCommand::EnrollWebauthn { name, user_name } => {
            start_enrollment(record, ctx, Method::Webauthn, step_up)?;
            webauthn::enroll(record, ctx, name, &user_name, env)
        }
        #[cfg(feature = "enroll")]
        UserCommand::EnrollCode {
            method,
            name,
            destination,
            vouched,
        } => {
            if !matches!(method, Method::Sms | Method::Email) {
                return Err(invalid("codes are sent for sms and email only"));
            }
            start_enrollment(record, ctx, method, step_up)?;
            codes::enroll(record, ctx, method, name, destination, vouched, env)
        }
        #[cfg(feature = "enroll")]
        UserCommand::EnrollPush { name } => {
            start_enrollment(record, ctx, Method::Push, step_up)?;
            push::enroll(record, name, env)
        }
        #[cfg(feature = "verify")]
        UserCommand::PushActivationOptions {
            enrollment_id,
            activation_code,
            rp_id,
            user_name,
        } => push::activation_options(
            record,
            ctx,
            &enrollment_id,
            activation_code.expose(),
            &rp_id,
            &user_name,
            env,
        ),
        #[cfg(feature = "verify")]
        UserCommand::ActivatePush {
            enrollment_id,
            activation_code,
            credential,
            subscription,
            origin,
            name,
        } => {
            require_allowed(ctx, Method::Push)?;
            let phone = push::Activation {
                enrollment_id: &enrollment_id,
                code: activation_code.expose(),
                credential: &credential,
                subscription: &subscription,
                origin: &origin,
                name,
            };
            push::activate(record, ctx, &phone, env)
        }
        #[cfg(feature = "verify")]
        UserCommand::VerifyPush { challenge_id } => {
            require_allowed(ctx, Method::Push)?;
            push::verify(record, ctx, &challenge_id, env)
        }
        #[cfg(feature = "verify")]
        UserCommand::ApprovalContext { challenge_id } => push::context(record, &challenge_id),
        #[cfg(feature = "verify")]
        UserCommand::AnswerApproval {
            challenge_id,
            answer,
            credential,
        } => push::answer(record, ctx, &challenge_id, &answer, &credential, env),
        #[cfg(feature = "challenge")]
        UserCommand::Resend { challenge_id } => codes::resend(record, ctx, &challenge_id, env),
        #[cfg(any(feature = "enroll", feature = "challenge"))]
        UserCommand::VoidCode { id, .. } => Ok(codes::void(record, &id)),
        #[cfg(feature = "enroll")]
        UserCommand::Confirm {
            enrollment_id,
            with,
        } => confirm(record, ctx, &enrollment_id, with, env),
        #[cfg(feature = "enroll")]
        UserCommand::RenameFactor { factor_id, name } => {
            // Relabelling someone's authenticators is changing factors: step-up.
            require_step_up(record, step_up)?;
            rename_factor(record, &factor_id, name)
        }
        #[cfg(feature = "enroll")]
        UserCommand::DeleteFactor { factor_id } => {
            let outcome = delete_factor(record, &factor_id, step_up)?;
            if let Outcome::Deleted = &outcome
                && let Some(view) = removed_view(&before_factors, &factor_id)
            {
                crate::notify::queue(
                    record,
                    ctx.tenant,
                    ctx.user.as_str(),
                    "factor.removed",
                    crate::notify::factor(&view),
                    env,
                );
            }
            Ok(outcome)
        }
        #[cfg(feature = "challenge")]
        UserCommand::Challenge { factor_id, method } => {
            challenge(record, ctx, factor_id, method, env)
        }
        #[cfg(feature = "verify")]
        UserCommand::VerifyCode {
            challenge_id,
            method,
            code,
        } => {
            // A challenge whose code was sent (SMS, email) is checked against it.
            if let Some((index, challenge)) = challenge_id
                .as_deref()
                .and_then(|id| find_challenge(record, id).ok())
                .filter(|(_, c)| c.code.is_some())
            {
                require_allowed(ctx, challenge.method)?;
                return codes::verify(record, ctx, index, code.expose(), env);
            }
            require_allowed(ctx, Method::Totp)?;
            require_unlocked(record, ctx, env.now)?;
            totp::verify(
                record,
                ctx,
                challenge_id.as_deref(),
                method,
                code.expose(),
                env,
            )
        }
        #[cfg(feature = "verify")]
        UserCommand::VerifyCredential {
            challenge_id,
            credential,
        } => {
            // No lockout here: an assertion cannot be guessed, and a lockout shared
            // with the codes would let anyone with the password shut the user out
            // of their passkey (docs/SECURITY.md "Lockout").
            require_allowed(ctx, Method::Webauthn)?;
            webauthn::verify(record, ctx, &challenge_id, &credential, env)
        }
        #[cfg(feature = "backup-codes")]
        UserCommand::RedeemBackupCode { code } => {
            require_allowed(ctx, Method::BackupCode)?;
            require_unlocked(record, ctx, env.now)?;
            backup_codes::redeem(record, ctx, code.expose(), env)
        }
        #[cfg(feature = "backup-codes")]
        UserCommand::RegenerateBackupCodes => backup_codes::regenerate(record, ctx, step_up, env),
        #[cfg(feature = "assess")]
        UserCommand::Assess {
            groups,
            ip,
            device_token,
        } => assess::assess(
            record,
            ctx,
            &groups,
            ip.as_deref(),
            device_token.as_ref().map(|t| t.expose().as_str()),
            env,
        ),
        #[cfg(feature = "admin")]
        UserCommand::Bypass { minutes } => assess::bypass(record, minutes, env.now),
        #[cfg(feature = "admin")]
        UserCommand::EndBypass => {
            record.bypass_until = None;
            Ok(Outcome::BypassEnded)
        }
        #[cfg(feature = "admin")]
        UserCommand::Unlock => {
            record.failures.clear();
            Ok(Outcome::Unlocked)
        }
        #[cfg(feature = "admin")]
        UserCommand::Erase => {
            *record = UserRecord::default();
            Ok(Outcome::Erased)
        }
        #[cfg(feature = "devices")]
        UserCommand::ListDevices => {
            require_step_up(record, step_up)?;
            Ok(devices::list(record))
        }
        #[cfg(feature = "devices")]
        UserCommand::RevokeDevice { device_id } => {
            require_step_up(record, step_up)?;
            devices::revoke(record, &device_id)
        }
        #[cfg(feature = "admin")]
        UserCommand::ClearDevices => {
            record.trusted_devices.clear();
            Ok(Outcome::DevicesCleared)
        }
        #[cfg(feature = "admin")]
        UserCommand::Status => Ok(Outcome::Status(status(record, ctx, env.now))),
        #[cfg(feature = "admin")]
        UserCommand::Reset => {
            reset(record);
            Ok(Outcome::Reset)
        }
        #[cfg(feature = "admin")]
        UserCommand::SetRequirement {
            required,
            enrollment_days,
        } => {
            help::set_requirement(record, required, enrollment_days, env.now)?;
            Ok(Outcome::Status(status(record, ctx, env.now)))
        }
        #[cfg(feature = "assess")]
        UserCommand::AskForHelp { message } => help::ask(record, ctx, message, env),
        #[cfg(feature = "admin")]
        UserCommand::ResolveHelp {
            request_id,
            action,
            minutes,
            note,
        } => help::resolve(record, &request_id, action, minutes, note, env.now),
        // A command of an operation this build leaves out: the API of such a build
        // never sends one. The full build matches every command by name.
        #[cfg(not(every_operation))]
        _ => Err(CoreError::Internal(
            "this build of the core leaves that operation out".into(),
        )),
    }
}

/// Forgets every factor, code, device and pending operation; keeps what the admin
/// and the tenant-wide views need (first seen, requirement, help, revision).
pub(crate) fn reset(record: &mut UserRecord) {
    *record = UserRecord {
        first_seen: record.first_seen,
        requirement: record.requirement.take(),
        help: record.help.take(),
        help_asked: std::mem::take(&mut record.help_asked),
        revision: record.revision,
        ..UserRecord::default()
    };
}

fn removed_view(before: &[FactorView], id: &str) -> Option<FactorView> {
    before.iter().find(|f| f.id == id).cloned()
}

pub(crate) use assess::enrollment_of;

pub(crate) fn invalid(message: impl Into<String>) -> CoreError {
    CoreError::InvalidRequest(message.into())
}

/// Complete mediation: the policy's outright refusals (a denied country) hold for
/// every command that issues proof or binds a factor, not only for `assess`, so a
/// client cannot skip the decision and go straight to `verify`. Runs before
/// anything is read or changed: a refused request records nothing.
fn policy_gate(ctx: &Ctx<'_>) -> Result<(), CoreError> {
    if ctx
        .tenant
        .policy
        .denies_country(ctx.context.country.as_deref())
    {
        return Err(CoreError::Forbidden(
            "the tenant's policy refuses requests from this country".into(),
        ));
    }
    Ok(())
}

fn backup_codes_remaining(record: &UserRecord) -> usize {
    record
        .backup_codes
        .as_ref()
        .map_or(0, BackupCodeSet::remaining)
}

/// What every enrollment checks before it starts.
fn start_enrollment(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    method: Method,
    step_up: bool,
) -> Result<(), CoreError> {
    require_allowed(ctx, method)?;
    require_step_up(record, step_up)?;
    require_room_for_factor(record)?;
    if record.pending.len() >= MAX_PENDING {
        record.pending.remove(0);
    }
    Ok(())
}

fn require_room_for_factor(record: &UserRecord) -> Result<(), CoreError> {
    if record.factors.len() >= MAX_FACTORS {
        return Err(CoreError::Conflict(format!(
            "a user may have at most {MAX_FACTORS} factors"
        )));
    }
    Ok(())
}

/// Only methods the policy allows may be enrolled, challenged or verified: an
/// admin who removes a method stops its use at once.
pub(super) fn require_allowed(ctx: &Ctx<'_>, method: Method) -> Result<(), CoreError> {
    if ctx.tenant.policy.allowed_methods.contains(&method) {
        Ok(())
    } else {
        Err(invalid(format!(
            "{} is not allowed by the tenant's policy",
            method.as_str()
        )))
    }
}

/// API.md: once a user has a factor, changing factors needs a recent second factor,
/// so a stolen password alone cannot add the thief's device.
fn require_step_up(record: &UserRecord, step_up: bool) -> Result<(), CoreError> {
    if record.has_factor() && !step_up {
        Err(CoreError::StepUpRequired)
    } else {
        Ok(())
    }
}

/// Before a guessable code is evaluated: while locked, nothing is.
pub(crate) fn require_unlocked(
    record: &UserRecord,
    ctx: &Ctx<'_>,
    now: u64,
) -> Result<(), CoreError> {
    match record.failures.locked_for(&ctx.tenant.policy.lockout, now) {
        Some(retry_after) => Err(CoreError::RateLimited { retry_after }),
        None => Ok(()),
    }
}

/// A factor's name as sent: at most 64 characters counted as sent (as the
/// document's `maxLength` counts them), printable once trimmed; empty is
/// `default`.
pub(crate) fn factor_name(name: Option<String>, default: &str) -> Result<String, CoreError> {
    let sent = name.unwrap_or_default();
    let name = sent.trim().to_string();
    if sent.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(invalid(format!(
            "name must be at most {MAX_NAME_CHARS} printable characters"
        )));
    }
    if name.is_empty() {
        return Ok(default.to_string());
    }
    Ok(name)
}

fn take_pending(
    record: &mut UserRecord,
    enrollment_id: &str,
) -> Result<PendingEnrollment, CoreError> {
    let index = record
        .pending
        .iter()
        .position(|p| p.id == enrollment_id)
        .ok_or_else(|| {
            CoreError::Expired("the enrollment has expired or was already confirmed".into())
        })?;
    Ok(record.pending.remove(index))
}

fn confirm(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    enrollment_id: &str,
    with: ConfirmWith,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    if matches!(with, ConfirmWith::Activation) && push::awaiting_activation(record, enrollment_id) {
        return Ok(Outcome::Pending);
    }
    let pending = take_pending(record, enrollment_id)?;
    // What `enroll` checked may have changed since: the admin may have removed the
    // method, and other enrollments may have filled the user's factors.
    require_allowed(ctx, pending.kind.method())?;
    require_room_for_factor(record)?;
    let factor = match (pending.kind.clone(), with) {
        (crate::user::PendingKind::Totp(totp), ConfirmWith::Code(code)) => {
            require_unlocked(record, ctx, env.now)?;
            totp::confirm(ctx, &pending, totp, code.expose(), env)?
        }
        (crate::user::PendingKind::Webauthn(ceremony), ConfirmWith::Credential(credential)) => {
            webauthn::confirm(record, ctx, &pending, &ceremony, &credential, env)?
        }
        (crate::user::PendingKind::Code(enrollment), ConfirmWith::Code(code)) => {
            require_unlocked(record, ctx, env.now)?;
            codes::confirm(ctx, &pending, enrollment, code.expose(), env)?
        }
        (crate::user::PendingKind::Push(push), ConfirmWith::Activation) => {
            let activated = push
                .activated
                .ok_or_else(|| CoreError::Internal("a push enrollment not activated".into()))?;
            // The factor keeps the enrollment's id: its subscription is sealed to it.
            Factor {
                id: pending.id.clone(),
                name: pending.name.clone(),
                created_at: env.now,
                last_used_at: None,
                kind: FactorKind::Push(activated),
            }
        }
        (crate::user::PendingKind::Push(_), _) => {
            return Err(invalid(
                "a push enrollment is confirmed by its phone's activation: send neither code nor credential",
            ));
        }
        (_, ConfirmWith::Activation) => {
            return Err(invalid("give either code or credential"));
        }
        (crate::user::PendingKind::Code(_), ConfirmWith::Credential(_)) => {
            return Err(invalid("this enrollment is confirmed with the code sent"));
        }
        (crate::user::PendingKind::Totp(_), ConfirmWith::Credential(_)) => {
            return Err(invalid("a TOTP enrollment is confirmed with a code"));
        }
        (crate::user::PendingKind::Webauthn(_), ConfirmWith::Code(_)) => {
            return Err(invalid(
                "a WebAuthn enrollment is confirmed with a credential",
            ));
        }
    };
    add_factor(record, ctx, factor, true, env)
}

/// Adds a confirmed factor. The user's first one also brings backup codes (when
/// the policy enables them) and, if the user just `proved` it, the proof that ends
/// the sign-in.
pub(super) fn add_factor(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    factor: Factor,
    proved: bool,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    require_room_for_factor(record)?;
    let view = FactorView::from(&factor);
    let first_factor = !record.has_factor();
    // The user just proved the factor; the first one ends with proof, so the SPA
    // need not verify again (with a TOTP step this confirm has already used).
    let credential = match &factor.kind {
        FactorKind::Webauthn(w) => Some(w),
        FactorKind::Push(push) => Some(&push.credential),
        _ => None,
    };
    let proof = (first_factor && proved).then(|| Verified {
        user_verified: credential.is_some_and(|w| w.user_verified),
        synced: credential.is_some_and(|w| w.backup_eligible),
        ..Verified::new(factor.kind.method(), Some(factor.id.clone()), env.now)
    });
    if first_factor {
        // Other enrollments were started without step-up, which was right while the
        // user had no factor; from now on adding a factor needs it, so they are void.
        record.pending.clear();
    }
    record.factors.push(factor);
    crate::notify::queue(
        record,
        ctx.tenant,
        ctx.user.as_str(),
        "factor.enrolled",
        crate::notify::factor(&view),
        env,
    );
    let backup_codes = if first_factor && ctx.tenant.policy.backup_codes.enabled {
        Some(backup_codes::generate(record, ctx, env)?)
    } else {
        None
    };
    let verified = proof.map(|verified| passed(record, ctx, verified, env));
    Ok(Outcome::Confirmed {
        factor: view,
        backup_codes: backup_codes.map(Secret::new),
        verified,
    })
}

fn rename_factor(
    record: &mut UserRecord,
    factor_id: &str,
    name: String,
) -> Result<Outcome, CoreError> {
    let name = factor_name(Some(name), "")?;
    if name.is_empty() {
        return Err(invalid("name must not be empty"));
    }
    let factor = record
        .factors
        .iter_mut()
        .find(|f| f.id == factor_id)
        .ok_or_else(|| CoreError::NotFound("no such factor".into()))?;
    factor.name = name;
    Ok(Outcome::Renamed {
        factor: FactorView::from(&*factor),
    })
}

fn delete_factor(
    record: &mut UserRecord,
    factor_id: &str,
    step_up: bool,
) -> Result<Outcome, CoreError> {
    require_step_up(record, step_up)?;
    let index = record
        .factors
        .iter()
        .position(|f| f.id == factor_id)
        .ok_or_else(|| CoreError::NotFound("no such factor".into()))?;
    record.factors.remove(index);
    record
        .challenges
        .retain(|c| c.factor_id.as_deref() != Some(factor_id));
    // A removed factor may be a lost or stolen one: devices it let in are ended.
    record.trusted_devices.clear();
    if !record.has_factor() {
        // Backup codes recover a factor; with none left they would be a factor of
        // their own that nobody chose.
        record.backup_codes = None;
    }
    Ok(Outcome::Deleted)
}

fn challenge(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    factor_id: Option<String>,
    method: Option<Method>,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    let (factor_id, method) = match (factor_id, method) {
        (Some(id), _) => {
            let method = record
                .factor(&id)
                .ok_or_else(|| CoreError::NotFound("no such factor".into()))?
                .kind
                .method();
            (Some(id), method)
        }
        (None, Some(method)) => {
            let mut of_type = record.factors.iter().filter(|f| f.kind.method() == method);
            let first = of_type.next().ok_or_else(|| {
                CoreError::NotFound(format!("the user has no {} factor", method.as_str()))
            })?;
            match method {
                // A code tested against several secrets would multiply a guesser's
                // chances per attempt, so a code challenge names one factor.
                Method::Totp | Method::Sms | Method::Email | Method::Push
                    if of_type.next().is_some() =>
                {
                    return Err(invalid(format!(
                        "this user has several {} factors: challenge one with its factor_id",
                        method.as_str()
                    )));
                }
                Method::Totp | Method::Sms | Method::Email | Method::Push => {
                    (Some(first.id.clone()), method)
                }
                // An assertion names its credential: any of the user's may answer.
                _ => (None, method),
            }
        }
        (None, None) => return Err(invalid("give factor_id or type")),
    };
    require_allowed(ctx, method)?;
    let (webauthn, public_key) = match method {
        // Its answer would be refused: say so now, with when codes work again.
        Method::Totp => {
            require_unlocked(record, ctx, env.now)?;
            (None, None)
        }
        Method::Webauthn => {
            let (ceremony, options) =
                webauthn::request_options(record, ctx, factor_id.as_deref(), env);
            (Some(ceremony), Some(Box::new(options)))
        }
        Method::Sms | Method::Email => {
            let id = factor_id.unwrap_or_default();
            return codes::challenge(record, ctx, &id, env);
        }
        Method::Push => {
            require_unlocked(record, ctx, env.now)?;
            let id = factor_id.unwrap_or_default();
            return push::challenge(record, ctx, &id, env);
        }
        other => {
            return Err(invalid(format!(
                "challenges for {} are not supported yet",
                other.as_str()
            )));
        }
    };
    let id = random_id(env);
    let expires_at = env.now + CHALLENGE_LIFETIME;
    record.add_challenge(Challenge {
        id: id.clone(),
        method,
        factor_id,
        expires_at,
        webauthn,
        code: None,
        approval: None,
    });
    Ok(Outcome::Challenge {
        challenge_id: id,
        method,
        expires_at,
        public_key,
        delivery: None,
    })
}

/// The challenge `challenge_id`, if it is still open: (index, challenge).
fn find_challenge<'a>(
    record: &'a UserRecord,
    challenge_id: &str,
) -> Result<(usize, &'a Challenge), CoreError> {
    record
        .challenges
        .iter()
        .enumerate()
        .find(|(_, c)| c.id == challenge_id)
        .ok_or_else(|| CoreError::Expired("the challenge has expired or was already used".into()))
}

/// A second factor passed: clear the failures, note the time and country, and
/// remember the device if asked (and the policy allows).
fn succeeded(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    verified: Verified,
    env: &mut Env<'_>,
) -> Outcome {
    Outcome::Verified(passed(record, ctx, verified, env))
}

/// What [`succeeded`] notes on the record; the `Verified` with its device token.
fn passed(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    mut verified: Verified,
    env: &mut Env<'_>,
) -> Verified {
    record.failures.clear();
    record.last_mfa_at = Some(verified.auth_time);
    if let Some(country) = &ctx.context.country
        && !record.known_countries.contains(country)
    {
        if record.known_countries.len() >= MAX_KNOWN_COUNTRIES {
            record.known_countries.remove(0);
        }
        record.known_countries.push(country.clone());
    }
    let remember = &ctx.tenant.policy.remember_device;
    if let Some(label) = &ctx.context.remember_device
        && remember.enabled
    {
        let token = crate::devices::remember(
            &mut record.trusted_devices,
            label.clone(),
            remember.days,
            ctx.tenant.devices_epoch,
            env,
        );
        verified.device_token = Some(Secret::new(token));
        verified.device_expires_at = Some(env.now + u64::from(remember.days) * 86_400);
        let data = serde_json::json!({"device": {"label": label}, "expires_at": verified.device_expires_at});
        crate::notify::queue(
            record,
            ctx.tenant,
            ctx.user.as_str(),
            "device.remembered",
            data,
            env,
        );
    }
    verified
}

fn status(record: &UserRecord, ctx: &Ctx<'_>, now: u64) -> UserStatus {
    UserStatus {
        enrollment: assess::enrollment_of(record, ctx, now),
        trusted_devices: record
            .trusted_devices
            .iter()
            .map(crate::devices::DeviceView::from)
            .collect(),
        bypass_until: record.bypass_until,
        first_seen: record.first_seen,
        factors: record.factors.iter().map(FactorView::from).collect(),
        backup_codes_remaining: backup_codes_remaining(record),
        last_mfa_at: record.last_mfa_at,
        locked_until: record
            .failures
            .locked_for(&ctx.tenant.policy.lockout, now)
            .map(|s| now + s),
        requirement: record.requirement.clone(),
        help_request: record
            .help
            .clone()
            .filter(|h| h.state == crate::help::HelpState::Open),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_factor_name_counts_its_characters_as_sent() {
        let padded = format!("\u{85}key{}", "\u{85}".repeat(MAX_NAME_CHARS - 3));
        assert!(factor_name(Some(padded), "Key").is_err());
        let fits = format!("\u{85}key{}", "\u{85}".repeat(MAX_NAME_CHARS - 4));
        assert_eq!(factor_name(Some(fits), "Key").unwrap(), "key");
        assert_eq!(factor_name(Some("   ".into()), "Key").unwrap(), "Key");
        assert_eq!(factor_name(None, "Key").unwrap(), "Key");
        assert!(factor_name(Some("a\u{1b}b".into()), "Key").is_err());
    }
}
