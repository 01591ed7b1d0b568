//! Backup codes: issued with the first factor, redeemed once, regenerated with step-up.

use super::{Ctx, invalid, require_step_up, succeeded};
use crate::backup_codes::{BackupCodeSet, normalise};
use crate::command::{Outcome, Verified};
use crate::env::Env;
use crate::error::CoreError;
use crate::policy::Method;
use crate::user::UserRecord;

fn require_enabled(ctx: &Ctx<'_>) -> Result<(), CoreError> {
    if ctx.tenant.policy.backup_codes.enabled {
        Ok(())
    } else {
        Err(invalid("backup codes are disabled by the tenant's policy"))
    }
}

/// A new set replaces the old one; returns the codes to show once.
pub(super) fn generate(
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

pub(super) fn redeem(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    code: &str,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    require_enabled(ctx)?;
    if normalise(code).is_none() {
        // Not a guess at any code: refused, and not counted.
        return Err(invalid(
            "a backup code is 12 letters and digits, as printed: xxxx-xxxx-xxxx",
        ));
    }
    let pepper = ctx.tenant.backup_code_pepper(ctx.master)?;
    let user = ctx.user.as_str();
    let redeemed = record
        .backup_codes
        .as_mut()
        .is_some_and(|set| set.redeem(&pepper, user, code, env.now));
    if !redeemed {
        return Err(CoreError::WrongCode(
            "the backup code is wrong or already used".into(),
        ));
    }
    let remaining = record.backup_codes.as_ref().map(BackupCodeSet::remaining);
    let verified = Verified {
        remaining,
        ..Verified::new(Method::BackupCode, None, env.now)
    };
    Ok(succeeded(record, ctx, verified, env))
}

pub(super) fn regenerate(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    step_up: bool,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    require_enabled(ctx)?;
    if !record.has_factor() {
        return Err(CoreError::Conflict(
            "enroll a factor before creating backup codes".into(),
        ));
    }
    require_step_up(record, step_up)?;
    let codes = generate(record, ctx, env)?;
    // "I may be compromised": remembered devices end with the old codes.
    record.trusted_devices.clear();
    let data = serde_json::json!({"count": codes.len()});
    crate::notify::queue(
        record,
        ctx.tenant,
        ctx.user.as_str(),
        "backup_codes.regenerated",
        data,
        env,
    );
    Ok(Outcome::BackupCodes {
        codes: codes.into(),
    })
}
