//! The tenant's audit log (API.md "Audit log"; docs/AUDIT.md): one event for each
//! operation that changes or decides something, written by the core beside the
//! change it records, so the adapter commits both in one atomic step — nothing
//! lost, nothing invented. No event holds a secret, a code, a token or a full
//! phone number or address: only ids, types, masked destinations and counts.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::env::Env;
use crate::ids::random_id;
use crate::policy::Method;

macro_rules! event_types {
    ($($variant:ident => $name:literal,)*) => {
        /// What happened: the event's `type` (API.md "Audit log", and the additions
        /// in docs/AUDIT.md).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        pub enum EventType {
            $(#[serde(rename = $name)] $variant,)*
        }

        impl EventType {
            /// Every type, in the order docs/AUDIT.md lists them.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => $name,)*
                }
            }

            /// The type named `name` (`verify.failed`), if there is one.
            pub fn parse(name: &str) -> Option<EventType> {
                match name {
                    $($name => Some(EventType::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

event_types! {
    TenantCreated => "tenant.created",
    TenantUpdated => "tenant.updated",
    PolicyUpdated => "policy.updated",
    KeyRotated => "key.rotated",
    KeyRetired => "key.retired",
    WebhookUpdated => "webhook.updated",
    AssessDecided => "assess.decided",
    EnrollmentStarted => "enrollment.started",
    EnrollmentActivated => "enrollment.activated",
    FactorEnrolled => "factor.enrolled",
    FactorRenamed => "factor.renamed",
    FactorRemoved => "factor.removed",
    ChallengeCreated => "challenge.created",
    CodeSent => "code.sent",
    VerifySucceeded => "verify.succeeded",
    VerifyFailed => "verify.failed",
    ApprovalAnswered => "approval.answered",
    BackupCodeRedeemed => "backup_code.redeemed",
    BackupCodesRegenerated => "backup_codes.regenerated",
    LockoutStarted => "lockout.started",
    UserUnlocked => "user.unlocked",
    DeviceRemembered => "device.remembered",
    DeviceRevoked => "device.revoked",
    DevicesCleared => "devices.cleared",
    BypassGranted => "bypass.granted",
    BypassEnded => "bypass.ended",
    UserReset => "user.reset",
    UserErased => "user.erased",
    RequirementUpdated => "requirement.updated",
    HelpRequestCreated => "help_request.created",
    HelpRequestResolved => "help_request.resolved",
    WebhookFailed => "webhook.failed",
}

/// Who acted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Actor {
    /// The user, with a ticket.
    User,
    /// The tenant's admin key.
    Admin,
    /// The deployment's operator key.
    Operator,
    /// edge-mfa itself (a lockout starting, a webhook given up).
    System,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum EventOutcome {
    Success,
    Failure,
}

/// The factor an event is about: its id when one factor is meant, and its type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AuditFactor")
)]
pub struct FactorRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub method: Method,
}

/// Where a request came from, as the platform (never the client) tells it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Source {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// The `User-Agent` header, control characters removed, at most 256 characters
    /// (`MAX_USER_AGENT_CHARS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(length(max = 256)))]
    pub user_agent: Option<String>,
}

/// User agents are kept to this many characters.
pub const MAX_USER_AGENT_CHARS: usize = 256;

impl Source {
    /// A source with the user agent cut to [`MAX_USER_AGENT_CHARS`] and stripped
    /// of control characters (it is shown in the console and exported as text).
    pub fn new(ip: Option<String>, country: Option<String>, user_agent: Option<&str>) -> Source {
        let user_agent = user_agent
            .map(|ua| {
                ua.chars()
                    .filter(|c| !c.is_control())
                    .take(MAX_USER_AGENT_CHARS)
                    .collect::<String>()
            })
            .filter(|ua| !ua.is_empty());
        Source {
            ip,
            country,
            user_agent,
        }
    }
}

/// One entry of the audit log (API.md "Audit log"). `at` is Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AuditEvent {
    /// `evt_` and 22 random base64url characters: unique, so a redelivered event
    /// is stored once.
    #[cfg_attr(feature = "schema", schemars(pattern("^evt_")))]
    pub id: String,
    pub at: u64,
    #[serde(rename = "type")]
    pub event: EventType,
    pub actor: Actor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub outcome: EventOutcome,
    /// For a failure: the problem `code` the client got (`verification_failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<FactorRef>,
    #[serde(flatten)]
    pub source: Source,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub detail: Map<String, Value>,
}

