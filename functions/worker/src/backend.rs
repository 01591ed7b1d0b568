//! The storage port over Cloudflare: tenants in KV (read-mostly, eventually
//! consistent), written only by a Durable Object per tenant id, which decides
//! creation, orders policy updates and publishes them (tenant_object.rs); each
//! user's record in a Durable Object per `(tenant, user)` (user_object.rs).

use edge_mfa_api::{Backend, BackendError, DeliveryError, TenantListing, TenantPage};
use edge_mfa_core::ids::{TenantId, UserId};
use edge_mfa_core::seal::Sealed;
use edge_mfa_core::tenant::{AuthorisedChange, Tenant};
use edge_mfa_core::{CoreError, Outcome, UserRequest};
use worker::{Env, Method, Request, RequestInit, RequestRedirect};

use crate::log_object::{LogCall, LogReply, LogTarget, call_log};
use crate::tenant_object::TenantCall;
use crate::user_object::UserCall;
use edge_mfa_api::tenant_log::{LogAnswer, LogRead};
use edge_mfa_core::audit::AuditEvent;

pub const TENANTS_KV: &str = "TENANTS";
pub const USERS_DO: &str = "USERS";
pub const TENANTS_DO: &str = "TENANT_DIRECTORY";
pub const TENANT_LOG_DO: &str = "TENANT_LOG";

pub struct CloudflareBackend<'a> {
    pub env: &'a Env,
}

fn err(context: &str) -> impl Fn(worker::Error) -> BackendError + '_ {
    move |e| BackendError(format!("{context}: {e}"))
}

pub fn tenant_key(id: &TenantId) -> String {
    format!("tenant:{id}")
}

/// The KV metadata of a published tenant: what the operator's list shows, so
/// listing reads no tenant record.
pub fn tenant_metadata(tenant: &Tenant) -> TenantListing {
    TenantListing {
        id: tenant.id.clone(),
        name: tenant.name.clone(),
        created_at: tenant.created_at,
    }
}

/// The name of a user's object: in the tenant's incarnation ([`Tenant::scope`]),
/// so a deleted tenant's users stay away from a new tenant of the same id.
pub fn user_object_name(tenant: &Tenant, user: &UserId) -> String {
    format!("{}/{}", tenant.scope(), user.as_str())
}

const CANARY_KEY: &str = "deployment:canary";

/// Posts `body` to the named object and reads its JSON answer.
pub(crate) async fn call_object<T: serde::de::DeserializeOwned>(
    env: &Env,
    namespace: &str,
    name: &str,
    body: &impl serde::Serialize,
) -> Result<T, BackendError> {
    let stub = env
        .durable_object(namespace)
        .and_then(|ns| ns.get_by_name(name))
        .map_err(err("durable object"))?;
    let json = serde_json::to_string(body).map_err(|e| BackendError(e.to_string()))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(json.into()));
    let request =
        Request::new_with_init("https://object.internal/", &init).map_err(err("request"))?;
    let mut response = stub
        .fetch_with_request(request)
        .await
        .map_err(err("durable object fetch"))?;
    if response.status_code() != 200 {
        let text = response.text().await.unwrap_or_default();
        return Err(BackendError(format!(
            "durable object answered {}: {text}",
            response.status_code()
        )));
    }
    response.json().await.map_err(err("durable object answer"))
}

