//! The audit events of one request on a user's record (docs/AUDIT.md): derived
//! from the command, what the record held before it, and its result, so every
//! operation is logged in one place and no operation can forget to.

use serde_json::json;

use super::Ctx;
use crate::assess::Action;
use crate::audit::{Actor, AuditEvent, EventType, FactorRef};
use crate::command::{CodeDelivery, Outcome, UserCommand, Verified};
use crate::env::Env;
use crate::error::CoreError;
use crate::help::{HelpAction, HelpState};
use crate::policy::Method;
use crate::user::UserRecord;

/// What a request is, as far as its events go, noted before it runs (the command
/// is consumed by it, and the record may change).
pub(crate) struct Probe {
    kind: Kind,
    /// The factor the request names, as the record knew it before.
    factor: Option<FactorRef>,
    actor: Actor,
}

enum Kind {
    /// Reads: nothing to log.
    Read,
    Enroll,
    Resend,
    VoidCode {
        id: String,
        reason: String,
    },
    Confirm,
    /// A phone activated push enrollment `.0`.
    Activate(String),
    /// A phone answered push approval `challenge_id` with `answer`.
    Answer {
        answer: &'static str,
        challenge_id: String,
    },
    Rename,
    Delete,
    Challenge,
    Verify,
    RedeemBackupCode,
    RegenerateBackupCodes,
    Assess,
    RevokeDevice(String),
    ClearDevices,
    Bypass,
    EndBypass,
    Unlock,
    Erase,
    Reset,
    Requirement {
        required: bool,
        days: Option<u16>,
    },
    AskForHelp {
        open: Option<String>,
    },
    ResolveHelp,
}

fn factor_of(record: &UserRecord, id: &str) -> Option<FactorRef> {
    record.factor(id).map(|f| FactorRef {
        id: Some(f.id.clone()),
        method: f.kind.method(),
    })
}

/// The push factor challenge `challenge_id` went to.
fn push_factor(record: &UserRecord, challenge_id: &str) -> Option<FactorRef> {
    let challenge = record.challenges.iter().find(|c| c.id == challenge_id)?;
    Some(FactorRef {
        id: challenge.factor_id.clone(),
        method: Method::Push,
    })
}

fn method_only(method: Method) -> Option<FactorRef> {
    Some(FactorRef { id: None, method })
}

