//! One-time codes sent by SMS and email (API.md "Email and SMS codes").
//!
//! A code is 6–8 digits from the CSPRNG, valid `delivery.code_ttl_seconds`, used
//! once; only its HMAC under the tenant's pepper, bound to the challenge or
//! enrollment id, is stored, and a presented code is compared in constant time.
//! Sending again voids the earlier code, waits `resend_after_seconds` and stops
//! after `max_sends_per_challenge`; a send never resets the failure count (NIST SP
//! 800-63B §5.2.2), and a wrong code counts toward the lockout like a TOTP code.
//! The core makes the code; the API layer sends it through the tenant's webhook and
//! voids it ([`void`]) when the webhook does not take it.

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::{Ctx, invalid, passed, require_unlocked};
use crate::command::{CodeDelivery, CodePurpose, Outcome, Verified};
use crate::env::Env;
use crate::error::CoreError;
use crate::ids::random_id;
use crate::policy::Method;
use crate::secret::Secret;
use crate::user::{
    CHALLENGE_LIFETIME, Challenge, CodeEnrollment, Destination, Factor, FactorKind, OneTimeCode,
    PendingEnrollment, PendingKind, UserRecord,
};

/// Codes sent to one user per hour at most, whatever the tenant's limits: a
/// ticket cannot make edge-mfa a messaging service (docs/SECURITY.md "SMS pumping").
pub const MAX_SENDS_PER_USER_PER_HOUR: usize = 10;
const HOUR: u64 = 3600;

/// A destination as the API validated it: an E.164 number or an email address,
/// its masked form, and (SMS) its calling code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDestination {
    pub to: Secret<String>,
    pub masked: String,
    #[serde(default)]
    pub calling_code: Option<String>,
}

fn context(ctx: &Ctx<'_>) -> String {
    format!("destination|{}|{}", ctx.tenant.id, ctx.user.as_str())
}

fn hash(ctx: &Ctx<'_>, id: &str, code: &str) -> Result<String, CoreError> {
    super::peppered(ctx, "one-time code", id, code)
}

/// A fresh code of the policy's length for `id`: (the code, what is kept of it).
fn new_code(
    ctx: &Ctx<'_>,
    id: &str,
    sends: u32,
    env: &mut Env<'_>,
) -> Result<(Secret<String>, OneTimeCode), CoreError> {
    let code = super::random_digits(u32::from(ctx.tenant.policy.delivery.code_digits), env);
    let kept = OneTimeCode {
        hash: hash(ctx, id, &code)?,
        expires_at: env.now + ctx.tenant.policy.delivery.code_ttl_seconds,
        sent_at: env.now,
        sends,
    };
    Ok((Secret::new(code), kept))
}

/// Counts a send to this user; refused beyond [`MAX_SENDS_PER_USER_PER_HOUR`].
fn note_send(record: &mut UserRecord, now: u64) -> Result<(), CoreError> {
    record.sends.retain(|&t| t + HOUR > now);
    if record.sends.len() >= MAX_SENDS_PER_USER_PER_HOUR {
        let oldest = record.sends.first().copied().unwrap_or(now);
        return Err(CoreError::RateLimited {
            retry_after: (oldest + HOUR).saturating_sub(now).max(1),
        });
    }
    record.sends.push(now);
    Ok(())
}

/// SMS only to the calling codes the policy allows (empty: any).
fn require_calling_code(
    ctx: &Ctx<'_>,
    destination: &Destination,
    method: Method,
) -> Result<(), CoreError> {
    let allowed = &ctx.tenant.policy.delivery.sms_calling_codes;
    if method != Method::Sms || allowed.is_empty() {
        return Ok(());
    }
    match &destination.calling_code {
        Some(code) if allowed.contains(code) => Ok(()),
        _ => Err(CoreError::Forbidden(format!(
            "the tenant's policy sends SMS only to the calling codes {allowed:?}"
        ))),
    }
}

/// Email only beside another factor, where the policy says so.
fn require_email_allowed(
    record: &UserRecord,
    ctx: &Ctx<'_>,
    method: Method,
) -> Result<(), CoreError> {
    let other = record
        .factors
        .iter()
        .any(|f| !matches!(f.kind, FactorKind::Email(_)));
    if method == Method::Email && ctx.tenant.policy.delivery.email_fallback_only && !other {
        return Err(invalid(
            "the tenant's policy allows email codes only as a fallback: set up an authenticator app or a passkey first",
        ));
    }
    Ok(())
}

