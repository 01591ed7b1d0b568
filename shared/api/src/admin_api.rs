//! The operator's and the tenant admin's routes.

use edge_mfa_core::ids::UserId;
use edge_mfa_core::tenant::{NewTenant, Tenant};
use edge_mfa_core::{Env, Outcome, UserCommand, UserRequest};
use serde_json::json;

use crate::auth::Deployment;
use crate::backend::Backend;
use crate::http::{ApiRequest, ApiResponse, percent_decode};
use crate::problem::ApiError;
use crate::routes::{Resource, only};
use crate::wire::parse_body;

pub(crate) async fn create_tenant<B: Backend>(
    backend: &B,
    deployment: &Deployment,
    req: &ApiRequest,
    env: &mut Env<'_>,
) -> Result<ApiResponse, ApiError> {
    let new: NewTenant = parse_body(req)?;
    let (tenant, credentials) = Tenant::create(new, &deployment.master, env)?;
    if !backend
        .create_tenant(&tenant)
        .await
        .map_err(|e| ApiError::Internal(e.0))?
    {
        return Err(ApiError::Conflict(format!(
            "tenant {} already exists",
            tenant.id
        )));
    }
    let body = serde_json::to_value(&credentials).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(ApiResponse::json(201, &body))
}

pub(crate) async fn handle<B: Backend>(
    backend: &B,
    tenant: &Tenant,
    resource: Resource<'_>,
    req: &ApiRequest,
    _env: &mut Env<'_>,
) -> Result<ApiResponse, ApiError> {
    match resource {
        Resource::AdminPolicy => {
            only(req, "GET")?;
            let policy = serde_json::to_value(&tenant.policy)
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok(ApiResponse::json(200, &policy))
        }
        Resource::AdminUser(user) => {
            only(req, "GET")?;
            let user = user_id(user)?;
            let Outcome::Status(status) = run(backend, tenant, &user, UserCommand::Status).await?
            else {
                return Err(ApiError::Internal("unexpected outcome".into()));
            };
            let mut body = json!({
                "user": user.as_str(),
                "enrollment": {"state": if status.enrolled { "enrolled" } else { "not_enrolled" }},
                "factors": status.factors,
                "backup_codes_remaining": status.backup_codes_remaining,
                "trusted_devices": [],
                "last_mfa_at": status.last_mfa_at,
            });
            if let (Some(until), Some(map)) = (status.locked_until, body.as_object_mut()) {
                map.insert("locked_until".into(), json!(until));
            }
            Ok(ApiResponse::json(200, &body))
        }
        Resource::AdminUserReset(user) => {
            only(req, "POST")?;
            let user = user_id(user)?;
            run(backend, tenant, &user, UserCommand::Reset).await?;
            Ok(ApiResponse::empty(204))
        }
        _ => Err(ApiError::NotFound("no such path".into())),
    }
}

fn user_id(segment: &str) -> Result<UserId, ApiError> {
    percent_decode(segment)
        .and_then(|s| UserId::try_from(s).ok())
        .ok_or_else(|| ApiError::InvalidRequest("the user id in the path is not valid".into()))
}

async fn run<B: Backend>(
    backend: &B,
    tenant: &Tenant,
    user: &UserId,
    command: UserCommand,
) -> Result<Outcome, ApiError> {
    let reply = backend
        .run_user(
            tenant,
            user,
            UserRequest {
                command,
                step_up: false,
            },
        )
        .await
        .map_err(|e| ApiError::Internal(e.0))?;
    Ok(reply?)
}
