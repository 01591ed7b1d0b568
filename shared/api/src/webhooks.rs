//! The tenant's webhook (API.md "Webhooks"): the admin resource, and sending one
//! event, signed per Standard Webhooks 1.0, through the runtime's [`Backend::deliver`].

use edge_mfa_core::Env;
use edge_mfa_core::audit::{Actor, AuditEvent, EventType, Source};
use edge_mfa_core::ids::random_id;
use edge_mfa_core::tenant::{Tenant, TenantChange};
use edge_mfa_core::webhook::{
    EVENT_TYPES, Message, SECRET_OVERLAP, Webhook, new_secret, validate_url,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::admin_answers::{WebhookSecret, WebhookTested, WebhookView};
use crate::answers::respond;
use crate::auth::Deployment;
use crate::backend::Backend;
use crate::http::{ApiRequest, ApiResponse};
use crate::problem::ApiError;
use crate::wire::parse_body;

/// Seconds a synchronous delivery (a code) may take (API.md: 5 s).
pub const SYNC_TIMEOUT_MS: u64 = 5_000;

/// `PUT /v1/{tenant}/admin/webhook`: where to send, and which notifications.
#[derive(Debug, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "WebhookRequest")
)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookBody {
    /// https:// (http:// only to a loopback host where the deployment allows it),
    /// no user name, password or fragment, not an internal address.
    #[cfg_attr(
        feature = "schema",
        schemars(length(max = edge_mfa_core::webhook::MAX_URL_LEN))
    )]
    url: String,
    /// Notification types; all of them when absent.
    #[serde(default)]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "nullable_notification_types")
    )]
    events: Option<Vec<String>>,
}

#[cfg(feature = "schema")]
fn nullable_notification_types(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let mut schema = crate::admin_answers::notification_types(generator);
    schema.insert("type".into(), serde_json::json!(["array", "null"]));
    schema
}

/// The admin's webhook routes: `admin/webhook`, `admin/webhook/secret`,
/// `admin/webhook/test`, their methods checked by the router.
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
            respond(200, &WebhookView::new(hook, env.now, None))
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
            let updated = crate::admin_api::update(backend, tenant, req, change, env).await?;
            let hook = configured(&updated)?;
            let shown = hook.is_sealed_secret(&sealed).then_some(secret);
            let shown = shown.as_ref().map(|s| s.expose().as_str());
            respond(200, &WebhookView::new(hook, env.now, shown))
        }
        None => Err(crate::routes::Resource::AdminWebhook(None).method_not_allowed()),
        Some("secret") => {
            configured(tenant)?;
            let secret = new_secret(env);
            let sealed = Webhook::seal_secret(&tenant.id, &secret, master, env);
            let change = TenantChange::RotateWebhookSecret {
                sealed,
                until: env.now + SECRET_OVERLAP,
            };
            crate::admin_api::update(backend, tenant, req, change, env).await?;
            respond(
                200,
                &WebhookSecret {
                    secret: secret.expose(),
                },
            )
        }
        Some("test") => {
            configured(tenant)?;
            let data = json!({ "tenant": tenant.id.as_str(), "tenant_name": tenant.name });
            let report = send(backend, deployment, tenant, "webhook.test", data, env).await?;
            respond(
                200,
                &WebhookTested {
                    status: report.status,
                    duration_ms: report.duration_ms,
                },
            )
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
    validate_url(&hook.url, deployment.url_rules()).map_err(|_| {
        ApiError::DeliveryFailed("the tenant's webhook URL is not allowed here".into())
    })?;
    let id = format!("msg_{}", random_id(env));
    let body = json!({"type": event_type, "timestamp": rfc3339(env.now), "data": data}).to_string();
    let message = Message {
        id: &id,
        timestamp: env.now,
        body: body.as_bytes(),
    };
    let headers = hook.sign(&tenant.id, &deployment.master, &message)?;
    // The caller learns the status (a tenant admin's test needs it), never the
    // runtime's own error text or the URL; the log has them.
    let (status, duration_ms) = match backend
        .deliver(&hook.url, &headers, body.as_bytes(), SYNC_TIMEOUT_MS)
        .await
    {
        Ok(answer) => answer,
        Err(e) => {
            eprintln!(
                "edge-mfa: tenant {} webhook delivery failed: {e}",
                tenant.id
            );
            let why = match e {
                crate::DeliveryError::Timeout => "no answer within 5 s",
                crate::DeliveryError::Failed(_) => "the request could not be made",
            };
            return Err(ApiError::DeliveryFailed(format!(
                "the tenant's webhook: {why}"
            )));
        }
    };
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

/// A notification waiting in a runtime's outbox.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Queued {
    pub tenant: edge_mfa_core::ids::TenantId,
    pub notification: edge_mfa_core::notify::Notification,
    /// Attempts so far.
    pub attempts: u32,
    pub next_at: u64,
    /// The tenant's incarnation when the notification was queued.
    #[serde(default)]
    pub incarnation: String,
}

impl Queued {
    /// `notification` of `tenant`, as `run_user` stores it: due at once, whatever
    /// clock the request ran on.
    pub fn new(
        tenant: &edge_mfa_core::tenant::Tenant,
        notification: edge_mfa_core::notify::Notification,
    ) -> Queued {
        Queued {
            tenant: tenant.id.clone(),
            notification,
            attempts: 0,
            next_at: 0,
            incarnation: tenant.incarnation.clone(),
        }
    }
}

