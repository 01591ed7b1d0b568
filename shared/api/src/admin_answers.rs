//! The admin's, the operator's and the deployment's answers (API.md "Admin",
//! "Operator"), one type per shape, as [`crate::answers`] holds the end user's.
//! Members the contract marks optional are left out when absent, never `null`.

use edge_mfa_core::assess::Enrollment;
use edge_mfa_core::audit::AuditEvent;
use edge_mfa_core::command::{FactorView, UserStatus};
use edge_mfa_core::devices::DeviceView;
use edge_mfa_core::help::HelpRequest;
use edge_mfa_core::ids::UserId;
use edge_mfa_core::tenant::Tenant;
use edge_mfa_core::user::Requirement;
use edge_mfa_core::webhook::Webhook;
use serde::Serialize;

use crate::backend::TenantListing;

#[cfg(feature = "schema")]
use schemars::{Schema, SchemaGenerator, json_schema};

/// `GET` and `PATCH …/admin/tenant`: identity, version and public key ids, never a
/// secret. Times in Unix seconds.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct TenantView<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub rp_id: &'a str,
    pub origins: &'a [String],
    pub created_at: u64,
    /// The configuration version: a higher one is a later change.
    pub version: u64,
    /// The key ids of the JWKS, the signing one first.
    pub signing_keys: Vec<String>,
    /// After a rotation: until when tickets signed with the previous secret pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_ticket_secret_until: Option<u64>,
    /// How long the audit log keeps events.
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 365)))]
    pub audit_retention_days: u16,
}

impl<'a> From<&'a Tenant> for TenantView<'a> {
    fn from(tenant: &'a Tenant) -> Self {
        TenantView {
            id: tenant.id.as_str(),
            name: &tenant.name,
            rp_id: &tenant.rp_id,
            origins: &tenant.origins,
            created_at: tenant.created_at,
            version: tenant.version,
            signing_keys: tenant.jwks().keys.into_iter().map(|k| k.kid).collect(),
            previous_ticket_secret_until: tenant.previous_ticket_secret_until(),
            audit_retention_days: tenant.audit_retention_days,
        }
    }
}

/// A per-user requirement: MFA is required of the user, who must enroll by
/// `deadline` (Unix seconds).
#[derive(Serialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "Requirement")
)]
pub(crate) struct RequirementView {
    #[cfg_attr(feature = "schema", schemars(extend("const" = true)))]
    pub required: bool,
    pub set_at: u64,
    /// The end of the user's enrollment period.
    pub deadline: u64,
}

impl From<&Requirement> for RequirementView {
    fn from(r: &Requirement) -> Self {
        RequirementView {
            required: true,
            set_at: r.set_at,
            deadline: r.deadline,
        }
    }
}

/// `GET …/admin/users/{user}` (and `PUT …/requirement`): the user's MFA status.
/// Times in Unix seconds.
#[derive(Serialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "UserStatus")
)]
pub(crate) struct UserStatusView<'a> {
    pub user: &'a str,
    pub enrollment: Enrollment,
    pub factors: Vec<FactorView>,
    pub backup_codes_remaining: usize,
    pub trusted_devices: Vec<DeviceView>,
    pub last_mfa_at: Option<u64>,
    /// False for a user edge-mfa has never had a request from.
    pub seen: bool,
    pub first_seen: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bypass_until: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirement: Option<RequirementView>,
    /// The user's open help request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help_request: Option<HelpRequest>,
}

impl<'a> UserStatusView<'a> {
    pub fn new(user: &'a UserId, status: UserStatus) -> Self {
        UserStatusView {
            user: user.as_str(),
            enrollment: status.enrollment,
            factors: status.factors,
            backup_codes_remaining: status.backup_codes_remaining,
            trusted_devices: status.trusted_devices,
            last_mfa_at: status.last_mfa_at,
            seen: status.first_seen.is_some(),
            first_seen: status.first_seen,
            locked_until: status.locked_until,
            bypass_until: status.bypass_until,
            requirement: status.requirement.as_ref().map(RequirementView::from),
            help_request: status.help_request,
        }
    }
}

