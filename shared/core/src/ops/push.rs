//! Push approval with number matching (docs/PUSH.md). A phone becomes an Approver
//! through an activation link: it subscribes to Web Push and registers a WebAuthn
//! credential of the Approver's own origin (user verification required). A
//! sign-in then shows a number; the phone, woken by a push message that carries
//! only the approval's id, asks for that number and answers with an assertion
//! over the approval and what was typed (NIST SP 800-63B-4 §3.1.3.1: the secret
//! goes from the primary channel to the out-of-band device and back).

use edge_mfa_webauthn::json::{
    AuthenticationResponseJson, AuthenticatorSelection, CreationOptionsJson, CredentialParameters,
    RegistrationResponseJson, RpEntity, UserEntity, b64url,
};
use edge_mfa_webauthn::{
    AuthenticationCeremony, RegistrationCeremony, StoredCredential, verify_authentication,
    verify_registration,
};
use sha2::{Digest, Sha256};

use crate::user::answer_challenge;
use subtle::ConstantTimeEq;

use super::webauthn::{credential_record, decode, refused};
use super::{Ctx, factor_name, find_challenge, invalid, random_digits, succeeded};
use crate::command::{ApprovalAnswer, ApprovalContext, Outcome, Verified};
use crate::env::Env;
use crate::error::CoreError;
use crate::ids::random_id;
use crate::policy::Method;
use crate::secret::Secret;
use crate::user::{
    Approval, ApprovalState, CHALLENGE_LIFETIME, Challenge, ENROLLMENT_LIFETIME, FactorKind,
    PendingEnrollment, PendingKind, PushEnrollment, PushFactor, UserRecord, WebauthnCeremony,
    push_subscription_context,
};

/// The Approver's credential: user verification on every answer (NIST SP
/// 800-63B-4 §3.1.3.4: an activation factor each time), in these algorithms.
const ALGORITHMS: &[i64] = &[-7, -8, -257];
/// Milliseconds the phone's registration may take.
const TIMEOUT_MS: u64 = 300_000;
/// The wait after a user's first push of the hour; each further one doubles it.
const FIRST_WAIT: u64 = 30;
const HOUR: u64 = 3600;

fn sha256_b64(bytes: &[u8]) -> String {
    b64url(&Sha256::digest(bytes))
}

/// The number's hash under the tenant's pepper, bound to its approval.
fn number_hash(ctx: &Ctx<'_>, challenge_id: &str, number: &str) -> Result<String, CoreError> {
    super::peppered(ctx, "approval number", challenge_id, number)
}

/// Starts a push enrollment: the activation code for the phone's link, kept hashed.
pub(super) fn enroll(
    record: &mut UserRecord,
    name: Option<String>,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    let name = factor_name(name, "Phone")?;
    let code = b64url(&env.bytes::<32>());
    let id = random_id(env);
    let expires_at = env.now + ENROLLMENT_LIFETIME;
    record.pending.push(PendingEnrollment {
        id: id.clone(),
        name,
        created_at: env.now,
        expires_at,
        kind: PendingKind::Push(PushEnrollment {
            activation_sha256: sha256_b64(code.as_bytes()),
            ceremony: None,
            activated: None,
        }),
    });
    Ok(Outcome::PushEnrollment {
        enrollment_id: id,
        activation_code: Secret::new(code),
        expires_at,
    })
}

/// The push enrollment `enrollment_id` whose activation code is `code`, not yet
/// activated. Any mismatch reads as an expired link: no oracle for codes.
fn activating<'a>(
    record: &'a mut UserRecord,
    enrollment_id: &str,
    code: &str,
) -> Result<&'a mut PushEnrollment, CoreError> {
    let expired =
        || CoreError::Expired("the activation link has expired or was already used".into());
    let pending = record
        .pending
        .iter_mut()
        .find(|p| p.id == enrollment_id)
        .ok_or_else(expired)?;
    let PendingKind::Push(push) = &mut pending.kind else {
        return Err(expired());
    };
    let presented = sha256_b64(code.as_bytes());
    let matches: bool = presented
        .as_bytes()
        .ct_eq(push.activation_sha256.as_bytes())
        .into();
    if !matches || push.activated.is_some() {
        return Err(expired());
    }
    Ok(push)
}