impl Probe {
    pub(crate) fn new(command: &UserCommand, record: &UserRecord) -> Probe {
        let actor = if command.is_admin() {
            Actor::Admin
        } else {
            Actor::User
        };
        let (kind, factor) = match command {
            UserCommand::ListFactors | UserCommand::ListDevices | UserCommand::Status => {
                (Kind::Read, None)
            }
            UserCommand::EnrollTotp { .. } => (Kind::Enroll, method_only(Method::Totp)),
            UserCommand::EnrollWebauthn { .. } => (Kind::Enroll, method_only(Method::Webauthn)),
            UserCommand::EnrollCode { method, .. } => (Kind::Enroll, method_only(*method)),
            UserCommand::EnrollPush { .. } => (Kind::Enroll, method_only(Method::Push)),
            UserCommand::PushActivationOptions { .. } | UserCommand::ApprovalContext { .. } => {
                (Kind::Read, None)
            }
            UserCommand::ActivatePush { enrollment_id, .. } => (
                Kind::Activate(enrollment_id.clone()),
                method_only(Method::Push),
            ),
            UserCommand::VerifyPush { challenge_id } => {
                (Kind::Verify, push_factor(record, challenge_id))
            }
            UserCommand::AnswerApproval {
                challenge_id,
                answer,
                ..
            } => {
                let answer = match answer {
                    crate::command::ApprovalAnswer::Approve { .. } => "approve",
                    crate::command::ApprovalAnswer::Deny => "deny",
                    crate::command::ApprovalAnswer::Report => "report",
                };
                let factor = push_factor(record, challenge_id);
                let challenge_id = challenge_id.clone();
                (
                    Kind::Answer {
                        answer,
                        challenge_id,
                    },
                    factor,
                )
            }
            UserCommand::Resend { .. } => (Kind::Resend, None),
            UserCommand::VoidCode { id, reason } => (
                Kind::VoidCode {
                    id: id.clone(),
                    reason: reason.clone().unwrap_or_else(|| "delivery_failed".into()),
                },
                record
                    .pending
                    .iter()
                    .find(|p| p.id == *id)
                    .map(|p| p.kind.method())
                    .or_else(|| {
                        record
                            .challenges
                            .iter()
                            .find(|c| c.id == *id)
                            .map(|c| c.method)
                    })
                    .and_then(method_only),
            ),
            UserCommand::Confirm { enrollment_id, .. } => (
                Kind::Confirm,
                record
                    .pending
                    .iter()
                    .find(|p| p.id == *enrollment_id)
                    .and_then(|p| method_only(p.kind.method())),
            ),
            UserCommand::RenameFactor { factor_id, .. } => {
                (Kind::Rename, factor_of(record, factor_id))
            }
            UserCommand::DeleteFactor { factor_id } => (Kind::Delete, factor_of(record, factor_id)),
            UserCommand::Challenge { factor_id, method } => (
                Kind::Challenge,
                factor_id
                    .as_deref()
                    .and_then(|id| factor_of(record, id))
                    .or_else(|| method.and_then(method_only)),
            ),
            UserCommand::VerifyCode {
                challenge_id,
                method,
                ..
            } => {
                let from_challenge = challenge_id.as_deref().and_then(|id| {
                    let challenge = record.challenges.iter().find(|c| c.id == id)?;
                    Some(FactorRef {
                        id: challenge.factor_id.clone(),
                        method: challenge.method,
                    })
                });
                let factor = from_challenge
                    .or_else(|| method.and_then(method_only))
                    .or_else(|| method_only(Method::Totp));
                (Kind::Verify, factor)
            }
            UserCommand::VerifyCredential { credential, .. } => {
                let factor = record
                    .factors
                    .iter()
                    .find(|f| {
                        matches!(&f.kind, crate::user::FactorKind::Webauthn(w)
                            if w.credential_id == credential.id)
                    })
                    .map(|f| FactorRef {
                        id: Some(f.id.clone()),
                        method: Method::Webauthn,
                    })
                    .or_else(|| method_only(Method::Webauthn));
                (Kind::Verify, factor)
            }
            UserCommand::RedeemBackupCode { .. } => {
                (Kind::RedeemBackupCode, method_only(Method::BackupCode))
            }
            UserCommand::RegenerateBackupCodes => (Kind::RegenerateBackupCodes, None),
            UserCommand::Assess { .. } => (Kind::Assess, None),
            UserCommand::RevokeDevice { device_id } => {
                (Kind::RevokeDevice(device_id.clone()), None)
            }
            UserCommand::ClearDevices => (Kind::ClearDevices, None),
            UserCommand::Bypass { .. } => (Kind::Bypass, None),
            UserCommand::EndBypass => (Kind::EndBypass, None),
            UserCommand::Unlock => (Kind::Unlock, None),
            UserCommand::Erase => (Kind::Erase, None),
            UserCommand::Reset => (Kind::Reset, None),
            UserCommand::SetRequirement {
                required,
                enrollment_days,
            } => (
                Kind::Requirement {
                    required: *required,
                    days: *enrollment_days,
                },
                None,
            ),
            UserCommand::AskForHelp { .. } => (
                Kind::AskForHelp {
                    open: record
                        .help
                        .as_ref()
                        .filter(|h| h.state == HelpState::Open)
                        .map(|h| h.id.clone()),
                },
                None,
            ),
            UserCommand::ResolveHelp { .. } => (Kind::ResolveHelp, None),
        };
        Probe {
            kind,
            factor,
            actor,
        }
    }
}

