//! The tenant's webhook (API.md "Webhooks"): the admin resource, and sending one
//! event, signed per Standard Webhooks 1.0, through the runtime's [`Backend::deliver`].

use edge_mfa_core::Env;
use edge_mfa_core::ids::random_id;
use edge_mfa_core::tenant::{Tenant, TenantChange};
use edge_mfa_core::webhook::{
    EVENT_TYPES, Message, SECRET_OVERLAP, Webhook, new_secret, validate_url,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Deployment;
use crate::backend::Backend;
use crate::http::{ApiRequest, ApiResponse};
use crate::problem::ApiError;
use crate::routes::only;
use crate::wire::parse_body;

/// Seconds a synchronous delivery (a code) may take (API.md: 5 s).
pub const SYNC_TIMEOUT_MS: u64 = 5_000;

/// `PUT /admin/webhook`, as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookBody {
    url: String,
    /// Notification types; all of them when absent.
    #[serde(default)]
    events: Option<Vec<String>>,
}

/// The admin's webhook routes: `admin/webhook`, `admin/webhook/secret`,
/// `admin/webhook/test`.
pub(crate) async fn handle<B: Backend>(
    backend: &B,
    deployment: &Deployment,
    tenant: &Tenant,
    action: Option<&str>,
    req: &ApiRequest,
    env: &mut Env<'_>,
) -> Result<ApiResponse, ApiError> {
    let master = &deployment.master;
    match action {
        None if req.method == "GET" => {
            let hook = configured(tenant)?;
            Ok(ApiResponse::json(200, &view(hook, env.now, None)))
        }
        None if req.method == "PUT" => {
            let body: WebhookBody = parse_body(req)?;
            let url = validate_url(&body.url, deployment.url_rules())?;
            let events = match body.events {
                None => EVENT_TYPES.iter().map(|e| e.to_string()).collect(),
                Some(events) => {
                    if let Some(unknown) =
                        events.iter().find(|e| !EVENT_TYPES.contains(&e.as_str()))
                    {
                        return Err(ApiError::InvalidRequest(format!(
                            "events: {unknown:?} is not one of {EVENT_TYPES:?}"
                        )));
                    }
                    let mut events = events;
                    events.sort();
                    events.dedup();
                    events
                }
            };
            // The first PUT makes the secret; the answer shows it if it is the one
            // installed (a racing first PUT may have installed another).
            let secret = new_secret(env);
            let sealed = Webhook::seal_secret(&tenant.id, &secret, master, env);
            let change =
                TenantChange::SetWebhook(Webhook::with_sealed(url, events, sealed.clone()));
            let updated = crate::admin_api::update(backend, tenant, req, change).await?;
            let hook = configured(&updated)?;
            let shown = hook.is_sealed_secret(&sealed).then_some(secret);
            Ok(ApiResponse::json(
                200,
                &view(hook, env.now, shown.as_ref().map(|s| s.expose().as_str())),
            ))
        }
        None => Err(ApiError::MethodNotAllowed),
        Some("secret") => {
            only(req, "POST")?;
            configured(tenant)?;
            let secret = new_secret(env);
            let sealed = Webhook::seal_secret(&tenant.id, &secret, master, env);
            let change = TenantChange::RotateWebhookSecret {
                sealed,
                until: env.now + SECRET_OVERLAP,
            };
            crate::admin_api::update(backend, tenant, req, change).await?;
            Ok(ApiResponse::json(
                200,
                &json!({ "secret": secret.expose() }),
            ))
        }
        Some("test") => {
            only(req, "POST")?;
            configured(tenant)?;
            let data = json!({ "tenant": tenant.id.as_str(), "tenant_name": tenant.name });
            let report = send(backend, deployment, tenant, "webhook.test", data, env).await?;
            Ok(ApiResponse::json(
                200,
                &json!({"status": report.status, "duration_ms": report.duration_ms}),
            ))
        }
        Some(_) => Err(ApiError::NotFound("no such path".into())),
    }
}

fn configured(tenant: &Tenant) -> Result<&Webhook, ApiError> {
    tenant
        .webhook
        .as_ref()
        .ok_or_else(|| ApiError::NotFound("the tenant has no webhook: PUT /admin/webhook".into()))
}

/// The webhook as the admin sees it: never a secret, except the new one once.
fn view(hook: &Webhook, now: u64, secret: Option<&str>) -> Value {
    let mut view = json!({"url": hook.url, "events": hook.events, "secret_set": true});
    if let Some(map) = view.as_object_mut() {
        if let Some(secret) = secret {
            map.insert("secret".into(), json!(secret));
        }
        if let Some(until) = hook.previous_until(now) {
            map.insert("previous_secret_until".into(), json!(until));
        }
    }
    view
}

/// What a delivery got back.
#[derive(Debug)]
pub(crate) struct DeliveryReport {
    pub status: u16,
    pub duration_ms: u64,
}

/// Sends one event now and waits for the answer (up to [`SYNC_TIMEOUT_MS`]): a
/// 2xx is a delivery; anything else is `502 delivery_failed`.
pub(crate) async fn send<B: Backend>(
    backend: &B,
    deployment: &Deployment,
    tenant: &Tenant,
    event_type: &str,
    data: Value,
    env: &mut Env<'_>,
) -> Result<DeliveryReport, ApiError> {
    let hook = configured(tenant).map_err(|_| {
        ApiError::DeliveryFailed("the tenant has no webhook to deliver codes to".into())
    })?;
    // Set after the deployment started without loopback webhooks: refused here too.
    validate_url(&hook.url, deployment.url_rules())
        .map_err(|e| ApiError::DeliveryFailed(e.to_string()))?;
    let id = format!("msg_{}", random_id(env));
    let body = json!({"type": event_type, "timestamp": rfc3339(env.now), "data": data}).to_string();
    let message = Message {
        id: &id,
        timestamp: env.now,
        body: body.as_bytes(),
    };
    let headers = hook.sign(&tenant.id, &deployment.master, &message)?;
    let (status, duration_ms) = backend
        .deliver(&hook.url, &headers, body.as_bytes(), SYNC_TIMEOUT_MS)
        .await
        .map_err(|e| ApiError::DeliveryFailed(format!("the tenant's webhook: {e}")))?;
    if !(200..300).contains(&status) {
        return Err(ApiError::DeliveryFailed(format!(
            "the tenant's webhook answered {status}"
        )));
    }
    Ok(DeliveryReport {
        status,
        duration_ms,
    })
}

/// Unix seconds as RFC 3339 (`2026-11-29T19:00:00Z`).
pub(crate) fn rfc3339(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
