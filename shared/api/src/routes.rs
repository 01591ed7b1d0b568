//! Which handler serves a request: the paths of API.md, method checks, and CORS.

use edge_mfa_core::Env;
use edge_mfa_core::ids::TenantId;

use crate::auth::{Deployment, require_admin, require_ticket};
use crate::backend::Backend;
use crate::http::{ApiRequest, ApiResponse, MAX_BODY_BYTES};
use crate::problem::ApiError;
use crate::{admin_api, operator_api, user_api};

/// The resources under `/v1/{tenant}/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource<'a> {
    Jwks,
    Factors,
    Factor(&'a str),
    Enroll,
    Confirm(&'a str),
    Challenge,
    /// `challenge/{challenge_id}/resend`.
    Resend(&'a str),
    Verify,
    BackupCodes,
    RedeemBackupCode,
    Assess,
    Devices,
    Device(&'a str),
    /// `help`: the user asks the admins for help.
    Help,
    /// `approver/...`: the phone's routes (push approval).
    Approver(crate::push::ApproverCall),
    AdminPolicy,
    AdminTenant,
    /// `admin/webhook` (`None`), `admin/webhook/secret`, `admin/webhook/test`.
    AdminWebhook(Option<&'a str>),
    /// `admin/users`: the users list.
    AdminUsers,
    AdminUser(&'a str),
    AdminUserRequirement(&'a str),
    /// `admin/help-requests`.
    AdminHelpRequests,
    /// `admin/help-requests/{id}/resolve`.
    AdminHelpResolve(&'a str),
    /// `admin/audit`.
    AdminAudit,
    AdminUserReset(&'a str),
    AdminUserBypass(&'a str),
    AdminUserUnlock(&'a str),
    AdminUserDevices(&'a str),
    /// `admin/keys/{signing|ticket-secret|admin-key}/rotate`.
    AdminKeyRotate(KeyKind),
    /// `admin/keys/{signing|ticket-secret}/retire`.
    AdminKeyRetire(KeyKind),
}

/// The tenant's keys an admin rotates (API.md "Key rotation (admin key)").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    Signing,
    TicketSecret,
    AdminKey,
}

impl KeyKind {
    fn parse(segment: &str) -> Option<KeyKind> {
        match segment {
            "signing" => Some(KeyKind::Signing),
            "ticket-secret" => Some(KeyKind::TicketSecret),
            "admin-key" => Some(KeyKind::AdminKey),
            _ => None,
        }
    }
}

/// Every path template served under `/v1/{tenant}/` (what [`Resource::parse`]
/// knows), for the test that the OpenAPI document lists exactly these.
pub const TENANT_PATHS: &[&str] = &[
    "jwks.json",
    "factors",
    "factors/{factor_id}",
    "enroll",
    "enroll/{enrollment_id}/confirm",
    "challenge",
    "challenge/{challenge_id}/resend",
    "verify",
    "backup-codes",
    "backup-codes/redeem",
    "assess",
    "devices",
    "devices/{device_id}",
    "help",
    "approver/activation",
    "approver/activate",
    "approver/approval",
    "approver/answer",
    "admin/policy",
    "admin/tenant",
    "admin/webhook",
    "admin/webhook/secret",
    "admin/webhook/test",
    "admin/users",
    "admin/users/{user}",
    "admin/users/{user}/requirement",
    "admin/help-requests",
    "admin/help-requests/{id}/resolve",
    "admin/audit",
    "admin/users/{user}/reset",
    "admin/users/{user}/bypass",
    "admin/users/{user}/unlock",
    "admin/users/{user}/devices",
    "admin/keys/signing/rotate",
    "admin/keys/signing/retire",
    "admin/keys/ticket-secret/rotate",
    "admin/keys/ticket-secret/retire",
    "admin/keys/admin-key/rotate",
];

impl<'a> Resource<'a> {
    fn parse(rest: &[&'a str]) -> Option<Resource<'a>> {
        Some(match rest {
            ["jwks.json"] => Resource::Jwks,
            ["factors"] => Resource::Factors,
            ["factors", id] => Resource::Factor(id),
            ["enroll"] => Resource::Enroll,
            ["enroll", id, "confirm"] => Resource::Confirm(id),
            ["challenge"] => Resource::Challenge,
            ["challenge", id, "resend"] => Resource::Resend(id),
            ["verify"] => Resource::Verify,
            ["backup-codes"] => Resource::BackupCodes,
            ["backup-codes", "redeem"] => Resource::RedeemBackupCode,
            ["assess"] => Resource::Assess,
            ["devices"] => Resource::Devices,
            ["devices", id] => Resource::Device(id),
            ["help"] => Resource::Help,
            ["approver", call] => Resource::Approver(crate::push::ApproverCall::parse(call)?),
            ["admin", "users"] => Resource::AdminUsers,
            ["admin", "users", user, "requirement"] => Resource::AdminUserRequirement(user),
            ["admin", "help-requests"] => Resource::AdminHelpRequests,
            ["admin", "help-requests", id, "resolve"] => Resource::AdminHelpResolve(id),
            ["admin", "audit"] => Resource::AdminAudit,
            ["admin", "policy"] => Resource::AdminPolicy,
            ["admin", "tenant"] => Resource::AdminTenant,
            ["admin", "webhook"] => Resource::AdminWebhook(None),
            ["admin", "webhook", action @ ("secret" | "test")] => {
                Resource::AdminWebhook(Some(action))
            }
            ["admin", "users", user] => Resource::AdminUser(user),
            ["admin", "users", user, "reset"] => Resource::AdminUserReset(user),
            ["admin", "users", user, "bypass"] => Resource::AdminUserBypass(user),
            ["admin", "users", user, "unlock"] => Resource::AdminUserUnlock(user),
            ["admin", "users", user, "devices"] => Resource::AdminUserDevices(user),
            ["admin", "keys", key, "rotate"] => Resource::AdminKeyRotate(KeyKind::parse(key)?),
            ["admin", "keys", key, "retire"] => Resource::AdminKeyRetire(KeyKind::parse(key)?),
            _ => return None,
        })
    }

    fn is_admin(self) -> bool {
        self.component().0 == "admin"
    }

    /// The methods the resource serves: its `Allow` (RFC 9110 §10.2.1), checked
    /// before any handler runs, and what a preflight may ask for. HEAD wherever
    /// GET is (answered as GET without the body).
    pub(crate) fn methods(self) -> &'static str {
        match self {
            Resource::Jwks
            | Resource::Factors
            | Resource::Devices
            | Resource::AdminUsers
            | Resource::AdminHelpRequests
            | Resource::AdminAudit => GET,
            Resource::AdminUser(_) => "GET, HEAD, DELETE",
            Resource::AdminUserBypass(_) => "POST, DELETE",
            Resource::Factor(_) => "DELETE, PATCH",
            Resource::Device(_) | Resource::AdminUserDevices(_) => "DELETE",
            Resource::AdminPolicy => "GET, HEAD, PUT, PATCH",
            Resource::AdminTenant => "GET, HEAD, PATCH",
            Resource::AdminWebhook(None) => "GET, HEAD, PUT",
            Resource::AdminUserRequirement(_) => "PUT",
            Resource::Enroll
            | Resource::Confirm(_)
            | Resource::Challenge
            | Resource::Resend(_)
            | Resource::Verify
            | Resource::BackupCodes
            | Resource::RedeemBackupCode
            | Resource::Assess
            | Resource::Help
            | Resource::Approver(_)
            | Resource::AdminWebhook(Some(_))
            | Resource::AdminHelpResolve(_)
            | Resource::AdminUserReset(_)
            | Resource::AdminUserUnlock(_)
            | Resource::AdminKeyRotate(_)
            | Resource::AdminKeyRetire(_) => "POST",
        }
    }

    /// The end-user routes, which a browser calls across origins: they answer
    /// CORS preflights and check the method inside CORS.
    pub(crate) fn is_browser(self) -> bool {
        !self.is_admin() && !matches!(self, Resource::Jwks | Resource::Approver(_))
    }

    /// The `Allow` of a 405: [`Self::methods`], and OPTIONS where the resource
    /// answers preflights (RFC 9110 §10.2.1 lists every method it serves).
    pub(crate) fn allow(self) -> &'static str {
        if !self.is_browser() {
            return self.methods();
        }
        match self.methods() {
            GET => "GET, HEAD, OPTIONS",
            "POST" => "POST, OPTIONS",
            "DELETE" => "DELETE, OPTIONS",
            "DELETE, PATCH" => "DELETE, PATCH, OPTIONS",
            // A new end-user method list must be added above: the unit test
            // `browser_routes_allow_options` fails until it is.
            other => other,
        }
    }

    /// `405` with the resource's `Allow` unless it serves `method`.
    pub(crate) fn allows(self, method: &str) -> Result<(), ApiError> {
        if self.methods().split(", ").any(|m| m == method) {
            Ok(())
        } else {
            Err(self.method_not_allowed())
        }
    }

    pub(crate) fn method_not_allowed(self) -> ApiError {
        ApiError::MethodNotAllowed {
            allow: self.allow(),
        }
    }
}

const GET: &str = "GET, HEAD";

/// The route groups this build compiles: one per Spin component, each a feature
/// of this crate named after the component (Cargo.toml), which also leaves the
/// others' handlers out of the build (`#[cfg]` on their match arms).
mod built {
    pub const ASSESS: bool = cfg!(feature = "assess");
    pub const DEVICES: bool = cfg!(feature = "devices");
    pub const ENROLL: bool = cfg!(feature = "enroll");
    pub const CHALLENGE: bool = cfg!(feature = "challenge");
    pub const VERIFY: bool = cfg!(feature = "verify");
    pub const BACKUP_CODES: bool = cfg!(feature = "backup-codes");
    pub const ADMIN: bool = cfg!(feature = "admin");
}

impl Resource<'_> {
    /// The Spin component that serves the resource (spin.toml), and whether this
    /// build compiles its handler. `jwks.json` is in every build.
    fn component(self) -> (&'static str, bool) {
        match self {
            Resource::Jwks => ("public", true),
            Resource::Factors | Resource::Factor(_) | Resource::Enroll | Resource::Confirm(_) => {
                ("enroll", built::ENROLL)
            }
            Resource::Challenge | Resource::Resend(_) => ("challenge", built::CHALLENGE),
            Resource::Verify | Resource::Approver(_) => ("verify", built::VERIFY),
            Resource::BackupCodes | Resource::RedeemBackupCode => {
                ("backup-codes", built::BACKUP_CODES)
            }
            Resource::Assess | Resource::Help => ("assess", built::ASSESS),
            Resource::Devices | Resource::Device(_) => ("devices", built::DEVICES),
            Resource::AdminPolicy
            | Resource::AdminTenant
            | Resource::AdminWebhook(_)
            | Resource::AdminUsers
            | Resource::AdminUser(_)
            | Resource::AdminUserRequirement(_)
            | Resource::AdminHelpRequests
            | Resource::AdminHelpResolve(_)
            | Resource::AdminAudit
            | Resource::AdminUserReset(_)
            | Resource::AdminUserBypass(_)
            | Resource::AdminUserUnlock(_)
            | Resource::AdminUserDevices(_)
            | Resource::AdminKeyRotate(_)
            | Resource::AdminKeyRetire(_) => ("admin", built::ADMIN),
        }
    }

    /// `500` naming the component to route to, unless this build serves the resource.
    fn require_built(self) -> Result<(), ApiError> {
        match self.component() {
            (_, true) => Ok(()),
            (component, false) => Err(ApiError::Internal(not_built(component))),
        }
    }
}

/// Serves one request. Never panics on input; every refusal is problem+json.
pub async fn handle<B: Backend>(
    backend: &B,
    deployment: &Deployment,
    req: &ApiRequest,
    env: &mut Env<'_>,
) -> ApiResponse {
    let hooked;
    let req = if deployment.test_hooks {
        hooked = test_hooks(req, env);
        &hooked
    } else {
        req
    };
    // HEAD is GET without the body (RFC 9110 §9.3.2): uptime checks use it.
    if req.method == "HEAD" {
        let get = ApiRequest {
            method: "GET".into(),
            ..req.clone()
        };
        let response = route(backend, deployment, &get, env)
            .await
            .unwrap_or_else(|e| e.to_response());
        return ApiResponse {
            body: Vec::new(),
            ..response
        };
    }
    route(backend, deployment, req, env)
        .await
        .unwrap_or_else(|e| e.to_response())
}

/// Tests only (a deployment setting, off by default): the clock and the client's
/// address and country come from request headers, so expiry, grace periods and
/// adaptive signals can be tested against a real runtime.
fn test_hooks(req: &ApiRequest, env: &mut Env<'_>) -> ApiRequest {
    let mut req = req.clone();
    if let Some(now) = req
        .header("x-edge-mfa-test-now")
        .and_then(|v| v.parse().ok())
    {
        env.now = now;
    }
    if let Some(ip) = req.header("x-edge-mfa-test-ip") {
        req.client.ip = Some(ip.to_string());
    }
    if let Some(country) = req.header("x-edge-mfa-test-country") {
        req.client.country = Some(country.to_string());
    }
    req
}

async fn route<B: Backend>(
    backend: &B,
    deployment: &Deployment,
    req: &ApiRequest,
    env: &mut Env<'_>,
) -> Result<ApiResponse, ApiError> {
    if req.body.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    let path = req.path.strip_prefix('/').unwrap_or(&req.path);
    let segments: Vec<&str> = path.split('/').collect();
    match segments.as_slice() {
        ["health"] => {
            only(req, "GET")?;
            Ok(crate::health::health(backend, deployment, env).await)
        }
        ["openapi.json"] => {
            only(req, "GET")?;
            openapi_document()
        }
        #[cfg(feature = "tenants")]
        ["v1", "tenants"] => match req.method.as_str() {
            "POST" => {
                deployment.require_operator(req)?;
                operator_api::create_tenant(backend, deployment, req, env).await
            }
            "GET" => {
                deployment.require_operator(req)?;
                operator_api::list_tenants(backend, req).await
            }
            _ => Err(ApiError::MethodNotAllowed {
                allow: "GET, HEAD, POST",
            }),
        },
        // Operator: deliver due notifications now (Spin: a cron job's target).
        #[cfg(feature = "tenants")]
        ["v1", "deliveries"] => {
            only(req, "POST")?;
            deployment.require_operator(req)?;
            let (attempted, delivered) = crate::webhooks::deliver_due(
                backend,
                deployment,
                env.now,
                100,
                None,
                crate::webhooks::SYNC_TIMEOUT_MS,
            )
            .await
            .map_err(|e| ApiError::Internal(e.0))?;
            crate::answers::respond(
                200,
                &crate::admin_answers::DeliveriesRun {
                    attempted,
                    delivered,
                },
            )
        }
        #[cfg(feature = "tenants")]
        ["v1", "tenants", id] => {
            only(req, "DELETE")?;
            deployment.require_operator(req)?;
            operator_api::delete_tenant(backend, id, env).await
        }
        #[cfg(not(feature = "tenants"))]
        ["v1", "tenants" | "deliveries"] | ["v1", "tenants", _] => {
            Err(ApiError::Internal(not_built("tenants")))
        }
        ["v1", tenant, rest @ ..] => {
            tenant_route(backend, deployment, req, tenant, rest, env).await
        }
        _ => Err(ApiError::NotFound("no such path".into())),
    }
}

#[cfg(feature = "openapi")]
fn openapi_document() -> Result<ApiResponse, ApiError> {
    Ok(ApiResponse {
        body: crate::OPENAPI.as_bytes().to_vec(),
        ..ApiResponse::json(200, &serde_json::Value::Null)
    })
}

#[cfg(not(feature = "openapi"))]
fn openapi_document() -> Result<ApiResponse, ApiError> {
    Err(ApiError::Internal(not_built("openapi")))
}

/// Why a route this build leaves out was reached: a deployment that routes it to
/// the wrong Spin component (spin.toml names the one built with `feature`).
pub(crate) fn not_built(feature: &str) -> String {
    format!(
        "this component was built without the `{feature}` feature; route the request to the component spin.toml names for it"
    )
}

/// `405` unless the request is `method`: `"GET"` (which HEAD reaches as GET),
/// `"POST"` or `"DELETE"`.
fn only(req: &ApiRequest, method: &'static str) -> Result<(), ApiError> {
    if req.method == method {
        Ok(())
    } else {
        Err(ApiError::MethodNotAllowed {
            allow: if method == "GET" { GET } else { method },
        })
    }
}

async fn tenant_route<B: Backend>(
    backend: &B,
    deployment: &Deployment,
    req: &ApiRequest,
    tenant: &str,
    rest: &[&str],
    env: &mut Env<'_>,
) -> Result<ApiResponse, ApiError> {
    let no_tenant = || ApiError::NotFound("no such tenant".into());
    let id = TenantId::try_from(tenant.to_string()).map_err(|_| no_tenant())?;
    let resource =
        Resource::parse(rest).ok_or_else(|| ApiError::NotFound("no such path".into()))?;
    resource.require_built()?;
    // Admin routes read the ordering point's own copy, not the published one: a
    // rotated admin key then stops at once everywhere, and an admin sees (and
    // changes) the latest configuration.
    let tenant = if resource.is_admin() {
        backend.authoritative_tenant(&id).await
    } else {
        backend.tenant(&id).await
    }
    .map_err(|e| ApiError::Internal(e.0))?
    .ok_or_else(no_tenant)?;
    // The end-user routes check the method below, inside CORS, and answer a
    // browser's preflight.
    if !resource.is_browser() {
        resource.allows(&req.method)?;
    }

    if resource == Resource::Jwks {
        let jwks =
            serde_json::to_value(tenant.jwks()).map_err(|e| ApiError::Internal(e.to_string()))?;
        let mut response = ApiResponse::json(200, &jwks);
        response.headers.retain(|(n, _)| n != "cache-control");
        return Ok(response.with_header("cache-control", "public, max-age=300"));
    }
    // A build without a group leaves its handlers out, not just unreached: an
    // `await` keeps a handler's future in the caller's state machine otherwise.
    #[cfg(feature = "verify")]
    if let Resource::Approver(call) = resource {
        // The phone's, from the Approver's own origin: no ticket, no CORS.
        return crate::push::handle(backend, deployment, &tenant, call, req, env).await;
    }
    #[cfg(feature = "admin")]
    if resource.is_admin() {
        // Admin keys belong on servers: these routes answer no browser preflight.
        require_admin(req, &tenant)?;
        return admin_api::handle(backend, deployment, &tenant, resource, req, env).await;
    }

    let origin = req.header("origin");
    let allowed = origin.filter(|o| tenant.allows_origin(o));
    if origin.is_some() && allowed.is_none() {
        return Err(ApiError::Forbidden(
            "this origin is not one of the tenant's origins".into(),
        ));
    }
    if req.method == "OPTIONS" {
        return Ok(with_cors(preflight(resource), allowed));
    }
    // A refusal a browser can read: the problem, with CORS, like every other.
    let response = match resource
        .allows(&req.method)
        .and_then(|()| require_ticket(req, &tenant, &deployment.master, env.now))
    {
        Ok(caller) => {
            user_api::handle(backend, deployment, &tenant, &caller, resource, req, env).await
        }
        Err(e) => Err(e),
    };
    Ok(with_cors(
        response.unwrap_or_else(|e| e.to_response()),
        allowed,
    ))
}

fn preflight(resource: Resource<'_>) -> ApiResponse {
    ApiResponse::empty(204)
        .with_header("access-control-allow-methods", resource.methods())
        .with_header(
            "access-control-allow-headers",
            "authorization, content-type, x-mfa-token",
        )
        .with_header("access-control-max-age", "600")
}

/// CORS for one of the tenant's origins (API.md "Browser rules"): that origin
/// only, with credentials, so the device cookie can flow.
fn with_cors(response: ApiResponse, origin: Option<&str>) -> ApiResponse {
    let response = response.with_header("vary", "Origin");
    match origin {
        Some(origin) => response
            .with_header("access-control-allow-origin", origin)
            .with_header("access-control-allow-credentials", "true")
            .with_header("access-control-expose-headers", "retry-after, allow"),
        None => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every path template, with its placeholders filled in.
    fn resources() -> Vec<Resource<'static>> {
        TENANT_PATHS
            .iter()
            .map(|template| {
                let segments: Vec<&'static str> = template
                    .split('/')
                    .map(|s| if s.starts_with('{') { "x1" } else { s })
                    .collect();
                Resource::parse(&segments).unwrap_or_else(|| panic!("{template} parses"))
            })
            .collect()
    }

    /// spin.toml's `[[trigger.http]]` routes, in order: (route, component).
    fn spin_routes() -> Vec<(String, String)> {
        let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../../spin.toml");
        let text = std::fs::read_to_string(manifest).unwrap_or_else(|e| panic!("{manifest}: {e}"));
        // `key = "value"` within one table, comments and whitespace aside.
        let value = |table: &str, key: &str| {
            table.lines().find_map(|line| {
                let (k, v) = line.split_once('=')?;
                (k.trim() == key).then(|| v.split('"').nth(1).unwrap_or_default().to_string())
            })
        };
        let routes: Vec<(String, String)> = text
            .split("[[trigger.http]]")
            .skip(1)
            .map(|table| table.split("\n[").next().unwrap_or_default())
            .map(|table| {
                let route = value(table, "route");
                let component = value(table, "component");
                route
                    .zip(component)
                    .unwrap_or_else(|| panic!("a trigger without route or component: {table}"))
            })
            .collect();
        assert!(routes.len() > 10, "spin.toml's routes were not read");
        routes
    }

    /// The component Spin sends `path` to: an exact route before any wildcard,
    /// the longest wildcard prefix first; `:name` is one segment. Spin's router
    /// (routefinder) ranks segment by segment instead, fixed before `:name` before
    /// a wildcard; the two agree on every path below, where no fixed segment
    /// competes with a `:tenant` (the operator's `/v1/tenants/...` is not below).
    fn spin_component(routes: &[(String, String)], path: &str) -> String {
        let matches = |pattern: &str, segments: &[&str]| {
            let pattern: Vec<&str> = pattern.trim_start_matches('/').split('/').collect();
            pattern.len() == segments.len()
                && pattern
                    .iter()
                    .zip(segments)
                    .all(|(p, s)| p == s || (p.starts_with(':') && !s.is_empty()))
        };
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let exact = routes
            .iter()
            .find(|(r, _)| !r.ends_with("/...") && matches(r, &segments));
        let wildcard = || {
            routes
                .iter()
                .filter_map(|(r, c)| {
                    let prefix = r.strip_suffix("/...")?;
                    let n = prefix.split('/').filter(|s| !s.is_empty()).count();
                    (n <= segments.len() && (n == 0 || matches(prefix, &segments[..n])))
                        .then_some((n, c))
                })
                .max_by_key(|(n, _)| *n)
                .map(|(_, c)| c)
        };
        exact
            .map(|(_, c)| c)
            .or_else(wildcard)
            .unwrap_or_else(|| panic!("spin.toml routes {path} nowhere"))
            .clone()
    }

    /// Each Spin component builds only its own route group: spin.toml must send
    /// each path to the component whose build serves it.
    #[test]
    fn spin_sends_each_route_to_the_component_that_builds_it() {
        let routes = spin_routes();
        for (template, resource) in TENANT_PATHS.iter().zip(resources()) {
            let path = format!("/v1/acme/{}", template.replace("{", "").replace("}", ""));
            let (component, _) = resource.component();
            assert_eq!(spin_component(&routes, &path), component, "{path}");
        }
        for path in ["/v1/tenants", "/v1/deliveries", "/v1/tenants/acme"] {
            assert_eq!(spin_component(&routes, path), "tenants", "{path}");
        }
        for path in ["/health", "/openapi.json", "/nowhere", "/v1/acme/nothing"] {
            assert_eq!(spin_component(&routes, path), "public", "{path}");
        }
    }

    #[test]
    fn browser_routes_allow_options() {
        for resource in resources() {
            let (allow, methods) = (resource.allow(), resource.methods());
            if resource.is_browser() {
                assert_eq!(allow, format!("{methods}, OPTIONS"), "{resource:?}");
            } else {
                assert_eq!(allow, methods, "{resource:?}: no preflight, no OPTIONS");
            }
        }
    }
}
