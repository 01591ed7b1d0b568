//! The API's one error type, rendered as RFC 9457 problem details.

use edge_mfa_core::CoreError;

use crate::http::ApiResponse;

/// Every `code` a problem carries, as [`ApiError::code`] names them (the
/// OpenAPI document lists them).
#[cfg(any(test, feature = "schema"))]
pub const CODES: &[&str] = &[
    "invalid_request",
    "unauthorized",
    "forbidden",
    "step_up_required",
    "not_found",
    "method_not_allowed",
    "conflict",
    "expired",
    "payload_too_large",
    "verification_failed",
    "rate_limited",
    "internal",
    "misconfigured",
    "delivery_failed",
];

/// RFC 9457 problem details (`application/problem+json`), with the error's
/// machine-readable `code`. Open to members added later (RFC 9457 §3.2).
#[derive(serde::Serialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(extend("additionalProperties" = true))
)]
pub(crate) struct Problem {
    /// `urn:edge-mfa:error:<code>`.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "schema", schemars(pattern("^urn:edge-mfa:error:")))]
    pub type_: String,
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What was wrong, for a person.
    pub detail: String,
    #[cfg_attr(feature = "schema", schemars(extend("enum" = CODES)))]
    pub code: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    InvalidRequest(String),
    /// No, expired or forged credentials. Answered with `WWW-Authenticate`.
    Unauthorized(String),
    Forbidden(String),
    StepUpRequired(String),
    NotFound(String),
    /// RFC 9110 §15.5.6: answered with `Allow`, the methods the path serves.
    MethodNotAllowed {
        allow: &'static str,
    },
    Conflict(String),
    Expired(String),
    VerificationFailed(String),
    PayloadTooLarge,
    RateLimited {
        retry_after: u64,
    },
    /// Logged by the adapter with its detail; the client sees none.
    Internal(String),
    /// The deployment's settings are missing or wrong (`MASTER_KEY`, ...): 503
    /// until its operator fixes them. Logged with the reason; `GET /health` shows it.
    Misconfigured(String),
    /// The tenant's webhook did not take a delivery that the request needs (a
    /// code): 502, and the code is void.
    DeliveryFailed(String),
}

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            ApiError::InvalidRequest(_) => 400,
            ApiError::Unauthorized(_) => 401,
            ApiError::Forbidden(_) | ApiError::StepUpRequired(_) => 403,
            ApiError::NotFound(_) => 404,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::Conflict(_) => 409,
            ApiError::Expired(_) => 410,
            ApiError::PayloadTooLarge => 413,
            ApiError::VerificationFailed(_) => 422,
            ApiError::RateLimited { .. } => 429,
            ApiError::Internal(_) => 500,
            ApiError::Misconfigured(_) => 503,
            ApiError::DeliveryFailed(_) => 502,
        }
    }

    /// The `code` member and the last part of `type` (API.md).
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidRequest(_) => "invalid_request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::StepUpRequired(_) => "step_up_required",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::Expired(_) => "expired",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::VerificationFailed(_) => "verification_failed",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Internal(_) => "internal",
            ApiError::Misconfigured(_) => "misconfigured",
            ApiError::DeliveryFailed(_) => "delivery_failed",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::InvalidRequest(_) => "Invalid request",
            ApiError::Unauthorized(_) => "Unauthorized",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::StepUpRequired(_) => "Step-up required",
            ApiError::NotFound(_) => "Not found",
            ApiError::MethodNotAllowed { .. } => "Method not allowed",
            ApiError::Conflict(_) => "Conflict",
            ApiError::Expired(_) => "Expired",
            ApiError::PayloadTooLarge => "Payload too large",
            ApiError::VerificationFailed(_) => "Verification failed",
            ApiError::RateLimited { .. } => "Too many attempts",
            ApiError::Internal(_) => "Internal error",
            ApiError::Misconfigured(_) => "Service misconfigured",
            ApiError::DeliveryFailed(_) => "Delivery failed",
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::InvalidRequest(d)
            | ApiError::Unauthorized(d)
            | ApiError::Forbidden(d)
            | ApiError::StepUpRequired(d)
            | ApiError::NotFound(d)
            | ApiError::Conflict(d)
            | ApiError::Expired(d)
            | ApiError::VerificationFailed(d)
            | ApiError::DeliveryFailed(d) => d.clone(),
            ApiError::MethodNotAllowed { allow } => {
                format!("this path does not serve that method; it serves {allow}")
            }
            ApiError::PayloadTooLarge => format!(
                "bodies are limited to {} bytes",
                crate::http::MAX_BODY_BYTES
            ),
            ApiError::RateLimited { retry_after } => {
                format!("too many failed attempts; try again in {retry_after} seconds")
            }
            ApiError::Internal(_) => "the server could not complete the request".into(),
            ApiError::Misconfigured(_) => {
                "the deployment is misconfigured; its operator sees why at GET /health and in the logs".into()
            }
        }
    }

    pub fn to_response(&self) -> ApiResponse {
        let problem = Problem {
            type_: format!("urn:edge-mfa:error:{}", self.code()),
            title: self.title(),
            status: self.status(),
            detail: self.detail(),
            code: self.code(),
        };
        let mut response = ApiResponse::serialized(self.status(), &problem)
            .unwrap_or_else(|_| ApiResponse::empty(self.status()));
        if let Some((_, ct)) = response
            .headers
            .iter_mut()
            .find(|(n, _)| n == "content-type")
        {
            *ct = "application/problem+json".into();
        }
        match self {
            ApiError::Internal(detail) | ApiError::Misconfigured(detail) => ApiResponse {
                log: Some(detail.clone()),
                ..response
            },
            ApiError::Unauthorized(_) => {
                response.with_header("www-authenticate", r#"Bearer error="invalid_token""#)
            }
            ApiError::RateLimited { retry_after } => {
                response.with_header("retry-after", retry_after.to_string())
            }
            ApiError::MethodNotAllowed { allow } => response.with_header("allow", *allow),
            _ => response,
        }
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> ApiError {
        let message = e.to_string();
        match e {
            CoreError::InvalidRequest(_) => ApiError::InvalidRequest(message),
            CoreError::NotFound(_) => ApiError::NotFound(message),
            CoreError::Conflict(_) => ApiError::Conflict(message),
            CoreError::Expired(_) => ApiError::Expired(message),
            CoreError::WrongCode(_) | CoreError::VerificationFailed(_) => {
                ApiError::VerificationFailed(message)
            }
            CoreError::Forbidden(_) => ApiError::Forbidden(message),
            CoreError::Unauthorized(_) => ApiError::Unauthorized(message),
            CoreError::RateLimited { retry_after } => ApiError::RateLimited { retry_after },
            CoreError::StepUpRequired => ApiError::StepUpRequired(message),
            CoreError::Internal(detail) => ApiError::Internal(detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_details_shape() {
        let r = ApiError::RateLimited { retry_after: 42 }.to_response();
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after"), Some("42"));
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["type"], "urn:edge-mfa:error:rate_limited");
        assert_eq!(body["code"], "rate_limited");
        assert_eq!(body["status"], 429);
    }

    #[test]
    fn method_not_allowed_says_what_is() {
        let r = ApiError::MethodNotAllowed { allow: "GET, HEAD" }.to_response();
        assert_eq!(r.status, 405);
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
    }

    #[test]
    fn every_error_has_a_listed_code() {
        let d = String::new;
        for e in [
            ApiError::InvalidRequest(d()),
            ApiError::Unauthorized(d()),
            ApiError::Forbidden(d()),
            ApiError::StepUpRequired(d()),
            ApiError::NotFound(d()),
            ApiError::MethodNotAllowed { allow: "GET" },
            ApiError::Conflict(d()),
            ApiError::Expired(d()),
            ApiError::PayloadTooLarge,
            ApiError::VerificationFailed(d()),
            ApiError::RateLimited { retry_after: 1 },
            ApiError::Internal(d()),
            ApiError::Misconfigured(d()),
            ApiError::DeliveryFailed(d()),
        ] {
            assert!(CODES.contains(&e.code()), "{} is not in CODES", e.code());
        }
    }

    #[test]
    fn internal_errors_hide_their_detail() {
        let r = ApiError::Internal("secret detail".into()).to_response();
        assert!(!String::from_utf8(r.body).unwrap().contains("secret detail"));
    }
}
