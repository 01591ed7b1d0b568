//! The Durable Object of one `(tenant, user)`: it owns the user's record and runs
//! every operation on it inside `blockConcurrencyWhile`, so no other request for
//! the user can interleave between load and store. This is what makes a backup
//! code, a TOTP step, a challenge or a failure count single-use under any number of
//! parallel requests.

use edge_mfa_core::ids::UserId;
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
