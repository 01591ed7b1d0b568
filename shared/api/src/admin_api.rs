//! The operator's and the tenant admin's routes.

use edge_mfa_core::audit::{Actor, AuditEvent};
use edge_mfa_core::ids::UserId;
use edge_mfa_core::policy::{Capabilities, Policy};
use edge_mfa_core::tenant::{AuthorisedChange, Tenant, TenantChange, TenantPatch};
use edge_mfa_core::{Env, Outcome, UserCommand, UserRequest};

use crate::admin_answers::{
    AdminKeyRotated, BypassGranted, SigningKeyRotated, TenantView, TicketSecretRotated,
    UserStatusView,
};
use crate::answers::respond;
use crate::auth::Deployment;
use crate::backend::Backend;
use crate::http::{ApiRequest, ApiResponse, percent_decode};
use crate::problem::ApiError;
use crate::routes::{KeyKind, Resource};
use crate::wire::{BypassBody, RequirementBody, from_value, parse_body};

/// The admin routes. The router has checked the method against
/// [`Resource::methods`]; arms that tell methods apart match only those.
pub(crate) async fn handle<B: Backend>(
    backend: &B,
    deployment: &Deployment,
    tenant: &Tenant,
    resource: Resource<'_>,
    req: &ApiRequest,
    env: &mut Env<'_>,
) -> Result<ApiResponse, ApiError> {
    let now = env.now;
    match resource {
        Resource::AdminPolicy => {
            let policy = match req.method.as_str() {
                "GET" => return policy_response(tenant),
                // The whole policy object; omitted fields take their safe defaults.
                "PUT" => parse_policy(parse_body(req)?)?,
                // RFC 7396 over the stored policy: only what is sent changes, and
                // `null` puts a field back to its default.
                "PATCH" => {
                    let patch: serde_json::Value = parse_body(req)?;
                    if !patch.is_object() {
                        return Err(ApiError::InvalidRequest(
                            "a merge patch of the policy is a JSON object".into(),
                        ));
                    }
                    let mut value = serde_json::to_value(&tenant.policy)
                        .map_err(|e| ApiError::Internal(e.to_string()))?;
                    json_patch::merge(&mut value, &patch);
                    parse_policy(value)?
                }
                _ => return Err(resource.method_not_allowed()),
            };
            let capabilities = Capabilities {
                webhook: tenant.webhook.is_some(),
                ..deployment.capabilities()
            };
            policy
                .check_usable(capabilities)
                .map_err(ApiError::InvalidRequest)?;
            let updated =
                update(backend, tenant, req, TenantChange::SetPolicy(policy), env).await?;
            policy_response(&updated)
        }
        Resource::AdminWebhook(action) => {
            crate::webhooks::handle(backend, deployment, tenant, action, req, env).await
        }
        Resource::AdminTenant => match req.method.as_str() {
            "GET" => respond(200, &TenantView::from(tenant)),
            "PATCH" => {
                let patch: TenantPatch = parse_body(req)?;
                let change = tenant.identity_change(patch)?;
                let updated = update(backend, tenant, req, change, env).await?;
                respond(200, &TenantView::from(&updated))
            }
            _ => Err(resource.method_not_allowed()),
        },
        Resource::AdminUser(user) if req.method == "DELETE" => {
            // Right to erasure: the record, factors, devices and pending operations.
            run(
                backend,
                tenant,
                &user_id(user)?,
                UserCommand::Erase,
                req,
                now,
            )
            .await?;
            Ok(ApiResponse::empty(204))
        }
        Resource::AdminUser(user) => {
            let user = user_id(user)?;
            let Outcome::Status(status) =
                run(backend, tenant, &user, UserCommand::Status, req, now).await?
            else {
                return Err(ApiError::Internal("unexpected outcome".into()));
            };
            respond(200, &UserStatusView::new(&user, status))
        }
        Resource::AdminUserRequirement(user) => {
            let body: RequirementBody = parse_body(req)?;
            let user = user_id(user)?;
            let command = UserCommand::SetRequirement {
                required: body.required,
                enrollment_days: body.enrollment_days,
            };
            let Outcome::Status(status) = run(backend, tenant, &user, command, req, now).await?
            else {
                return Err(ApiError::Internal("unexpected outcome".into()));
            };
            respond(200, &UserStatusView::new(&user, status))
        }
        Resource::AdminUsers => crate::admin_views::users(backend, tenant, req, now).await,
        Resource::AdminAudit => crate::admin_views::audit(backend, tenant, req, now).await,
        Resource::AdminHelpRequests => {
            crate::admin_views::help_requests(backend, tenant, req, now).await
        }
        Resource::AdminHelpResolve(id) => {
            crate::admin_views::resolve(backend, tenant, id, req, now).await
        }
        Resource::AdminUserReset(user) => {
            run(
                backend,
                tenant,
                &user_id(user)?,
                UserCommand::Reset,
                req,
                now,
            )
            .await?;
            Ok(ApiResponse::empty(204))
        }
        Resource::AdminUserUnlock(user) => {
            run(
                backend,
                tenant,
                &user_id(user)?,
                UserCommand::Unlock,
                req,
                now,
            )
            .await?;
            Ok(ApiResponse::empty(204))
        }
        Resource::AdminUserBypass(user) if req.method == "DELETE" => {
            run(
                backend,
                tenant,
                &user_id(user)?,
                UserCommand::EndBypass,
                req,
                now,
            )
            .await?;
            Ok(ApiResponse::empty(204))
        }
        Resource::AdminUserBypass(user) => {
            let body: BypassBody = parse_body(req)?;
            let user = user_id(user)?;
            let Outcome::Bypassed { bypass_until } = run(
                backend,
                tenant,
                &user,
                UserCommand::Bypass {
                    minutes: body.minutes,
                },
                req,
                now,
            )
            .await?
            else {
                return Err(ApiError::Internal("unexpected outcome".into()));
            };
            respond(200, &BypassGranted { bypass_until })
        }
        Resource::AdminUserDevices(user) => {
            run(
                backend,
                tenant,
                &user_id(user)?,
                UserCommand::ClearDevices,
                req,
                now,
            )
            .await?;
            Ok(ApiResponse::empty(204))
        }
        Resource::AdminKeyRotate(key) => {
            let rotation = match key {
                KeyKind::Signing => tenant.rotate_signing_key(&deployment.master, env),
                KeyKind::TicketSecret => tenant.rotate_ticket_secret(&deployment.master, env),
                KeyKind::AdminKey => Tenant::rotate_admin_key(env),
            };
            update(backend, tenant, req, rotation.change, env).await?;
            match (key, rotation.kid, rotation.shown) {
                (KeyKind::Signing, Some(kid), _) => respond(200, &SigningKeyRotated { kid: &kid }),
                (KeyKind::TicketSecret, _, Some(secret)) => respond(
                    200,
                    &TicketSecretRotated {
                        ticket_secret: secret.expose(),
                    },
                ),
                (KeyKind::AdminKey, _, Some(key)) => respond(
                    200,
                    &AdminKeyRotated {
                        admin_key: key.expose(),
                    },
                ),
                _ => Err(ApiError::Internal("a rotation without its secret".into())),
            }
        }
        Resource::AdminKeyRetire(key) => {
            let change = match key {
                KeyKind::Signing => TenantChange::RetireSigningKeys,
                KeyKind::TicketSecret => TenantChange::RetireTicketSecret,
                // An admin key stops at once when rotated: nothing to retire.
                KeyKind::AdminKey => return Err(ApiError::NotFound("no such path".into())),
            };
            update(backend, tenant, req, change, env).await?;
            Ok(ApiResponse::empty(204))
        }
        _ => Err(ApiError::NotFound("no such path".into())),
    }
}