/// The Approver credential's creation options (W3C WebAuthn L3 §5.4), for RP
/// `rp_id` (the Approver's host); the ceremony is kept with the enrollment.
pub(super) fn activation_options(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    enrollment_id: &str,
    code: &str,
    rp_id: &str,
    user_name: &str,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    activating(record, enrollment_id, code)?;
    let handle = record.webauthn_handle(env);
    let challenge = b64url(&env.bytes::<32>());
    let options = CreationOptionsJson {
        rp: RpEntity {
            id: rp_id.to_string(),
            name: format!("{} sign-in approvals", ctx.tenant.name),
        },
        user: UserEntity {
            id: handle,
            name: user_name.to_string(),
            display_name: user_name.to_string(),
        },
        challenge: challenge.clone(),
        pub_key_cred_params: ALGORITHMS
            .iter()
            .map(|&alg| CredentialParameters {
                type_: "public-key".into(),
                alg,
            })
            .collect(),
        timeout: TIMEOUT_MS,
        exclude_credentials: Vec::new(),
        // Bound to this phone where the platform lets it choose: a key that syncs
        // would approve from every device of the account.
        authenticator_selection: AuthenticatorSelection {
            resident_key: "discouraged".into(),
            require_resident_key: false,
            user_verification: "required".into(),
        },
        attestation: "none".into(),
    };
    activating(record, enrollment_id, code)?.ceremony = Some(WebauthnCeremony {
        challenge,
        user_verification_required: true,
        algorithms: ALGORITHMS.to_vec(),
        allow_credentials: Vec::new(),
    });
    Ok(Outcome::PushActivation {
        public_key: Box::new(options),
        app: ctx.tenant.name.clone(),
    })
}

/// What the phone sends to activate a push enrollment.
pub(super) struct Activation<'a> {
    pub enrollment_id: &'a str,
    pub code: &'a str,
    pub credential: &'a RegistrationResponseJson,
    /// `PushSubscription.toJSON()`, checked by the API.
    pub subscription: &'a Secret<String>,
    /// The Approver's origin; its host is the credential's RP ID.
    pub origin: &'a str,
    /// The phone's name as given on it; the enrollment's when absent or blank.
    pub name: Option<String>,
}

/// The phone's credential (verified per W3C WebAuthn L3 §7.1 against the
/// Approver's origin) and subscription (sealed): the enrollment is activated.
pub(super) fn activate(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    phone: &Activation<'_>,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    let Activation {
        enrollment_id,
        code,
        credential,
        subscription,
        origin,
        ref name,
    } = *phone;
    let name = name
        .as_ref()
        .map(|n| factor_name(Some(n.clone()), ""))
        .transpose()?
        .filter(|n| !n.is_empty());
    let rp_id = url::Url::parse(origin)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .ok_or_else(|| CoreError::Internal("the Approver's origin has no host".into()))?;
    let existing = record
        .factors
        .iter()
        .filter_map(|f| match &f.kind {
            FactorKind::Webauthn(w) => Some(&w.credential_id),
            FactorKind::Push(p) => Some(&p.credential.credential_id),
            _ => None,
        })
        .map(|id| decode(id))
        .collect::<Result<Vec<_>, _>>()?;
    let push = activating(record, enrollment_id, code)?;
    let ceremony = push
        .ceremony
        .clone()
        .ok_or_else(|| invalid("ask for the activation's registration options first"))?;
    let registered = verify_registration(
        env.crypto,
        &RegistrationCeremony {
            challenge: &decode(&ceremony.challenge)?,
            rp_id: &rp_id,
            origins: &[origin.to_string()],
            user_verification_required: true,
            algorithms: &ceremony.algorithms,
            existing: &existing,
            trust_anchors: None,
        },
        credential,
    )
    .map_err(refused)?;
    let context =
        push_subscription_context(ctx.tenant.id.as_str(), ctx.user.as_str(), enrollment_id);
    let sealed = ctx
        .master
        .seal(&context, subscription.expose().as_bytes(), env);
    if let Some(name) = name
        && let Some(pending) = record.pending.iter_mut().find(|p| p.id == enrollment_id)
    {
        pending.name = name;
    }
    let push = activating(record, enrollment_id, code)?;
    push.activated = Some(PushFactor {
        subscription: sealed,
        credential: credential_record(registered),
        rp_id,
        origin: origin.to_string(),
    });
    Ok(Outcome::PushActivated)
}