/// `POST …/admin/users/{user}/bypass`: until when (Unix seconds).
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct BypassGranted {
    pub bypass_until: u64,
}

/// `POST …/admin/keys/signing/rotate`: the new signing key's id, now in the JWKS.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct SigningKeyRotated<'a> {
    pub kid: &'a str,
}

/// `POST …/admin/keys/ticket-secret/rotate`: the new secret, shown once.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct TicketSecretRotated<'a> {
    pub ticket_secret: &'a str,
}

/// `POST …/admin/keys/admin-key/rotate`: the new admin key, shown once.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct AdminKeyRotated<'a> {
    pub admin_key: &'a str,
}

/// `GET` and `PUT …/admin/webhook`: never the secret, except a new one once.
#[derive(Serialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "Webhook")
)]
pub(crate) struct WebhookView<'a> {
    #[cfg_attr(feature = "schema", schemars(extend("format" = "uri")))]
    pub url: &'a str,
    #[cfg_attr(feature = "schema", schemars(schema_with = "notification_types"))]
    pub events: &'a [String],
    #[cfg_attr(feature = "schema", schemars(extend("const" = true)))]
    pub secret_set: bool,
    /// Only in the answer to the first PUT: shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(pattern("^whsec_")))]
    pub secret: Option<&'a str>,
    /// After a rotation: until when the previous secret still signs (both
    /// signatures are sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret_until: Option<u64>,
}

impl<'a> WebhookView<'a> {
    pub fn new(hook: &'a Webhook, now: u64, secret: Option<&'a str>) -> Self {
        WebhookView {
            url: &hook.url,
            events: &hook.events,
            secret_set: true,
            secret,
            previous_secret_until: hook.previous_until(now),
        }
    }
}

/// The notification types a webhook may subscribe to, as a JSON Schema array.
#[cfg(feature = "schema")]
pub(crate) fn notification_types(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "array", "items": { "enum": edge_mfa_core::webhook::EVENT_TYPES } })
}

/// `POST …/admin/webhook/secret`: the new secret, shown once.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct WebhookSecret<'a> {
    #[cfg_attr(feature = "schema", schemars(pattern("^whsec_")))]
    pub secret: &'a str,
}

/// `POST …/admin/webhook/test`: the endpoint's HTTP status and how long it took.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct WebhookTested {
    pub status: u16,
    pub duration_ms: u64,
}

/// `POST /v1/deliveries`: notifications attempted and delivered.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct DeliveriesRun {
    pub attempted: usize,
    pub delivered: usize,
}

/// `GET …/admin/users`: a page of users; `next` while more follow.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct UsersPage<'a> {
    pub users: &'a [crate::admin_views::UserRow<'a>],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<&'a str>,
}

/// `GET …/admin/help-requests`: a page of requests, oldest first.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct HelpRequestsPage<'a> {
    pub requests: &'a [HelpRequest],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<&'a str>,
}

/// `GET …/admin/audit`: a page of events, oldest first.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct AuditPage<'a> {
    pub events: &'a [AuditEvent],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<&'a str>,
    /// The position of this page's last event (opaque): pass it as `cursor` later
    /// to read only newer events.
    pub cursor: &'a str,
}

/// `GET /v1/tenants`: a page of tenants, in id order.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct TenantsPage<'a> {
    pub tenants: &'a [TenantListing],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<&'a str>,
}

/// `GET /health` 200: `{"status": "ok"}`.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct Ready {
    #[cfg_attr(feature = "schema", schemars(extend("const" = "ok")))]
    pub status: &'static str,
}

/// `GET /health` 503: each problem, never a secret.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct Misconfigured<'a> {
    #[cfg_attr(feature = "schema", schemars(extend("const" = "misconfigured")))]
    pub status: &'static str,
    pub problems: &'a [&'a str],
}
