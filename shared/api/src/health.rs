//! `GET /health`: readiness, for a load balancer or an uptime check. `200
//! {"status": "ok"}` only when the deployment's settings parse and its
//! `MASTER_KEY` opens what this deployment stored; otherwise `503 {"status":
//! "misconfigured", "problems": [..]}` naming what is wrong (never a secret).

use edge_mfa_core::Env;

use crate::admin_answers::{Misconfigured, Ready};
use crate::auth::Deployment;
use crate::backend::Backend;
use crate::http::ApiResponse;

/// What the canary binds to: it is no tenant's and no user's.
const CANARY_CONTEXT: &str = "edge-mfa deployment canary";
const CANARY: &[u8] = b"edge-mfa";

/// The readiness answer for a deployment whose settings did not parse.
pub fn misconfigured(problem: &str) -> ApiResponse {
    let answer = Misconfigured {
        status: "misconfigured",
        problems: &[problem],
    };
    let mut response =
        ApiResponse::serialized(503, &answer).unwrap_or_else(|_| ApiResponse::empty(503));
    response.log = Some(format!("misconfigured: {problem}"));
    response
}

/// The readiness answer for a deployment whose settings parse: the canary
/// opens (made on first use; re-sealed under the current key after a rotation).
pub(crate) async fn health<B: Backend>(
    backend: &B,
    deployment: &Deployment,
    env: &mut Env<'_>,
) -> ApiResponse {
    let master = &deployment.master;
    let problem = match backend.load_canary().await {
        Err(e) => format!("the storage did not answer: {}", e.0),
        Ok(None) => {
            let sealed = master.seal(CANARY_CONTEXT, CANARY, env);
            match backend.store_canary(&sealed).await {
                Ok(()) => return ok(),
                Err(e) => format!("the storage did not answer: {}", e.0),
            }
        }
        Ok(Some(sealed)) => match master.open(CANARY_CONTEXT, &sealed) {
            Ok(_) => {
                if let Some(resealed) = master.reseal(CANARY_CONTEXT, &sealed, env) {
                    // Best effort: the check passed either way.
                    let _ = backend.store_canary(&resealed).await;
                }
                return ok();
            }
            Err(_) => master.explain_unopenable("the data this deployment stored", &sealed),
        },
    };
    misconfigured(&problem)
}

fn ok() -> ApiResponse {
    ApiResponse::serialized(200, &Ready { status: "ok" })
        .unwrap_or_else(|_| ApiResponse::empty(200))
}
