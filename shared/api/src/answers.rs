//! The end-user routes' answers (API.md "End user (ticket)"), one type per shape,
//! so what a client receives is written down in code rather than assembled in
//! `json!` literals. Members the contract marks optional (`?`) are left out when
//! absent, never sent as `null`. Borrowed wherever the data already exists.

use edge_mfa_core::Secret;
use edge_mfa_core::assess::{Action, Enrollment};
use edge_mfa_core::command::FactorView;
use edge_mfa_core::devices::DeviceView;
use edge_mfa_core::policy::{Method, Policy};
use edge_mfa_core::tenant::Tenant;
use edge_mfa_webauthn::json::{CreationOptionsJson, RequestOptionsJson};
use serde::Serialize;

use crate::http::ApiResponse;
use crate::problem::ApiError;

/// `application/json` with `status`: an answer below, serialized.
///
/// # Errors
/// [`ApiError::Internal`] if serialization fails (it does not for these types).
pub(crate) fn respond<T: Serialize>(status: u16, answer: &T) -> Result<ApiResponse, ApiError> {
    ApiResponse::serialized(status, answer).map_err(|e| ApiError::Internal(e.to_string()))
}

/// A factor as `assess` and `confirm` name it: `{"id", "type", "name"}`.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct FactorRef<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "edge_mfa_core::policy::factor_method_schema")
    )]
    pub method: Method,
    pub name: &'a str,
}

impl<'a> From<&'a FactorView> for FactorRef<'a> {
    fn from(f: &'a FactorView) -> Self {
        FactorRef {
            id: &f.id,
            method: f.method,
            name: &f.name,
        }
    }
}

/// `GET factors`: every factor (never a secret) and how many backup codes are left.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct FactorList<'a> {
    pub factors: &'a [FactorView],
    pub backup_codes_remaining: usize,
}

/// `GET devices`: the remembered devices (never a token). Times in Unix seconds.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct DeviceList<'a> {
    pub devices: &'a [DeviceView],
}

/// `PATCH factors/{id}`: `{"factor"}`, the factor as `GET factors` lists it.
#[derive(Serialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "FactorRenamed")
)]
pub(crate) struct Renamed<'a> {
    pub factor: &'a FactorView,
}

/// `POST enroll {"type": "totp"}`: the key (RFC 4648 base32), its key URI and the
/// URI as a QR code (SVG). `expires_at` in Unix seconds.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct TotpEnrollment<'a> {
    pub enrollment_id: &'a str,
    #[serde(rename = "type")]
    #[cfg_attr(feature = "schema", schemars(extend("const" = "totp")))]
    pub method: Method,
    /// The key in base32, for manual entry.
    pub secret: &'a str,
    pub otpauth_uri: &'a str,
    pub qr_svg: &'a str,
    pub expires_at: u64,
}

/// `POST enroll {"type": "webauthn"}`: PublicKeyCredentialCreationOptionsJSON
/// (W3C WebAuthn L3 §5.4).
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct WebauthnEnrollment<'a> {
    pub enrollment_id: &'a str,
    #[serde(rename = "type")]
    #[cfg_attr(feature = "schema", schemars(extend("const" = "webauthn")))]
    pub method: Method,
    pub public_key: &'a CreationOptionsJson,
    pub expires_at: u64,
}

/// Where a code went: `email` or `sms`, and the address with most of it hidden.
#[derive(Serialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "CodeDelivery")
)]
pub(crate) struct Delivery {
    #[cfg_attr(feature = "schema", schemars(extend("enum" = ["sms", "email"])))]
    pub channel: &'static str,
    pub to_masked: String,
}

/// `POST enroll` for email or SMS: a code was sent.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct CodeEnrollment<'a> {
    pub enrollment_id: &'a str,
    #[serde(rename = "type")]
    #[cfg_attr(feature = "schema", schemars(extend("enum" = ["sms", "email"])))]
    pub method: Method,
    pub delivery: Delivery,
    pub expires_at: u64,
}

