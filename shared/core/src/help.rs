//! Help requests (API.md "Admin additions"): the "ask for help" button of a user
//! who cannot pass MFA, and the admin's answer — nothing, a temporary bypass, or a
//! reset. One open request per user, kept in the user's record so that rule holds
//! under any number of parallel requests.

use serde::{Deserialize, Serialize};

use crate::error::CoreError;

/// A message is at most this many characters.
pub const MAX_MESSAGE_CHARS: usize = 500;
/// A note is at most this many characters.
pub const MAX_NOTE_CHARS: usize = 500;
/// New requests a user may open per day (asking again while one is open does
/// not count: it answers the open one).
pub const MAX_REQUESTS_PER_DAY: usize = 5;
/// A resolution by bypass lasts this long unless the admin says otherwise.
pub const DEFAULT_BYPASS_MINUTES: u32 = 60;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum HelpState {
    Open,
    Resolved,
}

impl HelpState {
    pub fn as_str(self) -> &'static str {
        match self {
            HelpState::Open => "open",
            HelpState::Resolved => "resolved",
        }
    }
}

/// What the admin did about a request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum HelpAction {
    /// Answered some other way (a call, a ticket elsewhere).
    #[default]
    None,
    /// MFA is not asked of the user for `minutes`.
    Bypass,
    /// Every factor, code and device is forgotten: the user enrolls again.
    Reset,
}

impl HelpAction {
    pub fn as_str(self) -> &'static str {
        match self {
            HelpAction::None => "none",
            HelpAction::Bypass => "bypass",
            HelpAction::Reset => "reset",
        }
    }
}

/// A help request as the admin sees it (API.md: `{"id", "user", "message"?,
/// "state", "created_at", "resolved_at"?, "action"?}`; also `minutes` and `note`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HelpRequest {
    /// `help_` and 22 random base64url characters.
    pub id: String,
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(length(max = 500)))]
    pub message: Option<String>,
    pub state: HelpState,
    pub created_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<HelpAction>,
    /// For a bypass: how long it lasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u32>,
    /// The admin's note, for the other admins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A free text field as stored: at most `max` characters as sent (as the
/// document's `maxLength` counts them), trimmed, printable; empty is none.
pub(crate) fn text(
    value: Option<String>,
    field: &str,
    max: usize,
) -> Result<Option<String>, CoreError> {
    let too_long = value.as_ref().is_some_and(|v| v.chars().count() > max);
    let value = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    if too_long
        || value
            .as_ref()
            .is_some_and(|v| v.chars().any(|c| c.is_control() && c != '\n'))
    {
        return Err(CoreError::InvalidRequest(format!(
            "{field} must be at most {max} printable characters"
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_counts_its_characters_as_sent() {
        let padded = format!("a{}", " ".repeat(MAX_MESSAGE_CHARS));
        assert!(text(Some(padded), "message", MAX_MESSAGE_CHARS).is_err());
        let fits = format!("  a{}", " ".repeat(MAX_MESSAGE_CHARS - 3));
        assert_eq!(
            text(Some(fits), "message", MAX_MESSAGE_CHARS).unwrap(),
            Some("a".to_string())
        );
        assert_eq!(text(Some("  ".into()), "message", 10).unwrap(), None);
        assert!(text(Some("a\u{7}".into()), "message", 10).is_err());
        assert_eq!(
            text(Some("two\nlines".into()), "message", 10).unwrap(),
            Some("two\nlines".to_string())
        );
    }
}