/// Appends the events of `result` to `record.audit`: on a refusal only its failure
/// event (a 422 of a verification), on success what the request did.
pub(crate) fn record(
    record: &mut UserRecord,
    probe: Probe,
    result: &Result<Outcome, CoreError>,
    ctx: &Ctx<'_>,
    env: &mut Env<'_>,
) {
    let source = ctx.context.source();
    let user = ctx.user.as_str();
    let mut events: Vec<AuditEvent> = Vec::new();
    let mut event = |event: EventType, env: &mut Env<'_>| {
        AuditEvent::new(event, probe.actor, Some(user), &source, env)
    };
    let with_factor = |e: AuditEvent, factor: &Option<FactorRef>| match factor {
        Some(f) => e.with_factor(f.id.as_deref(), f.method),
        None => e,
    };
    let outcome = match result {
        Err(CoreError::WrongCode(_) | CoreError::VerificationFailed(_)) => {
            if matches!(
                probe.kind,
                Kind::Verify | Kind::RedeemBackupCode | Kind::Confirm | Kind::Answer { .. }
            ) {
                let stage = match probe.kind {
                    Kind::Confirm => "enroll",
                    Kind::Answer { .. } => "approve",
                    _ => "verify",
                };
                let failed = event(EventType::VerifyFailed, env)
                    .failed("verification_failed")
                    .with_detail(json!({ "stage": stage }));
                events.push(with_factor(failed, &probe.factor));
            }
            record.audit.extend(events);
            return;
        }
        Err(_) => return,
        Ok(outcome) => outcome,
    };
    match (&probe.kind, outcome) {
        (Kind::Read, _) => {}
        // A factor made: by a confirmation, or at `enroll` for an email address
        // the tenant vouched for (`email_verified`), with nothing to confirm.
        (
            Kind::Confirm | Kind::Enroll,
            Outcome::Confirmed {
                factor,
                backup_codes,
                verified,
            },
        ) => {
            events.push(factor_enrolled(
                event(EventType::FactorEnrolled, env),
                factor,
                backup_codes.as_ref().map(|c| c.expose().len()),
            ));
            if let Some(verified) = verified {
                events.push(succeeded(
                    event(EventType::VerifySucceeded, env),
                    verified,
                    "enroll",
                ));
                remembered(&mut events, record, verified, &mut event, env);
            }
        }
        (Kind::Enroll, outcome) => {
            let enrollment_id = match outcome {
                Outcome::TotpEnrollment { enrollment_id, .. }
                | Outcome::WebauthnEnrollment { enrollment_id, .. } => enrollment_id.clone(),
                Outcome::CodeSent(delivery) => delivery.id.clone(),
                Outcome::PushEnrollment { enrollment_id, .. } => enrollment_id.clone(),
                _ => String::new(),
            };
            let started = event(EventType::EnrollmentStarted, env)
                .with_detail(json!({ "enrollment_id": enrollment_id }));
            events.push(with_factor(started, &probe.factor));
            if let Outcome::CodeSent(delivery) = outcome {
                events.push(code_sent(event(EventType::CodeSent, env), delivery));
            }
        }
        (Kind::Activate(enrollment_id), _) => events.push(
            with_factor(event(EventType::EnrollmentActivated, env), &probe.factor)
                .with_detail(json!({ "enrollment_id": enrollment_id })),
        ),
        (
            Kind::Answer {
                answer,
                challenge_id,
            },
            Outcome::ApprovalAnswered { state },
        ) => {
            let mut answered = with_factor(event(EventType::ApprovalAnswered, env), &probe.factor)
                .with_detail(json!({ "answer": answer, "challenge_id": challenge_id }));
            if *state == crate::user::ApprovalState::Reported {
                answered = answered.failed("reported_not_me");
            }
            events.push(answered);
        }
        (
            Kind::Challenge,
            Outcome::PushChallenge {
                challenge_id,
                factor_id,
                ..
            },
        ) => events.push(
            event(EventType::ChallengeCreated, env)
                .with_factor(Some(factor_id), Method::Push)
                .with_detail(json!({ "challenge_id": challenge_id })),
        ),
        (Kind::Resend, Outcome::CodeSent(delivery)) => {
            events.push(code_sent(event(EventType::CodeSent, env), delivery));
        }
        // The code made for `id` was not handed over after all.
        (Kind::VoidCode { id, reason }, _) => {
            let failed = event(EventType::CodeSent, env)
                .failed(reason)
                .with_detail(json!({ "id": id }));
            events.push(with_factor(failed, &probe.factor));
        }
        (Kind::Rename, Outcome::Renamed { factor }) => events.push(
            event(EventType::FactorRenamed, env)
                .with_factor(Some(&factor.id), factor.method)
                .with_detail(json!({ "name": factor.name })),
        ),
        (Kind::Delete, _) => {
            events.push(with_factor(
                event(EventType::FactorRemoved, env),
                &probe.factor,
            ));
        }
        (
            Kind::Challenge,
            Outcome::Challenge {
                challenge_id,
                method,
                delivery,
                ..
            },
        ) => {
            let factor = probe.factor.clone().unwrap_or(FactorRef {
                id: None,
                method: *method,
            });
            events.push(
                with_factor(event(EventType::ChallengeCreated, env), &Some(factor))
                    .with_detail(json!({ "challenge_id": challenge_id })),
            );
            if let Some(delivery) = delivery {
                events.push(code_sent(event(EventType::CodeSent, env), delivery));
            }
        }
        (Kind::Verify, Outcome::Verified(verified)) => {
            events.push(succeeded(
                event(EventType::VerifySucceeded, env),
                verified,
                "verify",
            ));
            remembered(&mut events, record, verified, &mut event, env);
        }
        (Kind::RedeemBackupCode, Outcome::Verified(verified)) => {
            events.push(
                event(EventType::BackupCodeRedeemed, env)
                    .with_factor(None, Method::BackupCode)
                    .with_detail(json!({ "remaining": verified.remaining })),
            );
            remembered(&mut events, record, verified, &mut event, env);
        }
        (Kind::RegenerateBackupCodes, Outcome::BackupCodes { codes }) => events.push(
            event(EventType::BackupCodesRegenerated, env)
                .with_detail(json!({ "count": codes.expose().len() })),
        ),
        (Kind::Assess, Outcome::Assessed { decision, .. }) => {
            let mut decided = event(EventType::AssessDecided, env).with_detail(json!({
                "action": decision.action,
                "reasons": decision.reasons,
                "enrollment": decision.enrollment.state,
            }));
            if decision.action == Action::Deny {
                let reason = decision.reasons.first().map_or("denied", String::as_str);
                decided = decided.failed(reason);
            }
            events.push(decided);
        }
        (Kind::RevokeDevice(device_id), _) => events.push(
            event(EventType::DeviceRevoked, env).with_detail(json!({ "device_id": device_id })),
        ),
        (Kind::ClearDevices, _) => events.push(event(EventType::DevicesCleared, env)),
        (Kind::Bypass, Outcome::Bypassed { bypass_until }) => events.push(bypass_granted(
            event(EventType::BypassGranted, env),
            *bypass_until,
        )),
        (Kind::EndBypass, _) => events.push(event(EventType::BypassEnded, env)),
        (Kind::Unlock, _) => events.push(event(EventType::UserUnlocked, env)),
        (Kind::Erase, _) => events.push(event(EventType::UserErased, env)),
        (Kind::Reset, _) => events.push(event(EventType::UserReset, env)),
        (Kind::Requirement { required, days }, _) => {
            let mut updated = event(EventType::RequirementUpdated, env)
                .with_detail(json!({ "required": required }));
            if let Some(requirement) = &record.requirement {
                updated = updated.with_detail(json!({
                    "deadline": requirement.deadline,
                    "enrollment_days": days.unwrap_or(7),
                }));
            }
            events.push(updated);
        }
        // Asking again while a request is open changes nothing.
        (Kind::AskForHelp { open }, Outcome::HelpRequested(request))
            if open.as_deref() != Some(request.id.as_str()) =>
        {
            events.push(
                event(EventType::HelpRequestCreated, env)
                    .with_detail(json!({ "request_id": request.id })),
            );
        }
        (Kind::ResolveHelp, Outcome::HelpResolved(request)) => {
            match request.action {
                Some(HelpAction::Bypass) => {
                    if let Some(until) = record.bypass_until {
                        events.push(
                            bypass_granted(event(EventType::BypassGranted, env), until)
                                .with_detail(json!({ "request_id": request.id })),
                        );
                    }
                }
                Some(HelpAction::Reset) => events.push(
                    event(EventType::UserReset, env)
                        .with_detail(json!({ "request_id": request.id })),
                ),
                _ => {}
            }
            let mut resolved = event(EventType::HelpRequestResolved, env).with_detail(json!({
                "request_id": request.id,
                "action": request.action.unwrap_or_default().as_str(),
            }));
            if let Some(minutes) = request.minutes {
                resolved = resolved.with_detail(json!({ "minutes": minutes }));
            }
            events.push(resolved);
        }
        _ => {}
    }
    record.audit.extend(events);
}

