//! The storage port over Cloudflare: tenants in KV (read-mostly, eventually
//! consistent), written only by a Durable Object per tenant id, which decides
//! creation, orders policy updates and publishes them (tenant_object.rs); each
//! user's record in a Durable Object per `(tenant, user)` (user_object.rs).

use edge_mfa_api::{Backend, BackendError};
use edge_mfa_core::ids::{TenantId, UserId};
use edge_mfa_core::tenant::{AuthorisedChange, Tenant};
use edge_mfa_core::{CoreError, Outcome, UserRequest};
use worker::{Env, Method, Request, RequestInit};

use crate::tenant_object::TenantCall;
use crate::user_object::UserCall;

pub const TENANTS_KV: &str = "TENANTS";
pub const USERS_DO: &str = "USERS";
pub const TENANTS_DO: &str = "TENANT_DIRECTORY";

pub struct CloudflareBackend<'a> {
    pub env: &'a Env,
}

fn err(context: &str) -> impl Fn(worker::Error) -> BackendError + '_ {
    move |e| BackendError(format!("{context}: {e}"))
}

pub fn tenant_key(id: &TenantId) -> String {
    format!("tenant:{id}")
}

/// Posts `body` to the named object and reads its JSON answer.
async fn call_object<T: serde::de::DeserializeOwned>(
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

    async fn create_tenant(&self, tenant: &Tenant) -> Result<bool, BackendError> {
        // The tenant's object decides and publishes (tenant_object.rs).
        let call = TenantCall::Create {
            tenant: tenant.clone(),
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
        let name = format!("{}/{}", tenant.id, user.as_str());
        let call = UserCall {
            tenant: tenant.clone(),
            user: user.clone(),
            request,
            now,
        };
        call_object(self.env, USERS_DO, &name, &call).await
    }
}
