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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollBody {
    #[serde(rename = "type")]
    pub method: Method,
    #[serde(default)]
    pub name: Option<String>,
    /// Email and SMS (API.md): where codes go.
    #[serde(default)]
    pub to: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    #[serde(default)]
    pub code: Option<Secret<String>>,
    /// RegistrationResponseJSON, as `PublicKeyCredential.toJSON()` gives it.
    #[serde(default)]
    pub credential: Option<RegistrationResponseJson>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChallengeBody {
    #[serde(default)]
    pub factor_id: Option<String>,
    #[serde(default, rename = "type")]
    pub method: Option<Method>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    #[serde(default)]
    pub challenge_id: Option<String>,
    #[serde(default, rename = "type")]
    pub method: Option<Method>,
    #[serde(default)]
    pub code: Option<Secret<String>>,
    /// AuthenticationResponseJSON, as `PublicKeyCredential.toJSON()` gives it.
    #[serde(default)]
    pub credential: Option<AuthenticationResponseJson>,
    #[serde(default)]
    pub remember_device: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessBody {
    #[serde(default)]
    pub device_token: Option<Secret<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BypassBody {
    pub minutes: u32,
}

/// `POST /v1/{tenant}/help`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelpBody {
    #[serde(default)]
    pub message: Option<String>,
}

/// `POST …/admin/help-requests/{id}/resolve`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    #[serde(default)]
    pub action: edge_mfa_core::help::HelpAction,
    #[serde(default)]
    pub minutes: Option<u32>,
    #[serde(default)]
    pub note: Option<String>,
}

/// `PUT …/admin/users/{user}/requirement`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementBody {
    pub required: bool,
    #[serde(default)]
    pub enrollment_days: Option<u16>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenameBody {
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeemBody {
    pub code: Secret<String>,
    #[serde(default)]
    pub remember_device: bool,
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
