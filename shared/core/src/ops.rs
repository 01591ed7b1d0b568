//! The operations on one user's record. Each validates first and mutates after, and
//! [`crate::execute`] restores the record on any refusal, so a half-done change can
//! never be stored.

use edge_mfa_otp::{KeyUri, TotpError};

use crate::backup_codes::BackupCodeSet;
use crate::command::{FactorView, Outcome, UserCommand, UserRequest, UserStatus, Verified};
use crate::env::Env;
use crate::error::CoreError;
use crate::ids::{UserId, random_id};
use crate::policy::Method;
use crate::seal::MasterKey;
use crate::tenant::Tenant;
use crate::user::{
    CHALLENGE_LIFETIME, Challenge, ENROLLMENT_LIFETIME, Factor, FactorKind, MAX_CHALLENGES,
    MAX_FACTORS, MAX_PENDING, PendingEnrollment, PendingKind, TotpFactor, UserRecord,
    totp_secret_context,
};

/// A TOTP secret is 160 bits (RFC 4226 §4 recommends 160).
const TOTP_SECRET_LEN: usize = 20;
const MAX_NAME_CHARS: usize = 64;

pub(crate) struct Ctx<'a> {
    pub tenant: &'a Tenant,
    pub master: &'a MasterKey,
    pub user: &'a UserId,
}

pub(crate) fn run(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    request: UserRequest,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    let step_up = request.step_up;
    match request.command {
        UserCommand::ListFactors => Ok(Outcome::Factors {
            factors: record.factors.iter().map(FactorView::from).collect(),
            backup_codes_remaining: record
                .backup_codes
                .as_ref()
                .map_or(0, BackupCodeSet::remaining),
        }),
        UserCommand::EnrollTotp { name, account } => {
            enroll_totp(record, ctx, name, &account, step_up, env)
        }
        UserCommand::Confirm {
            enrollment_id,
            code,
        } => confirm(record, ctx, &enrollment_id, &code, env),
        UserCommand::DeleteFactor { factor_id } => delete_factor(record, &factor_id, step_up),
        UserCommand::Challenge { factor_id, method } => challenge(record, factor_id, method, env),
        UserCommand::VerifyCode {
            challenge_id,
            method,
            code,
        } => verify_code(record, ctx, challenge_id.as_deref(), method, &code, env),
        UserCommand::RedeemBackupCode { code } => redeem_backup_code(record, ctx, &code, env),
        UserCommand::RegenerateBackupCodes => regenerate_backup_codes(record, ctx, step_up, env),
        UserCommand::Status => Ok(Outcome::Status(status(record, ctx, env.now))),
        UserCommand::Reset => {
            *record = UserRecord {
                first_seen: record.first_seen,
                ..UserRecord::default()
            };
            Ok(Outcome::Reset)
        }
    }
}

fn invalid(message: impl Into<String>) -> CoreError {
    CoreError::InvalidRequest(message.into())
}

fn require_allowed(ctx: &Ctx<'_>, method: Method) -> Result<(), CoreError> {
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

fn require_unlocked(record: &UserRecord, ctx: &Ctx<'_>, now: u64) -> Result<(), CoreError> {
    match record.failures.locked_for(&ctx.tenant.policy.lockout, now) {
        Some(retry_after) => Err(CoreError::RateLimited { retry_after }),
        None => Ok(()),
    }
}

fn factor_name(name: Option<String>, default: &str) -> Result<String, CoreError> {
    let name = name.map(|n| n.trim().to_string()).unwrap_or_default();
    if name.is_empty() {
        return Ok(default.to_string());
    }
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(invalid(format!(
            "name must be at most {MAX_NAME_CHARS} printable characters"
        )));
    }
    Ok(name)
}

fn enroll_totp(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    name: Option<String>,
    account: &str,
    step_up: bool,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    require_allowed(ctx, Method::Totp)?;
    require_step_up(record, step_up)?;
    if record.factors.len() >= MAX_FACTORS {
        return Err(CoreError::Conflict(format!(
            "a user may have at most {MAX_FACTORS} factors"
        )));
    }
    let name = factor_name(name, "Authenticator app")?;
    let policy = ctx.tenant.policy.totp;
    let secret = env.bytes::<TOTP_SECRET_LEN>();
    let id = random_id(env);
    let context = totp_secret_context(ctx.tenant.id.as_str(), ctx.user.as_str(), &id);
    let sealed = ctx.master.seal(&context, &secret, env);
    let key_uri = KeyUri {
        issuer: &ctx.tenant.name,
        account,
        secret: &secret,
        totp: policy.totp(),
    };
    let expires_at = env.now + ENROLLMENT_LIFETIME;
    if record.pending.len() >= MAX_PENDING {
        record.pending.remove(0);
    }
    record.pending.push(PendingEnrollment {
        id: id.clone(),
        name,
        created_at: env.now,
        expires_at,
        kind: PendingKind::Totp(TotpFactor {
            secret: sealed,
            algorithm: policy.algorithm,
            digits: policy.digits,
            period: policy.period,
            last_step: None,
        }),
    });
    Ok(Outcome::TotpEnrollment {
        enrollment_id: id,
        secret: key_uri.secret_base32(),
        otpauth_uri: key_uri.to_uri(),
        expires_at,
    })
}