/// Starts an SMS or email enrollment: a code to `destination` (or, for an email
/// address the tenant vouches for, the factor at once).
pub(super) fn enroll(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    method: Method,
    name: Option<String>,
    destination: NewDestination,
    vouched: bool,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    require_email_allowed(record, ctx, method)?;
    let sealed = Destination {
        to: ctx
            .master
            .seal(&context(ctx), destination.to.expose().as_bytes(), env),
        masked: destination.masked.clone(),
        calling_code: destination.calling_code.clone(),
    };
    require_calling_code(ctx, &sealed, method)?;
    let default_name = match method {
        Method::Sms => format!("SMS {}", destination.masked),
        _ => format!("Email {}", destination.masked),
    };
    let name = super::factor_name(name, &default_name)?;
    if vouched {
        let factor = Factor {
            id: random_id(env),
            name,
            created_at: env.now,
            last_used_at: None,
            kind: factor_kind(method, sealed),
        };
        return super::add_factor(record, ctx, factor, false, env);
    }
    require_unlocked(record, ctx, env.now)?;
    note_send(record, env.now)?;
    let id = random_id(env);
    let (code, kept) = new_code(ctx, &id, 1, env)?;
    let expires_at = kept.expires_at;
    record.pending.push(PendingEnrollment {
        id: id.clone(),
        name,
        created_at: env.now,
        expires_at: expires_at.max(env.now + CHALLENGE_LIFETIME),
        kind: PendingKind::Code(CodeEnrollment {
            method,
            destination: sealed,
            code: kept,
        }),
    });
    Ok(Outcome::CodeSent(CodeDelivery {
        method,
        purpose: CodePurpose::Enroll,
        id,
        to: destination.to,
        masked: destination.masked,
        calling_code: destination.calling_code,
        code,
        expires_at,
    }))
}

fn factor_kind(method: Method, destination: Destination) -> FactorKind {
    match method {
        Method::Sms => FactorKind::Sms(destination),
        _ => FactorKind::Email(destination),
    }
}

/// Checks `presented` against `kept` for `id`: expired is 410; wrong counts.
fn check(
    ctx: &Ctx<'_>,
    id: &str,
    kept: &OneTimeCode,
    presented: &str,
    now: u64,
) -> Result<(), CoreError> {
    let presented = crate::codes::strip_separators(presented);
    let digits = usize::from(ctx.tenant.policy.delivery.code_digits);
    if presented.len() != digits || !presented.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(format!(
            "the code is the {digits} digits that were sent"
        )));
    }
    if kept.expires_at <= now {
        return Err(CoreError::Expired(
            "the code has expired: ask for a new one".into(),
        ));
    }
    let presented = hash(ctx, id, &presented)?;
    if bool::from(presented.as_bytes().ct_eq(kept.hash.as_bytes())) {
        Ok(())
    } else {
        Err(CoreError::WrongCode("the code is wrong".into()))
    }
}

/// The factor a correct code makes of a pending SMS or email enrollment.
pub(super) fn confirm(
    ctx: &Ctx<'_>,
    pending: &PendingEnrollment,
    enrollment: CodeEnrollment,
    code: &str,
    env: &mut Env<'_>,
) -> Result<Factor, CoreError> {
    check(ctx, &pending.id, &enrollment.code, code, env.now)?;
    Ok(Factor {
        id: random_id(env),
        name: pending.name.clone(),
        created_at: env.now,
        last_used_at: Some(env.now),
        kind: factor_kind(enrollment.method, enrollment.destination),
    })
}

/// A challenge of an SMS or email factor, and the code to send.
pub(super) fn challenge(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    factor_id: &str,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    let factor = record
        .factor(factor_id)
        .ok_or_else(|| CoreError::NotFound("no such factor".into()))?
        .clone();
    let (method, destination) = match &factor.kind {
        FactorKind::Sms(d) => (Method::Sms, d.clone()),
        FactorKind::Email(d) => (Method::Email, d.clone()),
        _ => return Err(invalid("this factor is not answered with a sent code")),
    };
    require_email_allowed(record, ctx, method)?;
    require_calling_code(ctx, &destination, method)?;
    require_unlocked(record, ctx, env.now)?;
    // One live code per factor: a new challenge waits as a resend would, and
    // ends the earlier code.
    let wait = ctx.tenant.policy.delivery.resend_after_seconds;
    if let Some(sent_at) = record
        .challenges
        .iter()
        .filter(|c| c.factor_id.as_deref() == Some(factor_id))
        .filter_map(|c| c.code.as_ref().map(|code| code.sent_at))
        .max()
        && sent_at + wait > env.now
    {
        return Err(CoreError::RateLimited {
            retry_after: sent_at + wait - env.now,
        });
    }
    record
        .challenges
        .retain(|c| c.factor_id.as_deref() != Some(factor_id) || c.code.is_none());
    note_send(record, env.now)?;
    let to = open(ctx, &destination)?;
    let id = random_id(env);
    let (code, kept) = new_code(ctx, &id, 1, env)?;
    let expires_at = kept.expires_at;
    record.add_challenge(Challenge {
        id: id.clone(),
        method,
        factor_id: Some(factor.id.clone()),
        expires_at: expires_at.max(env.now + CHALLENGE_LIFETIME),
        webauthn: None,
        code: Some(kept),
        approval: None,
    });
    Ok(Outcome::Challenge {
        challenge_id: id.clone(),
        method,
        expires_at,
        public_key: None,
        delivery: Some(CodeDelivery {
            method,
            purpose: CodePurpose::Challenge,
            id,
            to,
            masked: destination.masked,
            calling_code: destination.calling_code,
            code,
            expires_at,
        }),
    })
}