impl Queued {
    /// The `webhook.failed` audit event of giving this notification up after
    /// `attempts` (its id, type and user: never its body's other data).
    pub fn given_up(&self, attempts: u32, env: &mut Env<'_>) -> AuditEvent {
        let user = self.notification.data.get("user").and_then(|u| u.as_str());
        AuditEvent::new(
            EventType::WebhookFailed,
            Actor::System,
            user,
            &Source::default(),
            env,
        )
        .failed("delivery_failed")
        .with_detail(json!({
            "notification_id": self.notification.id,
            "event": self.notification.event,
            "attempts": attempts,
        }))
    }
}

/// Notifications are retried for at least 24 h (API.md), then given up (logged).
pub const RETRY_FOR_SECONDS: u64 = 26 * 3600;
/// No wait between attempts is longer than an hour.
const MAX_BACKOFF_SECONDS: u64 = 3600;

/// What to do after a failed attempt: when to try again (`base` seconds doubled per
/// attempt, at most an hour), or `None` once the notification is older than
/// [`RETRY_FOR_SECONDS`].
pub fn retry_at(attempts: u32, created_at: u64, now: u64, base: u64) -> Option<u64> {
    if now.saturating_sub(created_at) >= RETRY_FOR_SECONDS {
        return None;
    }
    let factor = 1u64 << attempts.saturating_sub(1).min(20);
    Some(now + base.saturating_mul(factor).min(MAX_BACKOFF_SECONDS))
}

/// The result of one attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum Attempt {
    /// The endpoint answered 2xx, or there is nothing to deliver any more (no
    /// tenant, no webhook, unsubscribed): forget it.
    Done,
    /// Try again later; the reason is for the log.
    Failed(String),
}

/// One attempt at delivering `queued` (signed with its fixed `webhook-id`).
pub async fn attempt<B: Backend>(
    backend: &B,
    deployment: &Deployment,
    queued: &Queued,
    now: u64,
    timeout_ms: u64,
) -> Attempt {
    let tenant = match backend.tenant(&queued.tenant).await {
        Ok(Some(tenant)) => tenant,
        Ok(None) => return Attempt::Done,
        Err(e) => return Attempt::Failed(e.to_string()),
    };
    // A tenant deleted and created again under the same id is another tenant.
    if tenant.incarnation != queued.incarnation {
        return Attempt::Done;
    }
    let n = &queued.notification;
    let Some(hook) = tenant
        .webhook
        .as_ref()
        .filter(|h| h.events.contains(&n.event))
    else {
        return Attempt::Done;
    };
    if validate_url(&hook.url, deployment.url_rules()).is_err() {
        return Attempt::Failed(format!("webhook url {} is not allowed here", hook.url));
    }
    let body = n.body(rfc3339);
    let message = Message {
        id: &n.id,
        timestamp: now,
        body: body.as_bytes(),
    };
    let headers = match hook.sign(&tenant.id, &deployment.master, &message) {
        Ok(headers) => headers,
        Err(e) => return Attempt::Failed(e.to_string()),
    };
    match backend
        .deliver(&hook.url, &headers, body.as_bytes(), timeout_ms)
        .await
    {
        Ok((status, _)) if (200..300).contains(&status) => Attempt::Done,
        Ok((status, _)) => Attempt::Failed(format!("the webhook answered {status}")),
        Err(e) => Attempt::Failed(e.to_string()),
    }
}

/// Delivers up to `limit` due notifications of the runtime's outbox
/// ([`Backend::due_notifications`]), of `tenant` only when given, each given
/// `timeout_ms`; answers (attempted, delivered). Spin calls it after a tenant's
/// requests (for that tenant, briefly) and from `POST /v1/deliveries`; Workers
/// deliver from each user's Durable Object alarm instead.
pub async fn deliver_due<B: Backend>(
    backend: &B,
    deployment: &Deployment,
    now: u64,
    limit: usize,
    tenant: Option<&edge_mfa_core::ids::TenantId>,
    timeout_ms: u64,
) -> Result<(usize, usize), crate::BackendError> {
    let due = backend.due_notifications(now, limit, tenant).await?;
    let mut delivered = 0;
    for queued in &due {
        let mut given_up = None;
        let next = match attempt(backend, deployment, queued, now, timeout_ms).await {
            Attempt::Done => {
                delivered += 1;
                None
            }
            Attempt::Failed(why) => {
                let attempts = queued.attempts + 1;
                match retry_at(
                    attempts,
                    queued.notification.created_at,
                    now,
                    deployment.webhook_retry_seconds,
                ) {
                    Some(at) => Some((attempts, at)),
                    None => {
                        // webhook.failed: given up after a day of attempts.
                        eprintln!(
                            "edge-mfa: webhook.failed: tenant {} notification {} ({}) given up after {attempts} attempts: {why}",
                            queued.tenant, queued.notification.id, queued.notification.event
                        );
                        let mut random = edge_mfa_core::OsRandom;
                        let mut env = Env::new(now, &mut random);
                        given_up = Some(queued.given_up(attempts, &mut env));
                        None
                    }
                }
            }
        };
        backend
            .settle_notification(queued, next, given_up.as_ref())
            .await?;
    }
    Ok((due.len(), delivered))
}
