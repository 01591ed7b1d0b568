//! Request bodies as sent. Unknown fields are refused: a typo such as
//! `"remember_devise": true` should fail loudly, not be silently ignored.

use edge_mfa_core::Secret;
use edge_mfa_core::policy::Method;
use edge_mfa_webauthn::json::{AuthenticationResponseJson, RegistrationResponseJson};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::http::ApiRequest;
use crate::problem::ApiError;

/// Longest code accepted from a client (backup codes with spaces included).
const MAX_CODE_LEN: usize = 64;

/// `POST enroll`: the factor type, its name, and for email and SMS where codes go.
#[derive(Debug, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(
        rename = "EnrollRequest",
        extend("allOf" = [
            {
                "if": { "properties": { "type": { "const": "sms" } } },
                "then": { "required": ["to"], "properties": { "to": { "type": "string", "minLength": 1 } } }
            },
            {
                "if": { "properties": { "type": { "enum": ["totp", "webauthn", "push"] } } },
                "then": { "properties": { "to": { "type": "null" } } }
            }
        ])
    )
)]
#[serde(deny_unknown_fields)]
pub struct EnrollBody {
    #[serde(rename = "type")]
    #[cfg_attr(feature = "schema", schemars(schema_with = "enrollable_method"))]
    pub method: Method,
    #[serde(default)]
    #[cfg_attr(
        feature = "schema",
        schemars(length(max = 64), pattern(edge_mfa_core::patterns::NAME_OR_EMPTY))
    )]
    pub name: Option<String>,
    /// sms: a mobile phone number with its country code, E.164 (+447400123456) or
    /// with spaces, dots, dashes or brackets between the digits (no letters);
    /// email: an address (default: the ticket's email).
    #[serde(default)]
    pub to: Option<String>,
}

/// The methods a factor is enrolled as (backup codes come with the first factor).
#[cfg(feature = "schema")]
fn enrollable_method(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "enum": ["totp", "webauthn", "sms", "email", "push"] })
}

/// `POST enroll/{id}/confirm`: `code` (TOTP, email, SMS), `credential`
/// (WebAuthn), or neither (push: what the phone sent when it activated).
#[derive(Debug, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(
        rename = "ConfirmRequest",
        extend("oneOf" = [
            { "required": ["code"], "properties": { "code": { "type": "string" }, "credential": { "type": "null" } } },
            { "required": ["credential"], "properties": {
                "credential": { "$ref": "#/components/schemas/RegistrationResponseJSON" },
                "code": { "type": "null" } } },
            { "properties": { "code": { "type": "null" }, "credential": { "type": "null" } } }
        ])
    )
)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = 64)))]
    pub code: Option<Secret<String>>,
    /// RegistrationResponseJSON, as `PublicKeyCredential.toJSON()` gives it.
    #[serde(default)]
    pub credential: Option<RegistrationResponseJson>,
}

/// `POST challenge`: `factor_id`, or `type` (a type with several factors of it
/// for a code needs `factor_id`).
#[derive(Debug, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(
        rename = "ChallengeRequest",
        extend("anyOf" = [
            { "required": ["factor_id"], "properties": { "factor_id": { "type": "string" } } },
            { "required": ["type"], "properties": { "type": { "type": "string" } } }
        ])
    )
)]
#[serde(deny_unknown_fields)]
pub struct ChallengeBody {
    #[serde(default)]
    pub factor_id: Option<String>,
    #[serde(default, rename = "type")]
    #[cfg_attr(feature = "schema", schemars(schema_with = "challenged_method"))]
    pub method: Option<Method>,
}

/// The methods a challenge is made for, or `null`.
#[cfg(feature = "schema")]
fn challenged_method(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "enum": ["totp", "webauthn", "email", "sms", "push", null] })
}

