//! `assess`: the policy decision for this user now, and the admin's bypass.

use super::{Ctx, invalid};
use crate::assess::{Action, Enrollment, Signals, Subject, decide, enrollment};
use crate::command::{FactorView, Outcome};
use crate::env::Env;
use crate::error::CoreError;
use crate::user::UserRecord;

/// API.md: a bypass lasts 1 minute to 7 days.
/// The longest bypass: a week.
pub const MAX_BYPASS_MINUTES: u32 = 10_080;

fn subject<'a>(record: &'a UserRecord, groups: &'a [String], now: u64) -> Subject<'a> {
    Subject {
        has_factor: record.has_factor(),
        first_seen: record.first_seen.unwrap_or(now),
        bypass_until: record.bypass_until,
        groups,
        known_countries: &record.known_countries,
        required_by: record.requirement.as_ref().map(|r| r.deadline),
    }
}

pub(crate) fn enrollment_of(record: &UserRecord, ctx: &Ctx<'_>, now: u64) -> Enrollment {
    enrollment(&ctx.tenant.policy, &subject(record, &[], now), now)
}

pub(super) fn assess(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    groups: &[String],
    ip: Option<&str>,
    device_token: Option<&str>,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    let ip = ip
        .map(|ip| {
            ip.parse()
                .map_err(|_| invalid("the client address is not an IP address"))
        })
        .transpose()?;
    // A remembered device counts only if the policy allows remembering at all, and
    // is not even looked at (its last use not noted) when the answer is `deny`.
    let denied = ctx
        .tenant
        .policy
        .denies_country(ctx.context.country.as_deref());
    let trusted_device = !denied
        && ctx.tenant.policy.remember_device.enabled
        && device_token
            .and_then(|token| crate::devices::find_mut(&mut record.trusted_devices, token, env.now))
            .map(|device| device.last_used_at = env.now)
            .is_some();
    let signals = Signals {
        ip,
        country: ctx.context.country.as_deref(),
        trusted_device,
    };
    let mut decision = decide(
        &ctx.tenant.policy,
        &subject(record, groups, env.now),
        &signals,
        env.now,
    );
    // A user locked out of codes is still asked; the SPA shows when codes work
    // again (WebAuthn is never locked, docs/SECURITY.md "Lockout").
    if decision.action == Action::Challenge
        && let Some(retry_after) = record
            .failures
            .locked_for(&ctx.tenant.policy.lockout, env.now)
    {
        decision.reasons.push("locked".into());
        decision.retry_after = Some(retry_after);
    }
    Ok(Outcome::Assessed {
        decision,
        factors: record.factors.iter().map(FactorView::from).collect(),
    })
}

pub(super) fn bypass(
    record: &mut UserRecord,
    minutes: u32,
    now: u64,
) -> Result<Outcome, CoreError> {
    if !(1..=MAX_BYPASS_MINUTES).contains(&minutes) {
        return Err(invalid(format!("minutes must be 1-{MAX_BYPASS_MINUTES}")));
    }
    let until = now + u64::from(minutes) * 60;
    record.bypass_until = Some(until);
    Ok(Outcome::Bypassed {
        bypass_until: until,
    })
}