fn open_totp_secret(
    ctx: &Ctx<'_>,
    owner_id: &str,
    totp: &TotpFactor,
) -> Result<Vec<u8>, CoreError> {
    let context = totp_secret_context(ctx.tenant.id.as_str(), ctx.user.as_str(), owner_id);
    ctx.master
        .open(&context, &totp.secret)
        .map_err(|_| CoreError::Internal("TOTP secret does not open".into()))
}

fn wrong_code(error: TotpError) -> CoreError {
    CoreError::VerificationFailed(
        match error {
            TotpError::Malformed => "the code must be the digits the authenticator app shows",
            TotpError::Mismatch | TotpError::Replayed => {
                "the code is wrong, expired or already used"
            }
        }
        .into(),
    )
}

fn confirm(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    enrollment_id: &str,
    code: &str,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    require_unlocked(record, ctx, env.now)?;
    let index = record
        .pending
        .iter()
        .position(|p| p.id == enrollment_id)
        .ok_or_else(|| {
            CoreError::Expired("the enrollment has expired or was already confirmed".into())
        })?;
    let pending = record.pending.remove(index);
    let PendingKind::Totp(mut totp) = pending.kind;
    let secret = open_totp_secret(ctx, &pending.id, &totp)?;
    let skew = ctx.tenant.policy.totp.skew;
    let step = totp
        .totp(skew)
        .verify(&secret, code.trim(), env.now, None)
        .map_err(wrong_code)?;

    // The factor gets an id of its own, and its secret a seal bound to that id.
    let id = random_id(env);
    totp.secret = ctx.master.seal(
        &totp_secret_context(ctx.tenant.id.as_str(), ctx.user.as_str(), &id),
        &secret,
        env,
    );
    totp.last_step = Some(step);
    let first_factor = !record.has_factor();
    let factor = Factor {
        id,
        name: pending.name,
        created_at: env.now,
        last_used_at: Some(env.now),
        kind: FactorKind::Totp(totp),
    };
    let view = FactorView::from(&factor);
    record.factors.push(factor);
    let backup_codes = if first_factor && ctx.tenant.policy.backup_codes.enabled {
        Some(new_backup_codes(record, ctx, env)?)
    } else {
        None
    };
    Ok(Outcome::Confirmed {
        factor: view,
        backup_codes,
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
    if !record.has_factor() {
        // Backup codes recover a factor; with none left they would be a factor of
        // their own that nobody chose.
        record.backup_codes = None;
    }
    Ok(Outcome::Deleted)
}

fn challenge(
    record: &mut UserRecord,
    factor_id: Option<String>,
    method: Option<Method>,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    let method = match (&factor_id, method) {
        (Some(id), _) => record
            .factor(id)
            .ok_or_else(|| CoreError::NotFound("no such factor".into()))?
            .kind
            .method(),
        (None, Some(method)) => {
            if !record.factors.iter().any(|f| f.kind.method() == method) {
                return Err(CoreError::NotFound(format!(
                    "the user has no {} factor",
                    method.as_str()
                )));
            }
            method
        }
        (None, None) => return Err(invalid("give factor_id or type")),
    };
    if method != Method::Totp {
        return Err(invalid(format!(
            "challenges for {} are not supported yet",
            method.as_str()
        )));
    }
    if record.challenges.len() >= MAX_CHALLENGES {
        record.challenges.remove(0);
    }
    let id = random_id(env);
    let expires_at = env.now + CHALLENGE_LIFETIME;
    record.challenges.push(Challenge {
        id: id.clone(),
        method,
        factor_id,
        expires_at,
    });
    Ok(Outcome::Challenge {
        challenge_id: id,
        method,
        expires_at,
    })
}

fn verify_code(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    challenge_id: Option<&str>,
    method: Option<Method>,
    code: &str,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    require_unlocked(record, ctx, env.now)?;
    let (challenge_index, factor_id) = match challenge_id {
        Some(id) => {
            let index = record
                .challenges
                .iter()
                .position(|c| c.id == id)
                .ok_or_else(|| {
                    CoreError::Expired("the challenge has expired or was already used".into())
                })?;
            let factor_id = record
                .challenges
                .get(index)
                .and_then(|c| c.factor_id.clone());
            (Some(index), factor_id)
        }
        None if method == Some(Method::Totp) => (None, None),
        None => return Err(invalid("give challenge_id, or type \"totp\" with the code")),
    };
    let skew = ctx.tenant.policy.totp.skew;
    let mut error = TotpError::Mismatch;
    let mut matched = None;
    for (i, factor) in record.factors.iter().enumerate() {
        let FactorKind::Totp(totp) = &factor.kind;
        if factor_id.as_deref().is_some_and(|id| id != factor.id) {
            continue;
        }
        let secret = open_totp_secret(ctx, &factor.id, totp)?;
        match totp
            .totp(skew)
            .verify(&secret, code.trim(), env.now, totp.last_step)
        {
            Ok(step) => {
                matched = Some((i, step));
                break;
            }
            Err(TotpError::Malformed) => error = TotpError::Malformed,
            Err(_) => {}
        }
    }
    let (index, step) = matched.ok_or_else(|| wrong_code(error))?;
    let factor = record
        .factors
        .get_mut(index)
        .ok_or_else(|| CoreError::Internal("factor index".into()))?;
    let FactorKind::Totp(totp) = &mut factor.kind;
    totp.last_step = Some(step);
    factor.last_used_at = Some(env.now);
    let factor_id = Some(factor.id.clone());
    if let Some(i) = challenge_index {
        record.challenges.remove(i);
    }
    Ok(Outcome::Verified(succeeded(
        record,
        Method::Totp,
        factor_id,
        None,
        env.now,
    )))
}

fn succeeded(
    record: &mut UserRecord,
    method: Method,
    factor_id: Option<String>,
    remaining: Option<usize>,
    now: u64,
) -> Verified {
    record.failures.clear();
    record.last_mfa_at = Some(now);
    Verified {
        method,
        factor_id,
        auth_time: now,
        remaining,
    }
}

fn redeem_backup_code(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    code: &str,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    require_unlocked(record, ctx, env.now)?;
    if !ctx.tenant.policy.backup_codes.enabled {
        return Err(invalid("backup codes are disabled by the tenant's policy"));
    }
    let pepper = ctx.tenant.backup_code_pepper(ctx.master)?;
    let user = ctx.user.as_str();
    let redeemed = record
        .backup_codes
        .as_mut()
        .is_some_and(|set| set.redeem(&pepper, user, code, env.now));
    if !redeemed {
        return Err(CoreError::VerificationFailed(
            "the backup code is wrong or already used".into(),
        ));
    }
    let remaining = record.backup_codes.as_ref().map(BackupCodeSet::remaining);
    Ok(Outcome::Verified(succeeded(
        record,
        Method::BackupCode,
        None,
        remaining,
        env.now,
    )))
}

fn new_backup_codes(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    env: &mut Env<'_>,
) -> Result<Vec<String>, CoreError> {
    let pepper = ctx.tenant.backup_code_pepper(ctx.master)?;
    let count = ctx.tenant.policy.backup_codes.count;
    let (set, codes) = BackupCodeSet::generate(count, &pepper, ctx.user.as_str(), env);
    record.backup_codes = Some(set);
    Ok(codes)
}

fn regenerate_backup_codes(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    step_up: bool,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    if !ctx.tenant.policy.backup_codes.enabled {
        return Err(invalid("backup codes are disabled by the tenant's policy"));
    }
    if !record.has_factor() {
        return Err(CoreError::Conflict(
            "enroll a factor before creating backup codes".into(),
        ));
    }
    require_step_up(record, step_up)?;
    Ok(Outcome::BackupCodes {
        codes: new_backup_codes(record, ctx, env)?,
    })
}

fn status(record: &UserRecord, ctx: &Ctx<'_>, now: u64) -> UserStatus {
    UserStatus {
        enrolled: record.has_factor(),
        factors: record.factors.iter().map(FactorView::from).collect(),
        backup_codes_remaining: record
            .backup_codes
            .as_ref()
            .map_or(0, BackupCodeSet::remaining),
        first_seen: record.first_seen,
        last_mfa_at: record.last_mfa_at,
        locked_until: record
            .failures
            .locked_for(&ctx.tenant.policy.lockout, now)
            .map(|s| now + s),
    }
}