/// `confirm`, and `enroll` for an address the ticket vouches for: the new factor,
/// and with the user's first factor its backup codes (shown this once).
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct Confirmed<'a> {
    pub factor: FactorRef<'a>,
    /// Only with the user's first factor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_codes: Option<&'a [String]>,
}

impl<'a> Confirmed<'a> {
    /// The factor the core confirmed, with the backup codes it made (if any).
    pub fn new(factor: &'a FactorView, backup_codes: Option<&'a Secret<Vec<String>>>) -> Self {
        Confirmed {
            factor: factor.into(),
            backup_codes: backup_codes.map(|codes| codes.expose().as_slice()),
        }
    }
}

/// `POST challenge` and `challenge/{id}/resend`: WebAuthn's
/// PublicKeyCredentialRequestOptionsJSON, where a code went, or for push the
/// number to show.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct Challenge<'a> {
    pub challenge_id: &'a str,
    #[serde(rename = "type")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "edge_mfa_core::policy::factor_method_schema")
    )]
    pub method: Method,
    pub expires_at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<&'a RequestOptionsJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
    /// Push: the number the user types on the phone (number matching).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<&'a str>,
}

/// `POST enroll {"type": "push"}`: the link the phone opens to become an
/// Approver, and the link as a QR code (SVG). `expires_at` in Unix seconds.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct PushEnrollment<'a> {
    pub enrollment_id: &'a str,
    #[serde(rename = "type")]
    #[cfg_attr(feature = "schema", schemars(extend("const" = "push")))]
    pub method: Method,
    pub activation_url: &'a str,
    pub qr_svg: &'a str,
    pub expires_at: u64,
}

/// `202`: the phone has not activated yet, or not answered yet: ask again.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct Pending {
    #[cfg_attr(feature = "schema", schemars(extend("const" = "pending")))]
    pub state: &'static str,
}

/// `POST approver/activation`: what the phone registers its credential with.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct Activation<'a> {
    /// The application the phone approves sign-ins for.
    pub app: &'a str,
    pub public_key: &'a CreationOptionsJson,
    /// The deployment's VAPID public key (uncompressed P-256, base64url), for
    /// `PushManager.subscribe()`.
    pub application_server_key: &'a str,
}

/// `POST approver/activate` and `approver/answer`: where things stand.
#[derive(Serialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "ApproverState")
)]
pub(crate) struct ApprovalStateAnswer {
    #[cfg_attr(
        feature = "schema",
        schemars(extend("enum" = ["activated", "approved", "denied", "reported"]))
    )]
    pub state: &'static str,
}

/// `POST approver/approval`: what the sign-in is (the application, the client's
/// country where the platform tells it, when), how many digits to ask for, and
/// the request options the phone signs with: its own challenge is
/// SHA-256("edge-mfa approval" 0x00 approval_id 0x00 answer).
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct ApprovalView<'a> {
    pub app: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<&'a str>,
    pub created_at: u64,
    pub expires_at: u64,
    pub digits: u8,
    pub rp_id: &'a str,
    /// The Approver credential's id, base64url (`allowCredentials`).
    pub credential_id: &'a str,
}

impl<'a> From<&'a edge_mfa_core::command::ApprovalContext> for ApprovalView<'a> {
    fn from(c: &'a edge_mfa_core::command::ApprovalContext) -> Self {
        ApprovalView {
            app: &c.app,
            country: c.country.as_deref(),
            created_at: c.created_at,
            expires_at: c.expires_at,
            digits: c.digits,
            rp_id: &c.rp_id,
            credential_id: &c.credential_id,
        }
    }
}

