//! edge-mfa on Fermyon Spin.
//!
//! Every component of `spin.toml` is a two-line crate that calls [`serve`]: the
//! request becomes an [`ApiRequest`], the shared API does the work over
//! [`SpinBackend`], and the answer goes back as an HTTP response. Spin gives each
//! request its own instance (or interleaves requests on one), so nothing here keeps
//! state between requests.

mod backend;
mod outbound;

use bytes::Bytes;
use edge_mfa_api::{
    ApiError, ApiRequest, ApiResponse, BodyReader, Client, Deployment, declares_too_large,
};
use http_body_util::BodyExt as _;
use spin_sdk::http::{FullBody, Request, Response};

pub use backend::SpinBackend;

/// Serves one request with the shared API.
pub async fn serve(req: Request) -> Response<FullBody<Bytes>> {
    let response = match api_request(req).await {
        Ok(api_req) => handle(&api_req).await,
        Err(e) => e.to_response(),
    };
    if let Some(log) = &response.log {
        // Spin sends a component's stderr to its log.
        eprintln!("edge-mfa: {log}");
    }
    to_response(response)
}

async fn handle(req: &ApiRequest) -> ApiResponse {
    let deployment = match deployment().await {
        Ok(d) => d,
        // Readiness fails with the reason; every other route answers 503.
        Err(problem) if req.path == "/health" => return edge_mfa_api::misconfigured(&problem),
        Err(problem) => return ApiError::Misconfigured(problem).to_response(),
    };
    let mut random = edge_mfa_core::OsRandom;
    let mut env = edge_mfa_core::Env::new(now(), &mut random);
    let backend = SpinBackend {
        master: &deployment.master,
        queued: std::cell::Cell::new(false),
    };
    let response = edge_mfa_api::handle(&backend, &deployment, req, &mut env).await;
    // Spin has no timers and an instance ends with its response: a request whose
    // change queued notifications delivers them (and others due of its tenant, 3
    // at most, 2 s each) before it answers; retries come from `POST
    // /v1/deliveries`, which a cron job calls (docs/SPIN.md "Notifications").
    let tenant = req
        .path
        .split('/')
        .nth(2)
        .and_then(|t| edge_mfa_core::ids::TenantId::try_from(t.to_string()).ok());
    if backend.queued.get()
        && let Some(tenant) = &tenant
        && let Err(e) =
            edge_mfa_api::deliver_due(&backend, &deployment, now(), 3, Some(tenant), 2_000).await
    {
        eprintln!("edge-mfa: outbox: {e}");
    }
    response
}

/// The deployment's secrets, from Spin variables (`master_key`, `operator_key`).
async fn deployment() -> Result<Deployment, String> {
    let master = spin_sdk::variables::get("master_key")
        .await
        .map_err(|e| format!("the Spin variable master_key is not set: {e:?}"))?;
    let operator = spin_sdk::variables::get("operator_key")
        .await
        .map_err(|e| format!("the Spin variable operator_key is not set: {e:?}"))?;
    let mut deployment = Deployment::new(&master, &operator)
        .map_err(|e| format!("{e} (Spin variables master_key, operator_key)"))?;
    // Non-empty only during a MASTER_KEY rotation (docs/SECURITY.md).
    let previous = spin_sdk::variables::get("master_key_previous")
        .await
        .unwrap_or_default();
    deployment = deployment.with_previous_master_keys(&previous)?;
    // Tests and development only (API.md "Deployment settings").
    deployment.loopback_webhooks = spin_sdk::variables::get("loopback_webhooks")
        .await
        .is_ok_and(|v| v == "enabled");
    if let Ok(seconds) = spin_sdk::variables::get("webhook_retry_seconds").await
        && !seconds.is_empty()
    {
        deployment.webhook_retry_seconds = seconds.parse().map_err(|_| {
            "the Spin variable webhook_retry_seconds must be a number of seconds".to_string()
        })?;
    }
    if let Ok(hosts) = spin_sdk::variables::get("push_services").await
        && !hosts.is_empty()
    {
        deployment.set_push_services(&hosts)?;
    }
    if let Ok(contact) = spin_sdk::variables::get("push_contact").await
        && !contact.is_empty()
    {
        deployment.push_contact = Some(contact);
    }
    if let Ok(origin) = spin_sdk::variables::get("public_origin").await
        && !origin.is_empty()
    {
        deployment.set_public_origin(&origin)?;
    }
    // Only the test suite sets `test_hooks` (spin.toml defaults it to "disabled").
    deployment.test_hooks = spin_sdk::variables::get("test_hooks")
        .await
        .is_ok_and(|v| v == "enabled");
    Ok(deployment)
}

