//! edge-mfa on Cloudflare Workers.
//!
//! The Worker only translates: a `worker::Request` becomes an [`ApiRequest`], the
//! shared API does the work over [`backend::CloudflareBackend`], and the answer goes
//! back as a `worker::Response`. Each user's record lives in its own Durable Object
//! ([`user_object::UserState`]), which runs every operation on it one at a time.

mod backend;
mod crypto;
mod log_object;
mod phone_numbers;
mod platform;
mod tenant_object;
mod user_object;

use edge_mfa_api::{
    ApiError, ApiRequest, ApiResponse, BodyReader, Client, Deployment, declares_too_large,
};
use futures_util::StreamExt;
use worker::{Context, Env, Request, Response, console_error, event};

pub use log_object::TenantLogState;
pub use tenant_object::TenantState;
pub use user_object::UserState;

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let response = match api_request(&mut req).await {
        Ok(api_req) => serve(&api_req, &env).await,
        Err(e) => e.to_response(),
    };
    if let Some(log) = &response.log {
        console_error!("{} {}: {log}", req.inner().method(), req.path());
    }
    to_worker_response(response)
}

async fn serve(req: &ApiRequest, env: &Env) -> ApiResponse {
    let deployment = match deployment(env) {
        Ok(d) => d,
        // Readiness fails with the reason; every other route answers 503.
        Err(problem) if req.path == "/health" => return edge_mfa_api::misconfigured(&problem),
        Err(problem) => return ApiError::Misconfigured(problem).to_response(),
    };
    let backend = backend::CloudflareBackend { env };
    let mut random = edge_mfa_core::OsRandom;
    let mut core_env =
        edge_mfa_core::Env::new(platform::now(), &mut random).with_crypto(&crypto::NodeCrypto);
    let response = edge_mfa_api::handle(&backend, &deployment, req, &mut core_env).await;
    if deployment.test_hooks {
        // Tests and benchmarks only: the isolate's wasm linear memory (64 KiB
        // pages), which only grows, to watch for leaks under load (bench/soak.mjs).
        return response
            .with_header("x-edge-mfa-wasm-pages", wasm_pages().to_string())
            .with_header("x-edge-mfa-crypto", crypto::NodeCrypto::implementation());
    }
    response
}

#[cfg(target_arch = "wasm32")]
fn wasm_pages() -> usize {
    core::arch::wasm32::memory_size::<0>()
}

#[cfg(not(target_arch = "wasm32"))]
fn wasm_pages() -> usize {
    0
}

pub(crate) fn deployment(env: &Env) -> Result<Deployment, String> {
    let master = env
        .secret("MASTER_KEY")
        .map_err(|_| "the MASTER_KEY secret is not set".to_string())?;
    let operator = env
        .secret("OPERATOR_KEY")
        .map_err(|_| "the OPERATOR_KEY secret is not set".to_string())?;
    let mut deployment = Deployment::new(&master.to_string(), &operator.to_string())?;
    deployment.phone_numbers = Some(&phone_numbers::LibPhoneNumberJs);
    // Set only during a MASTER_KEY rotation (docs/SECURITY.md).
    if let Ok(previous) = env.secret("MASTER_KEY_PREVIOUS") {
        deployment = deployment.with_previous_master_keys(&previous.to_string())?;
    }
    // Only the test suite sets this (`wrangler dev --var`); wrangler.toml never does.
    deployment.test_hooks = env
        .var("EDGE_MFA_TEST_HOOKS")
        .is_ok_and(|v| v.to_string() == "enabled");
    // `request.cf.country`: Cloudflare's edge tells every request's country.
    deployment.platform_country = true;
    // Tests and development only (API.md "Deployment settings").
    deployment.loopback_webhooks = env
        .var("EDGE_MFA_LOOPBACK_WEBHOOKS")
        .is_ok_and(|v| v.to_string() == "enabled");
    if let Ok(hosts) = env.var("EDGE_MFA_PUSH_SERVICES") {
        deployment.set_push_services(&hosts.to_string())?;
    }
    if let Ok(contact) = env.var("EDGE_MFA_PUSH_CONTACT") {
        deployment.push_contact = Some(contact.to_string());
    }
    if let Ok(origin) = env.var("EDGE_MFA_PUBLIC_ORIGIN") {
        deployment.set_public_origin(&origin.to_string())?;
    }
    if let Ok(seconds) = env.var("EDGE_MFA_WEBHOOK_RETRY_SECONDS") {
        deployment.webhook_retry_seconds = seconds.to_string().parse().map_err(|_| {
            "EDGE_MFA_WEBHOOK_RETRY_SECONDS must be a number of seconds".to_string()
        })?;
    }
    Ok(deployment)
}

async fn api_request(req: &mut Request) -> Result<ApiRequest, ApiError> {
    let headers: Vec<(String, String)> = req
        .headers()
        .entries()
        .map(|(n, v)| (n.to_ascii_lowercase(), v))
        .collect();
    if declares_too_large(&headers) {
        return Err(ApiError::PayloadTooLarge);
    }
    let url = req
        .url()
        .map_err(|e| ApiError::InvalidRequest(format!("bad URL: {e}")))?;
    let body = read_body(req).await?;
    // Cloudflare sets CF-Connecting-IP itself (a client cannot forge it through the
    // edge) and the country in `request.cf`.
    let client = Client {
        ip: headers
            .iter()
            .find(|(n, _)| n == "cf-connecting-ip")
            .map(|(_, v)| v.clone()),
        country: req.cf().and_then(|cf| cf.country()),
    };
    Ok(ApiRequest {
        // The method as sent (RFC 9110 §9.1: case-sensitive): workers-rs' `Method`
        // reads any it does not know (QUERY) as GET, which would serve a GET
        // route, and upper-cases the rest.
        method: req.inner().method(),
        path: url.path().to_string(),
        query: url.query().unwrap_or_default().to_string(),
        headers,
        body,
        client,
        origin: url.origin().ascii_serialization(),
    })
}

/// The body, kept up to 64 KiB (`BodyReader`): a chunked body beyond
/// it is refused without being kept.
async fn read_body(req: &mut Request) -> Result<Vec<u8>, ApiError> {
    if req.inner().body().is_none() {
        return Ok(Vec::new());
    }
    let unreadable = |_| ApiError::InvalidRequest("the body could not be read".into());
    let mut stream = req.stream().map_err(unreadable)?;
    let mut reader = BodyReader::default();
    while let Some(chunk) = stream.next().await {
        if !reader.push(&chunk.map_err(unreadable)?) {
            break;
        }
    }
    reader.finish()
}

fn to_worker_response(response: ApiResponse) -> worker::Result<Response> {
    let out = if response.body.is_empty() {
        Response::empty()?
    } else {
        Response::from_bytes(response.body)?
    };
    let mut out = out.with_status(response.status);
    let headers = out.headers_mut();
    for (name, value) in &response.headers {
        // `set` replaces the content type `from_bytes` assumed; only cookies repeat.
        if name == "set-cookie" {
            headers.append(name, value)?;
        } else {
            headers.set(name, value)?;
        }
    }
    Ok(out)
}
