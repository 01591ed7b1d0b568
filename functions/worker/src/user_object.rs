//! The Durable Object of one `(tenant, user)`: it owns the user's record and runs
//! every operation on it inside `blockConcurrencyWhile`, so no other request for
//! the user can interleave between load and store. This is what makes a backup
//! code, a TOTP step, a challenge or a failure count single-use under any number of
//! parallel requests.
//!
//! When a change alters the user's summary (first seen, factor methods, erased),
//! the tenant's object indexes it *before* the record is stored: every stored
//! record is indexed, so deleting the tenant finds it, and a tenant that is gone
//! (or was created anew under the same id) gets nothing stored.

use edge_mfa_core::ids::UserId;
use edge_mfa_core::tenant::Tenant;
use edge_mfa_core::{CoreError, Outcome, UserRequest, Write};
use serde::{Deserialize, Serialize};
use worker::{DurableObject, Env, Request, Response, State, durable_object};

use crate::backend::{TENANTS_DO, call_object};
use crate::tenant_object::TenantCall;

/// A request to a user's object.
#[derive(Serialize, Deserialize)]
pub enum UserCall {
    /// From the Worker: run `request` on the record.
    Run {
        tenant: Box<Tenant>,
        user: UserId,
        request: UserRequest,
        /// The request's clock, chosen once by the Worker.
        now: u64,
    },
    /// From the tenant's object, after the tenant was deleted: forget everything.
    Erase,
}

const RECORD_KEY: &str = "record";

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
        let (tenant, user, request, now) = match req.json().await? {
            UserCall::Run {
                tenant,
                user,
                request,
                now,
            } => (tenant, user, request, now),
            UserCall::Erase => {
                self.state.storage().delete_all().await?;
                return Response::from_json(&Ok::<Outcome, CoreError>(Outcome::Erased));
            }
        };
        let deployment = crate::deployment(&self.env).map_err(worker::Error::RustError)?;
        let storage = self.state.storage();
        let env = self.env.clone();
        let reply: Result<Outcome, CoreError> = self
            .state
            .block_concurrency_while(async move {
                let stored: Option<String> = storage.get(RECORD_KEY).await?;
                let mut random = edge_mfa_core::OsRandom;
                let mut core_env = edge_mfa_core::Env {
                    now,
                    random: &mut random,
                };
                let applied = edge_mfa_core::apply(
                    stored.as_deref(),
                    &tenant,
                    &deployment.master,
                    &user,
                    request,
                    &mut core_env,
                );
                if let Some(summary) = applied.summary {
                    let call = TenantCall::IndexUser {
                        incarnation: tenant.incarnation.clone(),
                        user: user.clone(),
                        summary,
                    };
                    let indexed: Result<Option<Tenant>, CoreError> =
                        call_object(&env, TENANTS_DO, tenant.id.as_str(), &call)
                            .await
                            .map_err(|e| worker::Error::RustError(e.0))?;
                    if !matches!(indexed, Ok(Some(_))) {
                        // A copy of a tenant that was deleted since: store nothing.
                        return Ok(Err(CoreError::NotFound("no such tenant".into())));
                    }
                }
                match applied.store {
                    Some(Write::Put(record)) => storage.put(RECORD_KEY, record).await?,
                    Some(Write::Delete) => storage.delete_all().await?,
                    None => {}
                }
                Ok(applied.reply)
            })
            .await?;
        Response::from_json(&reply)
    }
}
