//! Help requests and the per-user requirement: the admin's answers to a user who
//! is stuck, or who must use MFA whatever the tenant's mode.

use super::{Ctx, assess, invalid};
use crate::command::Outcome;
use crate::env::Env;
use crate::error::CoreError;
use crate::help::{
    DEFAULT_BYPASS_MINUTES, HelpAction, HelpRequest, HelpState, MAX_MESSAGE_CHARS, MAX_NOTE_CHARS,
    MAX_REQUESTS_PER_DAY, text,
};
use crate::ids::random_id;
use crate::user::{Requirement, UserRecord};

const DAY: u64 = 86_400;
/// JumpCloud's enrollment period: 1–365 days, 7 unless the admin says otherwise.
const DEFAULT_ENROLLMENT_DAYS: u16 = 7;

pub(super) fn set_requirement(
    record: &mut UserRecord,
    required: bool,
    enrollment_days: Option<u16>,
    now: u64,
) -> Result<(), CoreError> {
    let days = enrollment_days.unwrap_or(DEFAULT_ENROLLMENT_DAYS);
    if !(1..=365).contains(&days) {
        return Err(invalid("enrollment_days must be 1-365"));
    }
    // Setting it again starts a new period: that is how an expired one is renewed.
    record.requirement = required.then(|| Requirement {
        set_at: now,
        deadline: now + u64::from(days) * DAY,
    });
    Ok(())
}

/// Opens a help request, or answers the one already open.
pub(super) fn ask(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    message: Option<String>,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    let message = text(message, "message", MAX_MESSAGE_CHARS)?;
    if let Some(open) = record.help.as_ref().filter(|h| h.state == HelpState::Open) {
        return Ok(Outcome::HelpRequested(open.clone()));
    }
    record.help_asked.retain(|&at| at + DAY > env.now);
    if record.help_asked.len() >= MAX_REQUESTS_PER_DAY {
        let oldest = record.help_asked.iter().min().copied().unwrap_or(env.now);
        return Err(CoreError::RateLimited {
            retry_after: (oldest + DAY).saturating_sub(env.now).max(1),
        });
    }
    record.help_asked.push(env.now);
    let request = HelpRequest {
        id: format!("help_{}", random_id(env)),
        user: ctx.user.as_str().to_string(),
        message,
        state: HelpState::Open,
        created_at: env.now,
        resolved_at: None,
        action: None,
        minutes: None,
        note: None,
    };
    record.help = Some(request.clone());
    // The message is the user's own words for the admins: the notification says
    // only that a request is waiting.
    let data = serde_json::json!({ "request_id": request.id });
    crate::notify::queue(
        record,
        ctx.tenant,
        ctx.user.as_str(),
        "help_request.created",
        data,
        env,
    );
    Ok(Outcome::HelpRequested(request))
}

/// Resolves the user's open request `request_id` with `action`, which acts on the
/// user in the same step.
pub(super) fn resolve(
    record: &mut UserRecord,
    request_id: &str,
    action: HelpAction,
    minutes: Option<u32>,
    note: Option<String>,
    now: u64,
) -> Result<Outcome, CoreError> {
    let note = text(note, "note", MAX_NOTE_CHARS)?;
    let Some(request) = record.help.as_ref().filter(|h| h.id == request_id) else {
        return Err(CoreError::NotFound("no such help request".into()));
    };
    if request.state == HelpState::Resolved {
        return Err(CoreError::Conflict(
            "this help request is already resolved".into(),
        ));
    }
    // A bound the document states for every resolution, not only a bypass.
    if let Some(minutes) = minutes
        && !(1..=assess::MAX_BYPASS_MINUTES).contains(&minutes)
    {
        return Err(CoreError::InvalidRequest(format!(
            "minutes must be 1-{}",
            assess::MAX_BYPASS_MINUTES
        )));
    }
    let mut request = request.clone();
    let minutes = match action {
        HelpAction::Bypass => {
            let minutes = minutes.unwrap_or(DEFAULT_BYPASS_MINUTES);
            assess::bypass(record, minutes, now)?;
            Some(minutes)
        }
        HelpAction::Reset => {
            super::reset(record);
            None
        }
        HelpAction::None => None,
    };
    request.state = HelpState::Resolved;
    request.resolved_at = Some(now);
    request.action = Some(action);
    request.minutes = minutes;
    request.note = note;
    record.help = Some(request.clone());
    Ok(Outcome::HelpResolved(request))
}