/// Whether push enrollment `enrollment_id` still waits for its phone.
pub(super) fn awaiting_activation(record: &UserRecord, enrollment_id: &str) -> bool {
    record.pending.iter().any(|p| {
        p.id == enrollment_id
            && matches!(&p.kind, PendingKind::Push(push) if push.activated.is_none())
    })
}

/// Sends an approval to push factor `factor_id`: one pending at a time, each push
/// of the hour waiting twice as long after the one before (fatigue), none while
/// codes are locked.
pub(super) fn challenge(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    factor_id: &str,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    let now = env.now;
    if let Some(pending) = record
        .challenges
        .iter()
        .filter(|c| matches!(&c.approval, Some(a) if a.state == ApprovalState::Pending))
        .map(|c| c.expires_at)
        .max()
    {
        return Err(CoreError::RateLimited {
            retry_after: pending.saturating_sub(now).max(1),
        });
    }
    record.pushes.retain(|&t| t + HOUR > now);
    if let Some(&last) = record.pushes.last() {
        let shift = u32::try_from(record.pushes.len().saturating_sub(1)).unwrap_or(u32::MAX);
        let wait = FIRST_WAIT.checked_shl(shift).unwrap_or(HOUR).min(HOUR);
        if now < last + wait {
            return Err(CoreError::RateLimited {
                retry_after: last + wait - now,
            });
        }
    }
    let factor = record
        .factor(factor_id)
        .ok_or_else(|| CoreError::NotFound("no such factor".into()))?;
    let FactorKind::Push(push) = &factor.kind else {
        return Err(invalid("this factor is not a push factor"));
    };
    let context = push_subscription_context(ctx.tenant.id.as_str(), ctx.user.as_str(), &factor.id);
    let subscription = ctx
        .master
        .open(&context, &push.subscription)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| CoreError::Internal("a push subscription does not open".into()))?;
    let digits = ctx.tenant.policy.push.number_digits;
    let number = random_digits(u32::from(digits), env);
    let id = random_id(env);
    let expires_at = now + CHALLENGE_LIFETIME;
    let approval = Approval {
        number_hash: number_hash(ctx, &id, &number)?,
        digits,
        app: ctx.tenant.name.clone(),
        country: ctx.context.country.clone(),
        created_at: now,
        state: ApprovalState::Pending,
    };
    record.pushes.push(now);
    record.add_challenge(Challenge {
        id: id.clone(),
        method: Method::Push,
        factor_id: Some(factor_id.to_string()),
        expires_at,
        webauthn: None,
        code: None,
        approval: Some(approval),
    });
    Ok(Outcome::PushChallenge {
        challenge_id: id,
        factor_id: factor_id.to_string(),
        expires_at,
        number: Secret::new(number),
        subscription: Secret::new(subscription),
    })
}