fn open(ctx: &Ctx<'_>, destination: &Destination) -> Result<Secret<String>, CoreError> {
    let bytes = ctx
        .master
        .open(&context(ctx), &destination.to)
        .map_err(|_| {
            CoreError::Internal(
                ctx.master
                    .explain_unopenable("a factor's destination", &destination.to),
            )
        })?;
    String::from_utf8(bytes)
        .map(Secret::new)
        .map_err(|_| CoreError::Internal("destination is not UTF-8".into()))
}

/// A new code for an open SMS or email challenge; the earlier one stops working.
pub(super) fn resend(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    challenge_id: &str,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    let delivery = &ctx.tenant.policy.delivery;
    let (index, challenge) = super::find_challenge(record, challenge_id)?;
    let Some(kept) = challenge.code.clone() else {
        return Err(invalid("only SMS and email challenges are sent again"));
    };
    let too_soon = (kept.sent_at + delivery.resend_after_seconds).saturating_sub(env.now);
    if too_soon > 0 {
        return Err(CoreError::RateLimited {
            retry_after: too_soon,
        });
    }
    if kept.sends >= delivery.max_sends_per_challenge {
        return Err(CoreError::RateLimited {
            retry_after: challenge.expires_at.saturating_sub(env.now).max(1),
        });
    }
    let factor_id = challenge.factor_id.clone().unwrap_or_default();
    let method = challenge.method;
    let factor = record
        .factor(&factor_id)
        .ok_or_else(|| CoreError::Expired("the challenged factor was removed".into()))?;
    let (FactorKind::Sms(destination) | FactorKind::Email(destination)) = factor.kind.clone()
    else {
        return Err(invalid("only SMS and email challenges are sent again"));
    };
    super::require_allowed(ctx, method)?;
    require_email_allowed(record, ctx, method)?;
    require_calling_code(ctx, &destination, method)?;
    require_unlocked(record, ctx, env.now)?;
    note_send(record, env.now)?;
    let to = open(ctx, &destination)?;
    let (code, fresh) = new_code(ctx, challenge_id, kept.sends + 1, env)?;
    let expires_at = fresh.expires_at;
    if let Some(c) = record.challenges.get_mut(index) {
        c.expires_at = c.expires_at.max(expires_at);
        c.code = Some(fresh);
    }
    Ok(Outcome::CodeSent(CodeDelivery {
        method,
        purpose: CodePurpose::Challenge,
        id: challenge_id.to_string(),
        to,
        masked: destination.masked,
        calling_code: destination.calling_code,
        code,
        expires_at,
    }))
}

/// Answers an SMS or email challenge with the code sent.
pub(super) fn verify(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    index: usize,
    code: &str,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    require_unlocked(record, ctx, env.now)?;
    let challenge = record
        .challenges
        .get(index)
        .cloned()
        .ok_or_else(|| CoreError::Internal("challenge index".into()))?;
    let kept = challenge
        .code
        .as_ref()
        .ok_or_else(|| invalid("this challenge is not answered with a sent code"))?;
    check(ctx, &challenge.id, kept, code, env.now)?;
    record.challenges.remove(index);
    let factor_id = challenge.factor_id.clone();
    if let Some(f) = factor_id
        .as_deref()
        .and_then(|id| record.factors.iter_mut().find(|f| f.id == id))
    {
        f.last_used_at = Some(env.now);
    }
    let verified = Verified::new(challenge.method, factor_id, env.now);
    Ok(Outcome::Verified(passed(record, ctx, verified, env)))
}

/// Voids the code of challenge or enrollment `id` (its delivery failed).
pub(super) fn void(record: &mut UserRecord, id: &str) -> Outcome {
    record.challenges.retain(|c| c.id != id);
    record.pending.retain(|p| p.id != id);
    Outcome::Voided
}

/// After a `MASTER_KEY` rotation: every destination of the record sealed under the
/// current key, as the record is written anyway.
pub(crate) fn reseal(record: &mut UserRecord, ctx: &Ctx<'_>, env: &mut Env<'_>) {
    let context = context(ctx);
    let factors = record.factors.iter_mut().filter_map(|f| match &mut f.kind {
        FactorKind::Sms(d) | FactorKind::Email(d) => Some(d),
        _ => None,
    });
    let pending = record.pending.iter_mut().filter_map(|p| match &mut p.kind {
        PendingKind::Code(c) => Some(&mut c.destination),
        _ => None,
    });
    for destination in factors.chain(pending) {
        if let Some(sealed) = ctx.master.reseal(&context, &destination.to, env) {
            destination.to = sealed;
        }
    }
}