impl AuditEvent {
    /// A successful `event` by `actor` about `user` (if any) at `env.now`.
    pub fn new(
        event: EventType,
        actor: Actor,
        user: Option<&str>,
        source: &Source,
        env: &mut Env<'_>,
    ) -> AuditEvent {
        AuditEvent {
            id: format!("evt_{}", random_id(env)),
            at: env.now,
            event,
            actor,
            user: user.map(str::to_string),
            outcome: EventOutcome::Success,
            reason: None,
            factor: None,
            source: source.clone(),
            detail: Map::new(),
        }
    }

    /// The event as a failure, for `reason`.
    pub fn failed(mut self, reason: &str) -> AuditEvent {
        self.outcome = EventOutcome::Failure;
        self.reason = Some(reason.to_string());
        self
    }

    pub fn with_factor(mut self, id: Option<&str>, method: Method) -> AuditEvent {
        self.factor = Some(FactorRef {
            id: id.map(str::to_string),
            method,
        });
        self
    }

    /// Adds `detail`'s fields (a JSON object; anything else is ignored).
    pub fn with_detail(mut self, detail: Value) -> AuditEvent {
        if let Value::Object(map) = detail {
            self.detail.extend(map);
        }
        self
    }
}

/// What an audit query asks for (API.md "Audit log"): every bound optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// `at >= since`.
    pub since: Option<u64>,
    /// `at < until`.
    pub until: Option<u64>,
    pub user: Option<String>,
    pub event: Option<EventType>,
    /// 1–1000.
    pub limit: usize,
    /// The log position after which the page starts (from an opaque cursor).
    pub after: Option<u64>,
}

/// Audit retention: 30 days unless the tenant says otherwise, at most a year.
pub const DEFAULT_RETENTION_DAYS: u16 = 30;
pub const MAX_RETENTION_DAYS: u16 = 365;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::SeededRandom;

    #[test]
    fn every_type_round_trips_through_its_name() {
        for event in EventType::ALL {
            assert_eq!(EventType::parse(event.as_str()), Some(*event));
            let json = serde_json::to_value(event).unwrap();
            assert_eq!(json, Value::String(event.as_str().into()));
        }
        assert_eq!(EventType::parse("verify.nope"), None);
        // The contract's types are all there.
        for name in [
            "tenant.created",
            "policy.updated",
            "key.rotated",
            "assess.decided",
            "enrollment.started",
            "factor.enrolled",
            "factor.renamed",
            "factor.removed",
            "challenge.created",
            "code.sent",
            "verify.succeeded",
            "verify.failed",
            "backup_code.redeemed",
            "backup_codes.regenerated",
            "lockout.started",
            "user.unlocked",
            "device.remembered",
            "device.revoked",
            "devices.cleared",
            "bypass.granted",
            "user.reset",
            "requirement.updated",
            "help_request.created",
            "help_request.resolved",
            "webhook.failed",
        ] {
            assert!(EventType::parse(name).is_some(), "{name}");
        }
    }

    #[test]
    fn an_event_has_the_contract_shape() {
        let mut random = SeededRandom::new(1);
        let mut env = Env::new(1_767_225_600, &mut random);
        let source = Source::new(
            Some("198.51.100.7".into()),
            Some("NL".into()),
            Some("agent\u{7}\nx"),
        );
        let event = AuditEvent::new(
            EventType::VerifyFailed,
            Actor::User,
            Some("alice"),
            &source,
            &mut env,
        )
        .failed("verification_failed")
        .with_factor(Some("f1"), Method::Totp)
        .with_detail(serde_json::json!({"stage": "verify"}));
        let json = serde_json::to_value(&event).unwrap();
        assert!(json["id"].as_str().unwrap().starts_with("evt_"));
        assert_eq!(json["at"], 1_767_225_600);
        assert_eq!(json["type"], "verify.failed");
        assert_eq!(json["actor"], "user");
        assert_eq!(json["user"], "alice");
        assert_eq!(json["outcome"], "failure");
        assert_eq!(json["reason"], "verification_failed");
        assert_eq!(
            json["factor"],
            serde_json::json!({"id": "f1", "type": "totp"})
        );
        assert_eq!(json["ip"], "198.51.100.7");
        assert_eq!(json["country"], "NL");
        assert_eq!(json["user_agent"], "agentx");
        assert_eq!(json["detail"], serde_json::json!({"stage": "verify"}));
        let back: AuditEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }
}
