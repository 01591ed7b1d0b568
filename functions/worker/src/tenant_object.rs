//! The Durable Object of one tenant id: the ordering point for the tenant's
//! configuration. KV cannot refuse a second creation or order two updates; this
//! object can, and it publishes to KV itself, inside the same critical section, so
//! KV receives the versions in order and a newer copy is never overwritten by an
//! older one.
//!
//! Each change is published first and stored after. A creation whose KV write
//! failed stored nothing (its credentials were never returned), so a retry with the
//! same id starts afresh; an update whose KV write failed stored nothing either. If
//! the storage write fails after KV took the change, KV holds a version the object
//! does not: the next change is computed from the object's copy and overwrites it,
//! so retries converge either way.

use edge_mfa_core::CoreError;
use edge_mfa_core::tenant::{AuthorisedChange, Tenant};
use serde::{Deserialize, Serialize};
use worker::{DurableObject, Env, Request, Response, State, durable_object};

use crate::backend::{TENANTS_KV, tenant_key};

/// A request from the Worker to a tenant id's object; answers the stored tenant
/// after the change, or `None` (create: it already existed; update: it does not
/// exist), or the change's refusal.
#[derive(Serialize, Deserialize)]
pub enum TenantCall {
    Create {
        tenant: Tenant,
    },
    Update {
        change: AuthorisedChange,
        now: u64,
    },
    /// The stored tenant, for admin requests (KV may be older).
    Get,
}

const TENANT_KEY: &str = "tenant";

fn rust_error(e: impl std::fmt::Display) -> worker::Error {
    worker::Error::RustError(e.to_string())
}

#[durable_object]
pub struct TenantState {
    state: State,
    env: Env,
}

impl std::fmt::Debug for TenantState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantState").finish_non_exhaustive()
    }
}

impl DurableObject for TenantState {
    fn new(state: State, env: Env) -> Self {
        TenantState { state, env }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let call: TenantCall = req.json().await?;
        let deployment = crate::deployment(&self.env).map_err(worker::Error::RustError)?;
        let storage = self.state.storage();
        let env = self.env.clone();
        let answer: Result<Option<Tenant>, CoreError> = self
            .state
            .block_concurrency_while(async move {
                let stored: Option<String> = storage.get(TENANT_KEY).await?;
                let stored: Option<Tenant> = stored
                    .map(|s| serde_json::from_str(&s))
                    .transpose()
                    .map_err(rust_error)?;
                let next = match (call, stored) {
                    (TenantCall::Get, stored) => return Ok(Ok(stored)),
                    (TenantCall::Create { tenant }, None) => tenant,
                    (TenantCall::Update { change, now }, Some(tenant)) => {
                        match tenant.apply_authorised(change) {
                            Ok(next) => {
                                let mut random = edge_mfa_core::OsRandom;
                                let mut core_env = edge_mfa_core::Env {
                                    now,
                                    random: &mut random,
                                };
                                next.resealed(&deployment.master, &mut core_env)
                            }
                            Err(refused) => return Ok(Err(refused)),
                        }
                    }
                    (TenantCall::Create { .. }, Some(_)) | (TenantCall::Update { .. }, None) => {
                        return Ok(Ok(None));
                    }
                };
                let json = serde_json::to_string(&next).map_err(rust_error)?;
                env.kv(TENANTS_KV)?
                    .put(&tenant_key(&next.id), json.clone())
                    .map_err(rust_error)?
                    .execute()
                    .await
                    .map_err(rust_error)?;
                storage.put(TENANT_KEY, json).await?;
                Ok(Ok(Some(next)))
            })
            .await?;
        Response::from_json(&answer)
    }
}
