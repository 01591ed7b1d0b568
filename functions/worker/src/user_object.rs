//! The Durable Objects. Each runs its read-modify-write inside
//! `blockConcurrencyWhile`, so no other request to the same object can interleave:
//! this is what makes a backup code, a TOTP step, a challenge or a failure count
//! single-use under any number of parallel requests.

use edge_mfa_core::ids::UserId;
use edge_mfa_core::policy::Policy;
use edge_mfa_core::tenant::Tenant;
use edge_mfa_core::{CoreError, Outcome, UserRequest};
use serde::{Deserialize, Serialize};
use worker::{DurableObject, Env, Request, Response, State, durable_object};

/// A request from the Worker to a user's object.
#[derive(Serialize, Deserialize)]
pub struct UserCall {
    pub tenant: Tenant,
    pub user: UserId,
    pub request: UserRequest,
    /// The request's clock, chosen once by the Worker.
    pub now: u64,
}

/// A request from the Worker to a tenant id's object; answers the stored tenant
/// after the change, or `None` (create: it already existed; set: it does not exist).
#[derive(Serialize, Deserialize)]
pub enum TenantCall {
    Create { tenant: Tenant },
    SetPolicy { policy: Policy },
}

const RECORD_KEY: &str = "record";
const TENANT_KEY: &str = "tenant";

fn rust_error(e: impl std::fmt::Display) -> worker::Error {
    worker::Error::RustError(e.to_string())
}

#[durable_object]
pub struct UserState {
    state: State,
    env: Env,
}

impl std::fmt::Debug for UserState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserState").finish_non_exhaustive()
    }
}

impl DurableObject for UserState {
    fn new(state: State, env: Env) -> Self {
        UserState { state, env }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let call: UserCall = req.json().await?;
        let deployment = crate::deployment(&self.env).map_err(worker::Error::RustError)?;
        let storage = self.state.storage();
        let reply: Result<Outcome, CoreError> = self
            .state
            .block_concurrency_while(async move {
                let stored: Option<String> = storage.get(RECORD_KEY).await?;
                let mut random = edge_mfa_core::OsRandom;
                let mut env = edge_mfa_core::Env {
                    now: call.now,
                    random: &mut random,
                };
                let applied = edge_mfa_core::apply(
                    stored.as_deref(),
                    &call.tenant,
                    &deployment.master,
                    &call.user,
                    call.request,
                    &mut env,
                );
                if let Some(record) = applied.store {
                    storage.put(RECORD_KEY, record).await?;
                }
                Ok(applied.reply)
            })
            .await?;
        Response::from_json(&reply)
    }
}

/// The authority on a tenant id: KV cannot refuse a second creation or order two
/// policy updates, this object can.
#[durable_object]
pub struct TenantState {
    state: State,
}

impl std::fmt::Debug for TenantState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantState").finish_non_exhaustive()
    }
}

impl DurableObject for TenantState {
    fn new(state: State, _env: Env) -> Self {
        TenantState { state }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let call: TenantCall = req.json().await?;
        let storage = self.state.storage();
        let answer: Option<Tenant> = self
            .state
            .block_concurrency_while(async move {
                let stored: Option<String> = storage.get(TENANT_KEY).await?;
                let stored: Option<Tenant> = stored
                    .map(|s| serde_json::from_str(&s))
                    .transpose()
                    .map_err(rust_error)?;
                let next = match (call, stored) {
                    (TenantCall::Create { tenant }, None) => tenant,
                    (TenantCall::SetPolicy { policy }, Some(tenant)) => tenant.with_policy(policy),
                    (TenantCall::Create { .. }, Some(_)) | (TenantCall::SetPolicy { .. }, None) => {
                        return Ok(None);
                    }
                };
                storage
                    .put(
                        TENANT_KEY,
                        serde_json::to_string(&next).map_err(rust_error)?,
                    )
                    .await?;
                Ok(Some(next))
            })
            .await?;
        Response::from_json(&answer)
    }
}
