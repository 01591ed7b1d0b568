//! The storage port: what the API needs from a runtime. No `Send` bounds, since
//! Worker futures are not `Send`.

use edge_mfa_core::audit::AuditEvent;
use edge_mfa_core::ids::{TenantId, UserId};
use edge_mfa_core::seal::Sealed;
use edge_mfa_core::tenant::{AuthorisedChange, Tenant};
use edge_mfa_core::{CoreError, Outcome, UserRequest};

use crate::tenant_log::{LogAnswer, LogRead};

/// The runtime could not reach its storage. Always a 500; the message is logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendError(pub String);

impl std::fmt::Display for BackendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "backend: {}", self.0)
    }
}

impl std::error::Error for BackendError {}

/// One tenant in the operator's list: no secret, no policy.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TenantListing {
    pub id: TenantId,
    pub name: String,
    pub created_at: u64,
}

/// A page of [`TenantListing`]s, in id order, and where the next page starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TenantPage {
    pub tenants: Vec<TenantListing>,
    /// Opaque; `None` on the last page.
    pub next: Option<String>,
}

/// Why a webhook delivery got no HTTP answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryError {
    /// No answer within the timeout.
    Timeout,
    /// The runtime refused or could not make the request (DNS, TLS, connection,
    /// or a host the deployment does not allow); the message says which.
    Failed(String),
}

impl std::fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeliveryError::Timeout => f.write_str("no answer within the timeout"),
            DeliveryError::Failed(why) => write!(f, "the request failed: {why}"),
        }
    }
}

#[allow(async_fn_in_trait)]
pub trait Backend {
    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, BackendError>;

    /// The tenant as its ordering point holds it (never an older published copy),
    /// for admin requests. Where the published copy is never stale, [`tenant`].
    ///
    /// [`tenant`]: Backend::tenant
    async fn authoritative_tenant(&self, id: &TenantId) -> Result<Option<Tenant>, BackendError> {
        self.tenant(id).await
    }

    /// Stores and publishes `tenant` unless a tenant with its id exists, atomically
    /// with its audit `event` (`tenant.created`); `false` if one did. A creation
    /// whose publication failed leaves the id free, so retrying it converges.
    async fn create_tenant(
        &self,
        tenant: &Tenant,
        event: &AuditEvent,
    ) -> Result<bool, BackendError>;

    /// Reads the tenant's audit log, users list or help requests
    /// ([`crate::tenant_log`]).
    async fn read_log(&self, tenant: &Tenant, read: LogRead) -> Result<LogAnswer, BackendError>;

    /// Up to `limit` tenants after `cursor` (a `next` of an earlier page).
    async fn list_tenants(
        &self,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<TenantPage, BackendError>;

    /// Deletes the tenant and every record of its users, and records the deletion
    /// (id and time) where the operator can find it; `false` if there was no such
    /// tenant. From the answer on, the id is free and nothing of the old tenant is
    /// served; a runtime that erases users' records in the background does so
    /// where no new tenant of the same id can reach them.
    async fn delete_tenant(&self, id: &TenantId, now: u64) -> Result<bool, BackendError>;

    /// POSTs `body` with `headers` to `url` (a webhook the core validated) and
    /// answers the response status and how long it took (ms), or why there was no
    /// answer; gives up after `timeout_ms` (API.md: 5 s for codes). Never follows
    /// redirects.
    async fn deliver(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
        timeout_ms: u64,
    ) -> Result<(u16, u64), DeliveryError>;

    /// Counts one send under `key` in the tenant's current clock hour, atomically,
    /// unless `limit` sends are counted already: then `Some(seconds until the next
    /// hour)` and nothing counted. The tenant-wide SMS and per-destination limits
    /// (docs/SECURITY.md "SMS pumping").
    async fn reserve_send(
        &self,
        tenant: &TenantId,
        key: &str,
        limit: u32,
        now: u64,
    ) -> Result<Option<u64>, BackendError>;

    /// Up to `limit` notifications of the outbox due at `now` (those `run_user`
    /// stored with their record), oldest first. A runtime that delivers them with
    /// its own scheduler (Workers: each user's object's alarm) answers none.
    async fn due_notifications(
        &self,
        now: u64,
        limit: usize,
        tenant: Option<&TenantId>,
    ) -> Result<Vec<crate::webhooks::Queued>, BackendError>;

    /// After an attempt: `None` forgets the notification (delivered, or given up),
    /// `Some((attempts, next_at))` keeps it for another attempt then. A
    /// notification given up comes with its `webhook.failed` event for the
    /// tenant's log, committed with forgetting it.
    async fn settle_notification(
        &self,
        queued: &crate::webhooks::Queued,
        next: Option<(u32, u64)>,
        given_up: Option<&AuditEvent>,
    ) -> Result<(), BackendError>;

    /// The deployment's secret `name` (the VAPID key): `candidate` if none is kept
    /// yet, stored atomically so the first kept is the one every request gets
    /// from then on, else the one kept. With `replacing`, `candidate` takes the
    /// place of the one kept only if that is still `replacing` (the same value
    /// re-sealed after a `MASTER_KEY` rotation).
    async fn keep_secret(
        &self,
        name: &str,
        candidate: &Sealed,
        replacing: Option<&Sealed>,
    ) -> Result<Sealed, BackendError>;

    /// The deployment's readiness canary: a value sealed under `MASTER_KEY` the
    /// first time `/health` ran, so a later `MASTER_KEY` that does not open it is
    /// caught before a tenant's request is.
    async fn load_canary(&self) -> Result<Option<Sealed>, BackendError>;

    async fn store_canary(&self, sealed: &Sealed) -> Result<(), BackendError>;

    /// Applies `change` at the tenant's ordering point — `tenant.apply(change)?`,
    /// with the [`edge_mfa_core::tenant::UserFacts`] it needs counted there, then
    /// [`Tenant::resealed`] under the deployment's current master key — and
    /// publishes the result from there in version order, so a newer copy is never
    /// overwritten by an older one. `Ok(None)` if the tenant does not exist; the
    /// inner error is the change's refusal. A `BackendError` may or may not have
    /// taken effect; a retry converges.
    async fn update_tenant(
        &self,
        id: &TenantId,
        change: &AuthorisedChange,
    ) -> Result<Result<Option<Tenant>, CoreError>, BackendError>;

    /// Runs `request` on the user's record atomically with respect to every other
    /// request for the same user: load, [`edge_mfa_core::apply`] at `now`, store —
    /// the record, the notifications and the [`edge_mfa_core::LogBatch`] it
    /// produced, in the same atomic step; the batch then reaches the tenant's log
    /// at least once.
    async fn run_user(
        &self,
        tenant: &Tenant,
        user: &UserId,
        request: UserRequest,
        now: u64,
    ) -> Result<Result<Outcome, CoreError>, BackendError>;
}