/// `lockout.started`: the failure just counted locked the user's codes until `until`.
pub(crate) fn lockout_started(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    until: u64,
    env: &mut Env<'_>,
) {
    let event = AuditEvent::new(
        EventType::LockoutStarted,
        Actor::System,
        Some(ctx.user.as_str()),
        &ctx.context.source(),
        env,
    )
    .with_detail(json!({ "until": until }));
    record.audit.push(event);
}

fn code_sent(event: AuditEvent, delivery: &CodeDelivery) -> AuditEvent {
    let purpose = match delivery.purpose {
        crate::command::CodePurpose::Enroll => "enroll",
        crate::command::CodePurpose::Challenge => "challenge",
    };
    // The masked destination only: never the number or address itself.
    event.with_factor(None, delivery.method).with_detail(json!({
        "channel": delivery.method,
        "to_masked": delivery.masked,
        "purpose": purpose,
        "id": delivery.id,
    }))
}

fn factor_enrolled(
    event: AuditEvent,
    factor: &crate::command::FactorView,
    backup_codes: Option<usize>,
) -> AuditEvent {
    let enrolled = event
        .with_factor(Some(&factor.id), factor.method)
        .with_detail(json!({ "name": factor.name }));
    match backup_codes {
        Some(count) => enrolled.with_detail(json!({ "backup_codes": count })),
        None => enrolled,
    }
}

fn succeeded(event: AuditEvent, verified: &Verified, stage: &str) -> AuditEvent {
    event
        .with_factor(verified.factor_id.as_deref(), verified.method)
        .with_detail(json!({ "stage": stage, "user_verified": verified.user_verified }))
}

fn bypass_granted(event: AuditEvent, until: u64) -> AuditEvent {
    let minutes = until.saturating_sub(event.at) / 60;
    event.with_detail(json!({ "minutes": minutes, "until": until }))
}

/// `device.remembered`, when the verification remembered the device.
fn remembered(
    events: &mut Vec<AuditEvent>,
    record: &UserRecord,
    verified: &Verified,
    event: &mut impl FnMut(EventType, &mut Env<'_>) -> AuditEvent,
    env: &mut Env<'_>,
) {
    if verified.device_token.is_none() {
        return;
    }
    // The device just remembered is the newest.
    if let Some(device) = record.trusted_devices.iter().max_by_key(|d| d.created_at) {
        events.push(event(EventType::DeviceRemembered, env).with_detail(json!({
            "device_id": device.id,
            "label": device.label,
            "expires_at": device.expires_at,
        })));
    }
}
