//! The HTTP API of edge-mfa (API.md), independent of any runtime.
//!
//! An adapter turns its request into an [`ApiRequest`], implements [`Backend`] over
//! its storage, calls [`handle`], and turns the [`ApiResponse`] back. Everything
//! else — routing, authentication, CORS, problem details, token issuance — is here,
//! once, for Cloudflare and Spin alike.

// A Spin component builds one route group (Cargo.toml): the other groups' code is
// unused there. The full build (clippy, the tests, the Worker) holds it to the lints.
#![cfg_attr(not(every_route), allow(dead_code, unused_imports, unused_variables))]

mod admin_answers;
mod admin_api;
mod admin_views;
mod answers;
mod auth;
mod backend;
pub mod codes;
mod health;
mod http;
#[cfg(feature = "schema")]
pub mod openapi;
mod operator_api;
mod problem;
mod push;
mod routes;
pub mod tenant_log;
mod user_api;
pub mod webhooks;
mod wire;

pub use auth::{Deployment, STEP_UP_MAX_AGE};
pub use backend::{Backend, BackendError, DeliveryError, TenantListing, TenantPage};
pub use health::misconfigured;
pub use http::{
    ApiRequest, ApiResponse, BodyReader, Client, MAX_BODY_BYTES, declares_too_large, percent_decode,
};
pub use problem::ApiError;
pub use routes::{TENANT_PATHS, handle};
pub use webhooks::{Attempt, Queued, RETRY_FOR_SECONDS, attempt, deliver_due, retry_at};

/// The OpenAPI 3.1 document served at `/openapi.json` (feature `openapi`).
#[cfg(feature = "openapi")]
pub const OPENAPI: &str = include_str!("../openapi.json");
