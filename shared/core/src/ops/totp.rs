//! TOTP factors: enrollment with an `otpauth://` URI, confirmation, verification
//! with the replay guard of RFC 6238 §5.2.

use edge_mfa_otp::{KeyUri, TotpError};

use super::{Ctx, factor_name, find_challenge, invalid, succeeded};
use crate::codes::strip_separators;
use crate::command::{Outcome, Verified};
use crate::env::Env;
use crate::error::CoreError;
use crate::ids::random_id;
use crate::policy::Method;
use crate::user::{
    ENROLLMENT_LIFETIME, Factor, FactorKind, PendingEnrollment, PendingKind, TotpFactor,
    UserRecord, totp_secret_context,
};

/// A TOTP secret is 160 bits (RFC 4226 §4 recommends 160).
const SECRET_LEN: usize = 20;

fn context(ctx: &Ctx<'_>, owner_id: &str) -> String {
    totp_secret_context(ctx.tenant.id.as_str(), ctx.user.as_str(), owner_id)
}

fn open_secret(ctx: &Ctx<'_>, owner_id: &str, totp: &TotpFactor) -> Result<Vec<u8>, CoreError> {
    ctx.master
        .open(&context(ctx, owner_id), &totp.secret)
        .map_err(|_| CoreError::Internal("TOTP secret does not open".into()))
}

/// A code that is not one (after [`strip_separators`]) is a malformed request and
/// counts for nothing; a well-formed wrong one is a guess and counts.
fn refusal(error: TotpError) -> CoreError {
    match error {
        TotpError::Malformed => invalid("the code must be the digits the authenticator app shows"),
        TotpError::Mismatch => CoreError::WrongCode("the code is wrong or expired".into()),
        // A code the app showed and that was accepted once is no guess: refused,
        // never counted toward the lockout (RFC 6238 §5.2 forbids its reuse).
        TotpError::Replayed => CoreError::VerificationFailed(
            "this code was already used: wait for the app's next code (after confirm, use the mfa_token confirm answered)".into(),
        ),
    }
}

pub(super) fn enroll(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    name: Option<String>,
    account: &str,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    let name = factor_name(name, "Authenticator app")?;
    let policy = ctx.tenant.policy.totp;
    let secret = env.bytes::<SECRET_LEN>();
    let id = random_id(env);
    let sealed = ctx.master.seal(&context(ctx, &id), &secret, env);
    let key_uri = KeyUri {
        issuer: &ctx.tenant.name,
        account,
        secret: &secret,
        totp: policy.totp(),
    };
    let expires_at = env.now + ENROLLMENT_LIFETIME;
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
        secret: key_uri.secret_base32().into(),
        otpauth_uri: key_uri.to_uri().into(),
        expires_at,
    })
}

/// After a `MASTER_KEY` rotation: every TOTP secret of the record (factors and
/// pending enrollments) sealed under the current master key, as the record is
/// written anyway.
pub(crate) fn reseal(record: &mut UserRecord, ctx: &Ctx<'_>, env: &mut Env<'_>) {
    let factors = record.factors.iter_mut().filter_map(|f| match &mut f.kind {
        FactorKind::Totp(totp) => Some((f.id.as_str(), totp)),
        _ => None,
    });
    let pending = record.pending.iter_mut().filter_map(|p| match &mut p.kind {
        PendingKind::Totp(totp) => Some((p.id.as_str(), totp)),
        _ => None,
    });
    for (owner, totp) in factors.chain(pending) {
        if let Some(sealed) = ctx.master.reseal(&context(ctx, owner), &totp.secret, env) {
            totp.secret = sealed;
        }
    }
}

/// The factor a correct code makes of a pending enrollment.
pub(super) fn confirm(
    ctx: &Ctx<'_>,
    pending: &PendingEnrollment,
    mut totp: TotpFactor,
    code: &str,
    env: &mut Env<'_>,
) -> Result<Factor, CoreError> {
    let secret = open_secret(ctx, &pending.id, &totp)?;
    let skew = ctx.tenant.policy.totp.skew;
    let step = totp
        .totp(skew)
        .verify(&secret, &strip_separators(code), env.now, None)
        .map_err(refusal)?;
    // The factor gets an id of its own, and its secret a seal bound to that id.
    let id = random_id(env);
    totp.secret = ctx.master.seal(&context(ctx, &id), &secret, env);
    totp.last_step = Some(step);
    Ok(Factor {
        id,
        name: pending.name.clone(),
        created_at: env.now,
        last_used_at: Some(env.now),
        kind: FactorKind::Totp(totp),
    })
}

pub(super) fn verify(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    challenge_id: Option<&str>,
    method: Option<Method>,
    code: &str,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    let (challenge_index, factor_id) = match challenge_id {
        Some(id) => {
            let (index, challenge) = find_challenge(record, id)?;
            if challenge.method != Method::Totp {
                return Err(invalid(
                    "this challenge is answered with a credential, not a code",
                ));
            }
            (Some(index), challenge.factor_id.clone())
        }
        None if method == Some(Method::Totp) => {
            // One code tried against several secrets would multiply a guesser's
            // chances per attempt: with more than one app, a challenge names the factor.
            let apps = record
                .factors
                .iter()
                .filter(|f| matches!(f.kind, FactorKind::Totp(_)))
                .count();
            if apps > 1 {
                return Err(invalid(
                    "this user has several authenticator apps: start a challenge with the factor_id",
                ));
            }
            (None, None)
        }
        None => return Err(invalid("give challenge_id, or type \"totp\" with the code")),
    };
    let skew = ctx.tenant.policy.totp.skew;
    let code = strip_separators(code);
    let mut error = TotpError::Mismatch;
    let mut matched = None;
    for (i, factor) in record.factors.iter().enumerate() {
        let FactorKind::Totp(totp) = &factor.kind else {
            continue;
        };
        if factor_id.as_deref().is_some_and(|id| id != factor.id) {
            continue;
        }
        let secret = open_secret(ctx, &factor.id, totp)?;
        match totp
            .totp(skew)
            .verify(&secret, &code, env.now, totp.last_step)
        {
            Ok(step) => {
                matched = Some((i, step));
                break;
            }
            Err(TotpError::Malformed) => error = TotpError::Malformed,
            Err(TotpError::Replayed) if error == TotpError::Mismatch => {
                error = TotpError::Replayed;
            }
            Err(_) => {}
        }
    }
    let (index, step) = matched.ok_or_else(|| refusal(error))?;
    let factor = record
        .factors
        .get_mut(index)
        .ok_or_else(|| CoreError::Internal("factor index".into()))?;
    if let FactorKind::Totp(totp) = &mut factor.kind {
        totp.last_step = Some(step);
    }
    factor.last_used_at = Some(env.now);
    let factor_id = Some(factor.id.clone());
    if let Some(i) = challenge_index {
        record.challenges.remove(i);
    }
    let verified = Verified::new(Method::Totp, factor_id, env.now);
    Ok(succeeded(record, ctx, verified, env))
}