/// Applies `change` at the tenant's ordering point, as the admin key of `req`.
pub(crate) async fn update<B: Backend>(
    backend: &B,
    tenant: &Tenant,
    req: &ApiRequest,
    change: TenantChange,
    env: &mut Env<'_>,
) -> Result<Tenant, ApiError> {
    let (event, detail) = change.audit(tenant);
    let event = AuditEvent::new(event, Actor::Admin, None, &req.context().source(), env)
        .with_detail(detail);
    let authorised = AuthorisedChange {
        change,
        admin_key_sha256: Tenant::admin_key_hash(req.bearer().unwrap_or_default()),
        event: Some(event),
    };
    backend
        .update_tenant(&tenant.id, &authorised)
        .await
        .map_err(|e| ApiError::Internal(e.0))??
        .ok_or_else(|| ApiError::NotFound("no such tenant".into()))
}

/// A policy as sent (PUT) or as patched (PATCH), checked.
fn parse_policy(value: serde_json::Value) -> Result<Policy, ApiError> {
    let policy: Policy = from_value(value)?;
    policy.validate().map_err(ApiError::InvalidRequest)?;
    Ok(policy)
}

/// The policy, with the tenant's version as its `ETag` (RFC 9110 §8.8.3): of two
/// answers, the higher version is the later change.
fn policy_response(tenant: &Tenant) -> Result<ApiResponse, ApiError> {
    let value =
        serde_json::to_value(&tenant.policy).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(ApiResponse::json(200, &value).with_header("etag", format!("\"{}\"", tenant.version)))
}

pub(crate) fn user_id(segment: &str) -> Result<UserId, ApiError> {
    percent_decode(segment)
        .and_then(|s| UserId::try_from(s).ok())
        .ok_or_else(|| ApiError::InvalidRequest("the user id in the path is not valid".into()))
}

pub(crate) async fn run<B: Backend>(
    backend: &B,
    tenant: &Tenant,
    user: &UserId,
    command: UserCommand,
    req: &ApiRequest,
    now: u64,
) -> Result<Outcome, ApiError> {
    let request = UserRequest {
        command,
        step_up: false,
        context: req.context(),
    };
    let reply = backend
        .run_user(tenant, user, request, now)
        .await
        .map_err(|e| ApiError::Internal(e.0))?;
    Ok(reply?)
}