/// Unix seconds from `wasi:clocks`.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

async fn api_request(req: Request) -> Result<ApiRequest, ApiError> {
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .filter_map(|(n, v)| {
            v.to_str()
                .ok()
                .map(|v| (n.as_str().to_ascii_lowercase(), v.to_string()))
        })
        .collect();
    if declares_too_large(&headers) {
        return Err(ApiError::PayloadTooLarge);
    }
    let client = Client {
        ip: client_ip(&headers),
        // Spin tells no geography.
        country: None,
    };
    let origin = origin(&headers, &req);
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let body = read_body(req.into_body()).await?;
    Ok(ApiRequest {
        method,
        path,
        query,
        headers,
        body,
        client,
        origin,
    })
}

/// The origin the request reached: from the last `spin-full-url` (the one Spin
/// appends after the client's headers, as with `spin-client-addr`), else the
/// request's own URI and `host`.
fn origin(headers: &[(String, String)], req: &Request) -> String {
    let from_spin = headers
        .iter()
        .rev()
        .find(|(n, _)| n == "spin-full-url")
        .and_then(|(_, v)| url::Url::parse(v).ok())
        .map(|url| url.origin().ascii_serialization());
    from_spin.unwrap_or_else(|| {
        let host = req
            .uri()
            .authority()
            .map(|a| a.as_str().to_string())
            .or_else(|| {
                headers
                    .iter()
                    .find(|(n, _)| n == "host")
                    .map(|(_, v)| v.clone())
            })
            .unwrap_or_default();
        format!("http://{host}")
    })
}

/// The peer address Spin itself saw. Spin's HTTP trigger copies the client's
/// headers first and then *appends* its own `spin-client-addr` (`ip:port`), so a
/// client can send a `spin-client-addr` of its choosing, but only the last one is
/// Spin's. Anything else there (no value, or not an address) means no address.
fn client_ip(headers: &[(String, String)]) -> Option<String> {
    headers
        .iter()
        .rev()
        .find(|(n, _)| n == "spin-client-addr")
        .and_then(|(_, v)| v.trim().parse::<std::net::SocketAddr>().ok())
        .map(|addr| addr.ip().to_string())
}

/// The body, kept up to 64 KiB (`BodyReader`): a chunked body beyond
/// it is refused without being kept.
async fn read_body(
    mut body: impl http_body::Body<Data = Bytes> + Unpin,
) -> Result<Vec<u8>, ApiError> {
    let mut reader = BodyReader::default();
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|_| ApiError::InvalidRequest("the body could not be read".into()))?;
        if let Ok(data) = frame.into_data()
            && !reader.push(&data)
        {
            break;
        }
    }
    reader.finish()
}

fn to_response(response: ApiResponse) -> Response<FullBody<Bytes>> {
    let mut builder = Response::builder().status(response.status);
    for (name, value) in &response.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
        .body(FullBody::new(Bytes::from(response.body)))
        .unwrap_or_else(|_| {
            // Only an invalid header could fail here; none of ours is.
            let mut fallback = Response::new(FullBody::new(Bytes::new()));
            *fallback.status_mut() = spin_sdk::http::StatusCode::INTERNAL_SERVER_ERROR;
            fallback
        })
}