/// The approval `challenge_id` while it waits for the phone: (its challenge, the
/// push factor it went to).
fn pending_approval<'a>(
    record: &'a UserRecord,
    challenge_id: &str,
) -> Result<(&'a Challenge, &'a Approval, &'a PushFactor), CoreError> {
    let (_, challenge) = find_challenge(record, challenge_id)?;
    let approval = challenge
        .approval
        .as_ref()
        .ok_or_else(|| invalid("this challenge is not a push approval"))?;
    if approval.state != ApprovalState::Pending {
        return Err(CoreError::Expired(
            "the approval was already answered".into(),
        ));
    }
    let push = challenge
        .factor_id
        .as_deref()
        .and_then(|id| record.factor(id))
        .and_then(|f| match &f.kind {
            FactorKind::Push(push) => Some(push),
            _ => None,
        })
        .ok_or_else(|| CoreError::Expired("the approval's phone was removed".into()))?;
    Ok((challenge, approval, push))
}

/// What the phone shows of approval `challenge_id`, and which credential answers.
pub(super) fn context(record: &UserRecord, challenge_id: &str) -> Result<Outcome, CoreError> {
    let (challenge, approval, push) = pending_approval(record, challenge_id)?;
    Ok(Outcome::ApprovalContext(ApprovalContext {
        app: approval.app.clone(),
        country: approval.country.clone(),
        created_at: approval.created_at,
        expires_at: challenge.expires_at,
        digits: approval.digits,
        rp_id: push.rp_id.clone(),
        credential_id: push.credential.credential_id.clone(),
    }))
}

/// The phone's answer, signed by its credential over [`answer_challenge`]. A
/// number that is not the one shown is a wrong guess ([`CoreError::WrongCode`],
/// counted; [`mark_wrong_number`] ends the approval); a report counts too.
pub(super) fn answer(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    challenge_id: &str,
    answer: &ApprovalAnswer,
    credential: &AuthenticationResponseJson,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    let (challenge, approval, push) = pending_approval(record, challenge_id)?;
    let typed = match answer {
        ApprovalAnswer::Approve { number } => {
            let typed = crate::codes::strip_separators(number.expose());
            if typed.len() != usize::from(approval.digits)
                || !typed.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(invalid(format!(
                    "number must be the {} digits the sign-in page shows",
                    approval.digits
                )));
            }
            typed
        }
        ApprovalAnswer::Deny => "deny".to_string(),
        ApprovalAnswer::Report => "report".to_string(),
    };
    let factor_id = challenge.factor_id.clone().unwrap_or_default();
    let credential_id = decode(&push.credential.credential_id)?;
    let public_key = decode(&push.credential.public_key)?;
    let handle = record
        .webauthn_user_handle
        .as_deref()
        .map(decode)
        .transpose()?
        .unwrap_or_default();
    let stored = [StoredCredential {
        id: &credential_id,
        public_key: &public_key,
        sign_count: push.credential.sign_count,
        backup_eligible: push.credential.backup_eligible,
    }];
    let assertion = verify_authentication(
        env.crypto,
        &AuthenticationCeremony {
            challenge: &answer_challenge(challenge_id, &typed),
            rp_id: &push.rp_id,
            origins: std::slice::from_ref(&push.origin),
            user_verification_required: true,
            allow_credentials: std::slice::from_ref(&credential_id),
            user_handle: &handle,
        },
        &stored,
        credential,
    )
    .map_err(refused)?;
    let right_number = match answer {
        ApprovalAnswer::Approve { .. } => {
            let hash = number_hash(ctx, challenge_id, &typed)?;
            let same: bool = hash
                .as_bytes()
                .ct_eq(approval.number_hash.as_bytes())
                .into();
            if !same {
                return Err(CoreError::WrongCode(
                    "the number does not match the one on the sign-in page".into(),
                ));
            }
            true
        }
        _ => false,
    };
    let state = match answer {
        ApprovalAnswer::Approve { .. } if right_number => ApprovalState::Approved {
            user_verified: assertion.user_verified,
            synced: push.credential.backup_eligible,
        },
        ApprovalAnswer::Report => ApprovalState::Reported,
        _ => ApprovalState::Denied,
    };
    if let Some(factor) = record.factors.iter_mut().find(|f| f.id == factor_id)
        && let FactorKind::Push(push) = &mut factor.kind
    {
        push.credential.sign_count = assertion.sign_count;
        push.credential.backup_state = assertion.backup_state;
        push.credential.user_verified = assertion.user_verified;
    }
    set_state(record, challenge_id, state);
    if state == ApprovalState::Reported {
        super::count_failure(record, ctx, env);
        let data = serde_json::json!({ "factor": { "id": factor_id, "type": "push" }, "challenge_id": challenge_id });
        crate::notify::queue(
            record,
            ctx.tenant,
            ctx.user.as_str(),
            "approval.reported",
            data,
            env,
        );
    }
    Ok(Outcome::ApprovalAnswered { state })
}

