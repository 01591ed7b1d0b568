//! The Durable Object of one tenant id: the ordering point for the tenant's
//! configuration. KV cannot refuse a second creation or order two updates; this
//! object can, and it publishes to KV itself, inside the same critical section, so
//! the copy every request reads is only ever replaced by a newer version.
//!
//! It stores the tenant and the version last published. A creation whose
//! publication failed is not a tenant yet (its credentials were never returned),
//! so a retry replaces it; an update whose publication failed is published by the
//! next call, whichever it is.

use edge_mfa_core::policy::Policy;
use edge_mfa_core::tenant::Tenant;
use serde::{Deserialize, Serialize};
use worker::{DurableObject, Env, Request, Response, State, Storage, durable_object};

use crate::backend::{TENANTS_KV, tenant_key};

/// A request from the Worker to a tenant id's object; answers the stored tenant
/// after the change, or `None` (create: it already existed; set: it does not exist).
#[derive(Serialize, Deserialize)]
pub enum TenantCall {
    Create { tenant: Tenant },
    SetPolicy { policy: Policy, now: u64 },
}

const TENANT_KEY: &str = "tenant";
/// The `version` of the tenant last written to KV.
const PUBLISHED_KEY: &str = "published";

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
        let storage = self.state.storage();
        let env = self.env.clone();
        let answer: Option<Tenant> = self
            .state
            .block_concurrency_while(async move {
                let stored: Option<String> = storage.get(TENANT_KEY).await?;
                let stored: Option<Tenant> = stored
                    .map(|s| serde_json::from_str(&s))
                    .transpose()
                    .map_err(rust_error)?;
                let published: u64 = storage.get(PUBLISHED_KEY).await?.unwrap_or(0);
                // A tenant exists once its creation was published.
                let existing = stored.filter(|_| published > 0);
                let next = match (call, existing) {
                    (TenantCall::Create { tenant }, None) => tenant,
                    (TenantCall::SetPolicy { policy, now }, Some(tenant)) => {
                        tenant.with_policy(policy, now)
                    }
                    (TenantCall::Create { .. }, Some(tenant)) => {
                        catch_up(&env, &storage, &tenant, published).await?;
                        return Ok(None);
                    }
                    (TenantCall::SetPolicy { .. }, None) => return Ok(None),
                };
                storage
                    .put(
                        TENANT_KEY,
                        serde_json::to_string(&next).map_err(rust_error)?,
                    )
                    .await?;
                publish(&env, &storage, &next).await?;
                Ok(Some(next))
            })
            .await?;
        Response::from_json(&answer)
    }
}

/// Publishes `tenant` if KV holds an older version.
async fn catch_up(
    env: &Env,
    storage: &Storage,
    tenant: &Tenant,
    published: u64,
) -> worker::Result<()> {
    if published < tenant.version {
        publish(env, storage, tenant).await?;
    }
    Ok(())
}

/// Writes `tenant` to KV, then records its version as published.
async fn publish(env: &Env, storage: &Storage, tenant: &Tenant) -> worker::Result<()> {
    let json = serde_json::to_string(tenant).map_err(rust_error)?;
    env.kv(TENANTS_KV)?
        .put(&tenant_key(&tenant.id), json)
        .map_err(rust_error)?
        .execute()
        .await
        .map_err(rust_error)?;
    storage.put(PUBLISHED_KEY, tenant.version).await
}
