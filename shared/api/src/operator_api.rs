//! The operator's routes (API.md "Operator", "The tenant's lifecycle"): create, list and
//! delete tenants, with the deployment's `OPERATOR_KEY`.

use edge_mfa_core::Env;
use edge_mfa_core::audit::{Actor, AuditEvent, EventType};
use edge_mfa_core::ids::TenantId;
use edge_mfa_core::tenant::{NewTenant, Tenant};

use crate::auth::Deployment;
use crate::backend::Backend;
use crate::http::{ApiRequest, ApiResponse};
use crate::problem::ApiError;
use crate::wire::parse_body;

/// Tenants per page of `GET /v1/tenants`, unless `limit` asks for fewer.
const PAGE: usize = 100;

/// Ids that are paths of the operator's API, not tenants.
const RESERVED_IDS: &[&str] = &["tenants"];

/// `POST /v1/tenants`: `201 {"id", "admin_key", "ticket_secret"}`, shown once.
pub(crate) async fn create_tenant<B: Backend>(
    backend: &B,
    deployment: &Deployment,
    req: &ApiRequest,
    env: &mut Env<'_>,
) -> Result<ApiResponse, ApiError> {
    let new: NewTenant = parse_body(req)?;
    if RESERVED_IDS.contains(&new.id.as_str()) {
        return Err(ApiError::InvalidRequest(format!(
            "tenant id {:?} is reserved",
            new.id.as_str()
        )));
    }
    let (tenant, credentials) =
        Tenant::create(new, deployment.capabilities(), &deployment.master, env)?;
    let source = req.context().source();
    let event = AuditEvent::new(
        EventType::TenantCreated,
        Actor::Operator,
        None,
        &source,
        env,
    )
    .with_detail(serde_json::json!({ "name": tenant.name, "rp_id": tenant.rp_id }));
    if !backend
        .create_tenant(&tenant, &event)
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

/// `GET /v1/tenants?cursor=&limit=`: `200 {"tenants": [{"id", "name",
/// "created_at"}], "next"?}`, in id order.
pub(crate) async fn list_tenants<B: Backend>(
    backend: &B,
    req: &ApiRequest,
) -> Result<ApiResponse, ApiError> {
    let limit = match req.query_param("limit") {
        None => PAGE,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=PAGE).contains(n))
            .ok_or_else(|| ApiError::InvalidRequest(format!("limit must be 1-{PAGE}")))?,
    };
    let cursor = req.query_param("cursor");
    if let Some(cursor) = &cursor
        && TenantId::try_from(cursor.clone()).is_err()
    {
        return Err(ApiError::InvalidRequest(
            "cursor is not one this API gave".into(),
        ));
    }
    let page = backend
        .list_tenants(cursor.as_deref(), limit)
        .await
        .map_err(|e| ApiError::Internal(e.0))?;
    crate::answers::respond(
        200,
        &crate::admin_answers::TenantsPage {
            tenants: &page.tenants,
            next: page.next.as_deref(),
        },
    )
}

/// `DELETE /v1/tenants/{id}`: `204`; the tenant and all its users' data.
pub(crate) async fn delete_tenant<B: Backend>(
    backend: &B,
    segment: &str,
    env: &Env<'_>,
) -> Result<ApiResponse, ApiError> {
    let not_found = || ApiError::NotFound("no such tenant".into());
    let id = TenantId::try_from(segment.to_string()).map_err(|_| not_found())?;
    if !backend
        .delete_tenant(&id, env.now)
        .await
        .map_err(|e| ApiError::Internal(e.0))?
    {
        return Err(not_found());
    }
    Ok(ApiResponse::empty(204).with_log(format!("tenant {id} deleted by the operator")))
}