fn set_state(record: &mut UserRecord, challenge_id: &str, state: ApprovalState) {
    if let Some(approval) = record
        .challenges
        .iter_mut()
        .find(|c| c.id == challenge_id)
        .and_then(|c| c.approval.as_mut())
    {
        approval.state = state;
    }
}

/// The approval a refused answer named, if the answer was a number: after the
/// record is restored, [`mark_wrong_number`] ends it, so a wrong number is one
/// guess, not the first of many.
pub(crate) fn answered_number(command: &crate::command::UserCommand) -> Option<String> {
    match command {
        crate::command::UserCommand::AnswerApproval {
            challenge_id,
            answer: ApprovalAnswer::Approve { .. },
            ..
        } => Some(challenge_id.clone()),
        _ => None,
    }
}

pub(crate) fn mark_wrong_number(record: &mut UserRecord, challenge_id: &str) {
    set_state(record, challenge_id, ApprovalState::WrongNumber);
}

/// The sign-in page asks about approval `challenge_id`: proof once approved (the
/// challenge consumed), a refusal once the phone said no, `Pending` meanwhile.
pub(super) fn verify(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    challenge_id: &str,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    let (index, challenge) = find_challenge(record, challenge_id)?;
    let approval = challenge
        .approval
        .as_ref()
        .ok_or_else(|| invalid("this challenge is answered with a code or a credential"))?;
    let factor_id = challenge.factor_id.clone();
    match approval.state {
        ApprovalState::Pending => Ok(Outcome::Pending),
        ApprovalState::Approved {
            user_verified,
            synced,
        } => {
            record.challenges.remove(index);
            if let Some(factor) = factor_id
                .as_deref()
                .and_then(|id| record.factors.iter_mut().find(|f| f.id == id))
            {
                factor.last_used_at = Some(env.now);
            }
            let verified = Verified {
                user_verified,
                synced,
                ..Verified::new(Method::Push, factor_id, env.now)
            };
            Ok(succeeded(record, ctx, verified, env))
        }
        ApprovalState::Denied => Err(CoreError::VerificationFailed(
            "the sign-in was denied on the phone".into(),
        )),
        ApprovalState::Reported => Err(CoreError::VerificationFailed(
            "the phone reported this sign-in as not the user's".into(),
        )),
        ApprovalState::WrongNumber => Err(CoreError::VerificationFailed(
            "the number entered on the phone did not match".into(),
        )),
    }
}

/// After a `MASTER_KEY` rotation: subscriptions sealed under the current key.
pub(crate) fn reseal(record: &mut UserRecord, ctx: &Ctx<'_>, env: &mut Env<'_>) {
    let (tenant, user) = (ctx.tenant.id.as_str(), ctx.user.as_str());
    let factors = record.factors.iter_mut().filter_map(|f| match &mut f.kind {
        FactorKind::Push(push) => Some((f.id.as_str(), push)),
        _ => None,
    });
    let pending = record.pending.iter_mut().filter_map(|p| match &mut p.kind {
        PendingKind::Push(PushEnrollment {
            activated: Some(push),
            ..
        }) => Some((p.id.as_str(), push)),
        _ => None,
    });
    for (owner, push) in factors.chain(pending) {
        let context = push_subscription_context(tenant, user, owner);
        if let Some(sealed) = ctx.master.reseal(&context, &push.subscription, env) {
            push.subscription = sealed;
        }
    }
}