impl Backend for CloudflareBackend<'_> {
    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, BackendError> {
        let kv = self.env.kv(TENANTS_KV).map_err(err("kv"))?;
        kv.get(&tenant_key(id))
            .json::<Tenant>()
            .await
            .map_err(|e| BackendError(format!("kv get: {e}")))
    }

    async fn create_tenant(
        &self,
        tenant: &Tenant,
        event: &AuditEvent,
    ) -> Result<bool, BackendError> {
        // The tenant's object decides and publishes (tenant_object.rs).
        let call = TenantCall::Create {
            tenant: tenant.clone(),
            event: Some(event.clone()),
        };
        let created: Result<Option<Tenant>, CoreError> =
            call_object(self.env, TENANTS_DO, tenant.id.as_str(), &call).await?;
        Ok(matches!(created, Ok(Some(_))))
    }

    async fn authoritative_tenant(&self, id: &TenantId) -> Result<Option<Tenant>, BackendError> {
        let stored: Result<Option<Tenant>, CoreError> =
            call_object(self.env, TENANTS_DO, id.as_str(), &TenantCall::Get).await?;
        stored.map_err(|e| BackendError(e.to_string()))
    }

    async fn list_tenants(
        &self,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<TenantPage, BackendError> {
        // KV lists keys in order; a page after `cursor` starts at the key after it.
        // KV's own cursors are opaque and long-lived only for a while, so ours is
        // the last id: `start_after` is emulated by listing from the prefix.
        let kv = self.env.kv(TENANTS_KV).map_err(err("kv"))?;
        let mut tenants = Vec::new();
        let mut kv_cursor: Option<String> = None;
        loop {
            let mut list = kv.list().prefix("tenant:".into()).limit(1000);
            if let Some(c) = kv_cursor.take() {
                list = list.cursor(c);
            }
            let page = list
                .execute()
                .await
                .map_err(|e| BackendError(format!("kv list: {e}")))?;
            for key in page.keys {
                let id = key.name.trim_start_matches("tenant:");
                if cursor.is_some_and(|c| id <= c) {
                    continue;
                }
                let listing = match key
                    .metadata
                    .and_then(|m| serde_json::from_value::<TenantListing>(m).ok())
                {
                    Some(listing) => listing,
                    // Published before metadata: read the record.
                    None => match TenantId::try_from(id.to_string()) {
                        Ok(id) => match self.tenant(&id).await? {
                            Some(t) => tenant_metadata(&t),
                            None => continue,
                        },
                        Err(_) => continue,
                    },
                };
                tenants.push(listing);
                if tenants.len() > limit {
                    break;
                }
            }
            if tenants.len() > limit || page.list_complete {
                break;
            }
            kv_cursor = page.cursor;
            if kv_cursor.is_none() {
                break;
            }
        }
        let next = (tenants.len() > limit).then(|| {
            tenants.truncate(limit);
            tenants.last().map(|t| t.id.to_string()).unwrap_or_default()
        });
        Ok(TenantPage { tenants, next })
    }

    async fn delete_tenant(&self, id: &TenantId, now: u64) -> Result<bool, BackendError> {
        let deleted: Result<Option<Tenant>, CoreError> = call_object(
            self.env,
            TENANTS_DO,
            id.as_str(),
            &TenantCall::Delete { now },
        )
        .await?;
        Ok(matches!(deleted, Ok(Some(_))))
    }

    async fn deliver(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
        timeout_ms: u64,
    ) -> Result<(u16, u64), DeliveryError> {
        let failed = |e: worker::Error| DeliveryError::Failed(e.to_string());
        let outgoing = worker::Headers::new();
        for (name, value) in headers {
            outgoing.set(name, value).map_err(failed)?;
        }
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(outgoing)
            .with_redirect(RequestRedirect::Manual)
            .with_body(Some(worker::js_sys::Uint8Array::from(body).into()));
        let request = Request::new_with_init(url, &init).map_err(failed)?;
        let controller = worker::AbortController::default();
        let signal = controller.signal();
        let started = worker::Date::now().as_millis();
        let fetch = Box::pin(async move {
            worker::Fetch::Request(request)
                .send_with_signal(&signal)
                .await
        });
        let timer = Box::pin(worker::Delay::from(std::time::Duration::from_millis(
            timeout_ms,
        )));
        match futures_util::future::select(fetch, timer).await {
            futures_util::future::Either::Left((response, _)) => {
                let response = response.map_err(failed)?;
                let elapsed = worker::Date::now().as_millis().saturating_sub(started);
                Ok((response.status_code(), elapsed))
            }
            futures_util::future::Either::Right(_) => {
                controller.abort();
                Err(DeliveryError::Timeout)
            }
        }
    }

    async fn reserve_send(
        &self,
        tenant: &TenantId,
        key: &str,
        limit: u32,
        now: u64,
    ) -> Result<Option<u64>, BackendError> {
        let call = TenantCall::ReserveSend {
            key: key.to_string(),
            limit,
            now,
        };
        let answer: Result<Option<Tenant>, CoreError> =
            call_object(self.env, TENANTS_DO, tenant.as_str(), &call).await?;
        match answer {
            Ok(_) => Ok(None),
            Err(CoreError::RateLimited { retry_after }) => Ok(Some(retry_after)),
            Err(e) => Err(BackendError(e.to_string())),
        }
    }

    /// Each user's Durable Object delivers its own outbox from its alarm
    /// (user_object.rs); there is no shared outbox to read here.
    async fn due_notifications(
        &self,
        _now: u64,
        _limit: usize,
        _tenant: Option<&TenantId>,
    ) -> Result<Vec<edge_mfa_api::Queued>, BackendError> {
        Ok(Vec::new())
    }

    async fn settle_notification(
        &self,
        _queued: &edge_mfa_api::Queued,
        _next: Option<(u32, u64)>,
        _given_up: Option<&AuditEvent>,
    ) -> Result<(), BackendError> {
        Ok(())
    }

    async fn read_log(&self, tenant: &Tenant, read: LogRead) -> Result<LogAnswer, BackendError> {
        let target = LogTarget::of(tenant);
        match call_log(self.env, &target.name, &LogCall::Read(read)).await? {
            LogReply::Read(answer) => Ok(answer),
            LogReply::Appended => Err(BackendError("the log answered no read".into())),
        }
    }

    async fn keep_secret(
        &self,
        name: &str,
        candidate: &Sealed,
        replacing: Option<&Sealed>,
    ) -> Result<Sealed, BackendError> {
        let call = TenantCall::KeepSecret {
            name: name.to_string(),
            candidate: candidate.as_stored().to_string(),
            replacing: replacing.map(|old| old.as_stored().to_string()),
        };
        let kept: String = call_object(
            self.env,
            TENANTS_DO,
            crate::tenant_object::DEPLOYMENT_OBJECT,
            &call,
        )
        .await?;
        Ok(Sealed::from_stored(kept))
    }

    async fn load_canary(&self) -> Result<Option<Sealed>, BackendError> {
        let kv = self.env.kv(TENANTS_KV).map_err(err("kv"))?;
        kv.get(CANARY_KEY)
            .text()
            .await
            .map(|text| text.map(Sealed::from_stored))
            .map_err(|e| BackendError(format!("kv get: {e}")))
    }

    async fn store_canary(&self, sealed: &Sealed) -> Result<(), BackendError> {
        let kv = self.env.kv(TENANTS_KV).map_err(err("kv"))?;
        kv.put(CANARY_KEY, sealed.as_stored())
            .map_err(|e| BackendError(format!("kv put: {e}")))?
            .execute()
            .await
            .map_err(|e| BackendError(format!("kv put: {e}")))
    }

    async fn update_tenant(
        &self,
        id: &TenantId,
        change: &AuthorisedChange,
    ) -> Result<Result<Option<Tenant>, CoreError>, BackendError> {
        let call = TenantCall::Update {
            change: change.clone(),
            now: crate::platform::now(),
        };
        call_object(self.env, TENANTS_DO, id.as_str(), &call).await
    }

    async fn run_user(
        &self,
        tenant: &Tenant,
        user: &UserId,
        request: UserRequest,
        now: u64,
    ) -> Result<Result<Outcome, CoreError>, BackendError> {
        // Tenant ids contain no '/', so this name is unambiguous.
        let name = user_object_name(tenant, user);
        let call = UserCall::Run {
            tenant: Box::new(tenant.clone()),
            user: user.clone(),
            request,
            now,
        };
        call_object(self.env, USERS_DO, &name, &call).await
    }
}