/// `POST verify`: a code (TOTP, with `challenge_id` or `type` totp), a
/// credential (WebAuthn, with `challenge_id`), or `challenge_id` alone (push:
/// has the phone answered?).
#[derive(Debug, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(
        rename = "VerifyRequest",
        extend("anyOf" = [
            { "required": ["challenge_id", "code"], "properties": {
                "challenge_id": { "type": "string" }, "code": { "type": "string" }, "credential": { "type": "null" } } },
            { "required": ["type", "code"], "properties": {
                "type": { "const": "totp" }, "code": { "type": "string" }, "credential": { "type": "null" } } },
            { "required": ["challenge_id", "credential"], "properties": {
                "challenge_id": { "type": "string" },
                "credential": { "$ref": "#/components/schemas/AuthenticationResponseJSON" },
                "code": { "type": "null" } } },
            { "required": ["challenge_id"], "properties": {
                "challenge_id": { "type": "string" }, "code": { "type": "null" }, "credential": { "type": "null" } } }
        ])
    )
)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    #[serde(default)]
    pub challenge_id: Option<String>,
    /// totp verifies a TOTP code without a challenge; with a challenge_id the
    /// challenge decides.
    #[serde(default, rename = "type")]
    pub method: Option<Method>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = 64)))]
    pub code: Option<Secret<String>>,
    /// AuthenticationResponseJSON, as `PublicKeyCredential.toJSON()` gives it.
    #[serde(default)]
    pub credential: Option<AuthenticationResponseJson>,
    /// Remember this device (policy `remember_device`): the answer sets the device
    /// cookie (and carries `device_token` where the policy says so).
    #[serde(default)]
    pub remember_device: bool,
}

/// `POST assess`: the device token of a remembered device, for clients without
/// the cookie.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AssessRequest")
)]
#[serde(deny_unknown_fields)]
pub struct AssessBody {
    #[serde(default)]
    pub device_token: Option<Secret<String>>,
}

/// `POST …/admin/users/{user}/bypass`: for how many minutes (at most a week).
#[derive(Debug, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "BypassRequest")
)]
#[serde(deny_unknown_fields)]
pub struct BypassBody {
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 10_080)))]
    pub minutes: u32,
}

/// `POST /v1/{tenant}/help`: what the user tells the admins.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "HelpRequestMessage")
)]
#[serde(deny_unknown_fields)]
pub struct HelpBody {
    #[serde(default)]
    #[cfg_attr(
        feature = "schema",
        schemars(length(max = 500), pattern(edge_mfa_core::patterns::TEXT))
    )]
    pub message: Option<String>,
}

/// `POST …/admin/help-requests/{id}/resolve`: what the admin did, for a bypass
/// how long (minutes, 60 when absent), and a note for the other admins.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "HelpResolution")
)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    #[serde(default)]
    pub action: edge_mfa_core::help::HelpAction,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 10_080)))]
    pub minutes: Option<u32>,
    #[serde(default)]
    #[cfg_attr(
        feature = "schema",
        schemars(length(max = 500), pattern(edge_mfa_core::patterns::TEXT))
    )]
    pub note: Option<String>,
}

/// `PUT …/admin/users/{user}/requirement`: require MFA of the user whatever the
/// mode, with an enrollment period of `enrollment_days` (7 when absent) from now;
/// or lift it.
#[derive(Debug, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "RequirementRequest")
)]
#[serde(deny_unknown_fields)]
pub struct RequirementBody {
    pub required: bool,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 365)))]
    pub enrollment_days: Option<u16>,
}

/// `PATCH factors/{id}`: the factor's new name.
#[derive(Debug, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "FactorRename")
)]
#[serde(deny_unknown_fields)]
pub struct RenameBody {
    #[cfg_attr(
        feature = "schema",
        schemars(length(min = 1, max = 64), pattern(edge_mfa_core::patterns::NAME))
    )]
    pub name: String,
}

/// `POST backup-codes/redeem`.
#[derive(Debug, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "RedeemRequest")
)]
#[serde(deny_unknown_fields)]
pub struct RedeemBody {
    /// 12 symbols of Crockford base32 as printed (xxxx-xxxx-xxxx); case, spaces
    /// and hyphens do not matter, and o, i, l read as 0, 1, 1.
    #[cfg_attr(
        feature = "schema",
        schemars(length(max = 64), pattern(edge_mfa_core::patterns::BACKUP_CODE))
    )]
    pub code: Secret<String>,
    /// As `verify`'s.
    #[serde(default)]
    pub remember_device: bool,
}

/// `POST approver/activation`: the phone opened its activation link (whose
/// fragment holds these).
#[derive(Debug, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "ActivationRequest")
)]
#[serde(deny_unknown_fields)]
pub struct ActivationBody {
    /// The user id, as the ticket named them.
    #[cfg_attr(
        feature = "schema",
        schemars(length(min = 1, max = 256), pattern(edge_mfa_core::patterns::USER_ID))
    )]
    pub user: String,
    pub enrollment_id: String,
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = 64)))]
    pub activation_code: Secret<String>,
}