/// An answer that ends in proof: the answer's own members, then the `mfa_token`,
/// its lifetime in seconds, and the device token where the tenant wants it in the
/// body.
#[derive(Serialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "{B}WithToken")
)]
pub(crate) struct WithToken<'a, B: Serialize> {
    #[serde(flatten)]
    pub body: B,
    /// ES256 JWT: iss `edge-mfa:<tenant>`, aud `<tenant>`, sub, iat, exp,
    /// auth_time, jti, amr (RFC 8176), mfa_method, acr (`mfa` when a second factor
    /// was presented now, `0` when the policy, a bypass or a remembered device let
    /// the user through).
    pub mfa_token: &'a str,
    /// Seconds until the token expires (300).
    pub expires_in: u64,
    /// Only where the policy sets `remember_device.token_in_body`: the 256-bit
    /// device token; otherwise it is only in the `Set-Cookie` (HttpOnly; Secure;
    /// SameSite=None; Partitioned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_token: Option<&'a str>,
}

/// `verify`: nothing besides the token.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct Verified {}

/// `backup-codes/redeem`: unused codes left.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct Redeemed {
    pub remaining: usize,
}

/// `POST backup-codes`: a new set, shown this once.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct BackupCodes<'a> {
    pub codes: &'a [String],
}

/// `POST help`.
#[derive(Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct HelpRequested<'a> {
    pub request_id: &'a str,
}

/// `POST assess`: the decision, the user's factors, and what the tenant's policy
/// offers a sign-in page. `mfa_token` and `expires_in` with `allow`;
/// `retry_after` (seconds) with the reason `locked`.
#[derive(Serialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "Decision")
)]
pub(crate) struct Assessment<'a> {
    pub action: Action,
    pub reasons: &'a [String],
    pub factors: Vec<FactorRef<'a>>,
    pub enrollment: Enrollment,
    /// The tenant policy's `allowed_methods`: what a sign-in page may offer to
    /// enroll or use.
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub allowed_methods: &'a [Method],
    /// What this user can set up now: `allowed_methods` less `backup_code` (it
    /// comes with the first factor), less `email` and `sms` while the tenant has
    /// no webhook, less `email` as a first factor under
    /// `delivery.email_fallback_only`.
    #[cfg_attr(feature = "schema", schemars(extend("items" = { "enum": ["totp", "webauthn", "email", "sms"] })))]
    pub enrollable_methods: Vec<Method>,
    /// The tenant policy's `default_method`: the method to ask for first.
    pub default_method: Method,
    /// Whether verify and redeem honour `remember_device`, and for how many days.
    pub remember_device: RememberDeviceOffer,
    /// When `action` is `allow`: `mfa_method` trusted_device, bypass or policy;
    /// `amr` empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa_token: Option<String>,
    /// With `mfa_token`: seconds until it expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// With the reason `locked`: seconds until codes are accepted again (WebAuthn
    /// is never locked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// Whether `remember_device` does anything, and for how many days: the policy's
/// `remember_device` without what only the backend needs (`token_in_body`).
#[derive(Serialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "RememberDeviceOffer")
)]
pub(crate) struct RememberDeviceOffer {
    pub enabled: bool,
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 365)))]
    pub days: u32,
}

impl From<&Policy> for RememberDeviceOffer {
    fn from(policy: &Policy) -> Self {
        RememberDeviceOffer {
            enabled: policy.remember_device.enabled,
            days: policy.remember_device.days,
        }
    }
}

/// The methods a user with `factors` can enroll now: the policy's, less backup
/// codes (they come with the first factor), less email and SMS while no webhook
/// delivers codes, and less email as a first factor where the policy allows it
/// only beside another (`delivery.email_fallback_only`). A sign-in page offers
/// these, so a choice is never refused for a reason the page could have known.
pub(crate) fn enrollable(tenant: &Tenant, factors: &[FactorView]) -> Vec<Method> {
    let delivery = &tenant.policy.delivery;
    let beside_another = factors.iter().any(|f| f.method != Method::Email);
    tenant
        .policy
        .allowed_methods
        .iter()
        .copied()
        .filter(|method| match method {
            Method::Totp | Method::Webauthn => true,
            Method::Sms => tenant.webhook.is_some(),
            Method::Email => {
                tenant.webhook.is_some() && (!delivery.email_fallback_only || beside_another)
            }
            Method::BackupCode => false,
            Method::Push => true,
        })
        .collect()
}