/// `POST approver/activate`: the phone's Approver credential and push
/// subscription.
#[derive(Debug, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "ActivateRequest")
)]
#[serde(deny_unknown_fields)]
pub struct ActivateBody {
    #[cfg_attr(
        feature = "schema",
        schemars(length(min = 1, max = 256), pattern(edge_mfa_core::patterns::USER_ID))
    )]
    pub user: String,
    pub enrollment_id: String,
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = 64)))]
    pub activation_code: Secret<String>,
    /// RegistrationResponseJSON of the Approver's credential.
    pub credential: RegistrationResponseJson,
    /// `PushSubscription.toJSON()`.
    pub subscription: edge_mfa_webpush::PushSubscription,
    /// The phone's name (the enrollment's when absent).
    #[serde(default)]
    #[cfg_attr(
        feature = "schema",
        schemars(length(max = 64), pattern(edge_mfa_core::patterns::NAME_OR_EMPTY))
    )]
    pub name: Option<String>,
}

/// `POST approver/approval`: the approval a push message named.
#[derive(Debug, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "ApprovalRequest")
)]
#[serde(deny_unknown_fields)]
pub struct ApprovalBody {
    #[cfg_attr(
        feature = "schema",
        schemars(length(min = 1, max = 256), pattern(edge_mfa_core::patterns::USER_ID))
    )]
    pub user: String,
    pub approval_id: String,
}

/// What the phone says of a sign-in.
#[derive(Clone, Copy, Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ApproverAnswer {
    /// With the number the sign-in page shows.
    Approve,
    Deny,
    /// "This wasn't me".
    Report,
}

/// `POST approver/answer`: the answer, signed by the Approver's credential over
/// SHA-256("edge-mfa approval" 0x00 approval_id 0x00 answer), the answer being
/// the number typed, `deny` or `report` (docs/PUSH.md).
#[derive(Debug, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(
        rename = "AnswerRequest",
        extend("allOf" = [{
            "if": { "properties": { "answer": { "const": "approve" } } },
            "then": { "required": ["number"], "properties": { "number": { "type": "string" } } },
            "else": { "properties": { "number": { "type": "null" } } }
        }])
    )
)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    #[cfg_attr(
        feature = "schema",
        schemars(length(min = 1, max = 256), pattern(edge_mfa_core::patterns::USER_ID))
    )]
    pub user: String,
    pub approval_id: String,
    pub answer: ApproverAnswer,
    /// With `approve`: the digits the sign-in page shows.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = 64)))]
    pub number: Option<Secret<String>>,
    /// AuthenticationResponseJSON of the Approver's credential.
    pub credential: AuthenticationResponseJson,
}

/// Parses a JSON body into `T`, with a message that says what is wrong.
pub fn parse_body<T: DeserializeOwned>(req: &ApiRequest) -> Result<T, ApiError> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::InvalidRequest("a JSON body is required".into()));
    }
    let mut json = serde_json::Deserializer::from_slice(&req.body);
    // Every body is declared an object (API.md): `[null]` is not an `AssessBody`.
    let value = serde_path_to_error::deserialize(edge_mfa_json::Strict(&mut json))
        .map_err(|e| invalid_json(&e))?;
    json.end()
        .map_err(|e| ApiError::InvalidRequest(format!("invalid JSON body: {e}")))?;
    Ok(value)
}

/// `invalid JSON body: <field path>: <what is wrong>`, the path left out when the
/// body itself is wrong.
fn invalid_json(e: &serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    if path == "." || path.is_empty() {
        ApiError::InvalidRequest(format!("invalid JSON body: {}", e.inner()))
    } else {
        ApiError::InvalidRequest(format!("invalid JSON body: {path}: {}", e.inner()))
    }
}

/// `T` from a JSON value (a merge-patched policy), with the field path in errors.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(edge_mfa_json::Strict(value)).map_err(|e| {
        let path = e.path().to_string();
        ApiError::InvalidRequest(format!("invalid policy: {path}: {}", e.inner()))
    })
}

/// Like [`parse_body`], but an empty body means the defaults.
pub fn parse_optional_body<T: DeserializeOwned + Default>(req: &ApiRequest) -> Result<T, ApiError> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        parse_body(req)
    }
}

/// A code of 1–64 characters (Unicode scalar values, as JSON Schema's
/// `maxLength` counts them), refused before anything is looked up.
pub fn check_code(code: &Secret<String>) -> Result<(), ApiError> {
    let code = code.expose();
    // The bytes bound first: a cheap stop for a long string (4 bytes per char at most).
    if code.is_empty() || code.len() > 4 * MAX_CODE_LEN || code.chars().count() > MAX_CODE_LEN {
        return Err(ApiError::InvalidRequest(format!(
            "code must be 1-{MAX_CODE_LEN} characters"
        )));
    }
    Ok(())
}
