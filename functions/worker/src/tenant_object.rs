//! The Durable Object of one tenant id: the ordering point for the tenant's
//! configuration, and the index of its users. KV cannot refuse a second creation
//! or order two updates; this object can, and it publishes to KV itself, inside
//! the same critical section, so KV receives the versions in order and a newer
//! copy is never overwritten by an older one.
//!
//! Each change is published first and stored after. A creation whose KV write
//! failed stored nothing (its credentials were never returned), so a retry with the
//! same id starts afresh; an update whose KV write failed stored nothing either. If
//! the storage write fails after KV took the change, KV holds a version the object
//! does not: the next change is computed from the object's copy and overwrites it,
//! so retries converge either way.
//!
//! The user index (`user:<id>` → [`UserSummary`]) is written by each user's object
//! *before* it stores a record, so every stored record is indexed: deleting the
//! tenant erases exactly the indexed users (in batches, from an alarm), and a
//! user's object whose tenant is gone (or is a newer incarnation) stores nothing.

use edge_mfa_core::ids::UserId;
use edge_mfa_core::tenant::{AuthorisedChange, Tenant, UserFacts};
use edge_mfa_core::{CoreError, UserSummary};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use worker::{DurableObject, Env, ListOptions, Request, Response, State, durable_object};

use crate::backend::{
    TENANTS_KV, USERS_DO, call_object, tenant_key, tenant_metadata, user_object_name,
};
use crate::log_object::{self, LogCall, LogTarget, PendingLog};
use crate::user_object::UserCall;
use edge_mfa_core::LogBatch;

/// A log batch not yet appended is tried again after this long.
const LOG_RETRY: Duration = Duration::from_secs(10);

/// A request from the Worker (or a user's object) to a tenant id's object;
/// answers the stored tenant after the call, or `None` (create: it already
/// existed; the others: it does not exist), or the change's refusal.
#[derive(Serialize, Deserialize)]
pub enum TenantCall {
    Create {
        tenant: Tenant,
        /// Its `tenant.created` audit event.
        #[serde(default)]
        event: Option<edge_mfa_core::audit::AuditEvent>,
    },
    Update {
        change: AuthorisedChange,
        now: u64,
    },
    /// The stored tenant, for admin requests (KV may be older).
    Get,
    /// Unpublish and forget the tenant, then erase its users in the background.
    Delete {
        now: u64,
    },
    /// Count a send under `key` this hour unless `limit` are counted; refused
    /// with `Err(RateLimited)`, counted with `Ok(None)`.
    ReserveSend {
        key: String,
        limit: u32,
        now: u64,
    },
    /// From a user's object, before it stores a record: the user's summary
    /// (`None`: erased). Answers the tenant only if it is still `incarnation`.
    IndexUser {
        incarnation: String,
        user: UserId,
        summary: Option<UserSummary>,
    },
    /// To the deployment's object ([`DEPLOYMENT_OBJECT`]): its secret `name`,
    /// `candidate` if none is kept yet, or if the one kept is `replacing`.
    /// Answers the kept one (a sealed string).
    KeepSecret {
        name: String,
        candidate: String,
        #[serde(default)]
        replacing: Option<String>,
    },
}

/// The object that keeps the deployment's own secrets (the VAPID key): a name no
/// tenant id can take (`[a-z0-9-]` only), so its storage is nobody else's.
pub const DEPLOYMENT_OBJECT: &str = "_deployment";
const SECRET_PREFIX: &str = "secret:";

const TENANT_KEY: &str = "tenant";
/// Users with a WebAuthn credential, kept with the index.
const WEBAUTHN_USERS_KEY: &str = "webauthn_users";
/// Deleted incarnations waiting for their users to be erased: `erase:<incarnation>`
/// → the tenant as it was (its id and incarnation name the users' objects).
const ERASE_PREFIX: &str = "erase:";
const USER_PREFIX: &str = "user:";
/// Users erased per alarm: well under the subrequests one invocation may make.
const ERASE_BATCH: usize = 50;

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

/// A deletion in progress: the tenant that was deleted and when.
#[derive(Serialize, Deserialize)]
struct Erasure {
    tenant: Tenant,
    deleted_at: u64,
}

impl DurableObject for TenantState {
    fn new(state: State, env: Env) -> Self {
        TenantState { state, env }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let call: TenantCall = req.json().await?;
        if let TenantCall::KeepSecret {
            name,
            candidate,
            replacing,
        } = call
        {
            let storage = self.state.storage();
            // One call at a time: the first candidate stored is the one kept.
            let kept: String = self
                .state
                .block_concurrency_while(async move {
                    let key = format!("{SECRET_PREFIX}{name}");
                    match storage.get::<String>(&key).await? {
                        Some(kept) if replacing.as_deref() != Some(kept.as_str()) => {
                            Ok::<_, worker::Error>(kept)
                        }
                        _ => {
                            storage.put(&key, &candidate).await?;
                            Ok(candidate)
                        }
                    }
                })
                .await?;
            return Response::from_json(&kept);
        }
        let deployment = crate::deployment(&self.env).map_err(worker::Error::RustError)?;
        let storage = self.state.storage();
        let env = self.env.clone();
        let logged = std::rc::Rc::new(std::cell::Cell::new(false));
        let logged_inside = logged.clone();
        let answer: Result<Option<Tenant>, CoreError> = self
            .state
            .block_concurrency_while(async move {
                let stored: Option<String> = storage.get(TENANT_KEY).await?;
                let stored: Option<Tenant> = stored
                    .map(|s| serde_json::from_str(&s))
                    .transpose()
                    .map_err(rust_error)?;
                let event;
                let next = match (call, stored) {
                    (TenantCall::Get, stored) => return Ok(Ok(stored)),
                    (TenantCall::ReserveSend { key, limit, now }, _) => {
                        return reserve_send(&storage, &key, limit, now).await;
                    }
                    (
                        TenantCall::Create {
                            tenant,
                            event: created,
                        },
                        None,
                    ) => {
                        event = created;
                        tenant
                    }
                    (TenantCall::Update { change, now }, Some(tenant)) => {
                        let facts = if change.change.needs_user_facts(&tenant) {
                            UserFacts {
                                webauthn_users: storage
                                    .get::<u64>(WEBAUTHN_USERS_KEY)
                                    .await?
                                    .unwrap_or(0),
                            }
                        } else {
                            UserFacts::default()
                        };
                        match tenant.apply_authorised(change.clone(), facts) {
                            Ok(next) => {
                                let mut random = edge_mfa_core::OsRandom;
                                let mut core_env = edge_mfa_core::Env::new(now, &mut random);
                                let next = next.resealed(&deployment.master, &mut core_env);
                                event = change.logged(&next);
                                next
                            }
                            Err(refused) => return Ok(Err(refused)),
                        }
                    }
                    (
                        TenantCall::IndexUser {
                            incarnation,
                            user,
                            summary,
                        },
                        Some(tenant),
                    ) if tenant.incarnation == incarnation => {
                        index_user(&storage, &user, summary).await?;
                        return Ok(Ok(Some(tenant)));
                    }
                    (TenantCall::Delete { now }, Some(tenant)) => {
                        // Unpublished first: from here on no request is served for
                        // it, and a new tenant of the same id is another incarnation.
                        env.kv(TENANTS_KV)?
                            .delete(&tenant_key(&tenant.id))
                            .await
                            .map_err(rust_error)?;
                        let erasure = Erasure {
                            tenant: tenant.clone(),
                            deleted_at: now,
                        };
                        storage
                            .put(
                                &format!("{ERASE_PREFIX}{}", tenant.incarnation),
                                serde_json::to_string(&erasure).map_err(rust_error)?,
                            )
                            .await?;
                        storage.delete(TENANT_KEY).await?;
                        storage.set_alarm(Duration::ZERO).await?;
                        return Ok(Ok(Some(tenant)));
                    }
                    _ => return Ok(Ok(None)),
                };
                let json = serde_json::to_string(&next).map_err(rust_error)?;
                env.kv(TENANTS_KV)?
                    .put(&tenant_key(&next.id), json.clone())
                    .map_err(rust_error)?
                    .metadata(tenant_metadata(&next))
                    .map_err(rust_error)?
                    .execute()
                    .await
                    .map_err(rust_error)?;
                storage.put(TENANT_KEY, json).await?;
                // The change's audit event, committed with it; appended below,
                // and by the alarm if that fails.
                if let Some(event) = event {
                    let pending = PendingLog {
                        target: LogTarget::of(&next),
                        batch: LogBatch {
                            events: vec![event],
                            ..Default::default()
                        },
                    };
                    storage
                        .put(
                            &log_object::pending_key(&pending.batch, next.version),
                            serde_json::to_string(&pending).map_err(rust_error)?,
                        )
                        .await?;
                    log_object::alarm_within(&storage, LOG_RETRY).await?;
                    logged_inside.set(true);
                }
                Ok(Ok(Some(next)))
            })
            .await?;
        if logged.get()
            && let Err(e) =
                log_object::flush(&self.env, &self.state.storage(), crate::platform::now()).await
        {
            worker::console_error!("tenant log append (retried later): {e}");
        }
        Response::from_json(&answer)
    }

    /// Erases the users of deleted incarnations, a batch at a time: each user's
    /// object deletes its storage, then the index entry goes. When no user is
    /// left, the erasure record goes too.
    async fn alarm(&self) -> worker::Result<Response> {
        let storage = self.state.storage();
        if let Err(e) = log_object::flush(&self.env, &storage, crate::platform::now()).await {
            worker::console_error!("tenant log append (retried later): {e}");
            storage.set_alarm(LOG_RETRY).await?;
        }
        let erasures = storage
            .list_with_options(ListOptions::new().prefix(ERASE_PREFIX).limit(1))
            .await?;
        let Some(entry) = erasures.entries().into_iter().flatten().next() else {
            return Response::ok("nothing to erase");
        };
        let entry: worker::js_sys::Array = entry.into();
        let key = entry.get(0).as_string().unwrap_or_default();
        let erasure: Erasure = entry
            .get(1)
            .as_string()
            .and_then(|s| serde_json::from_str(&s).ok())
            .ok_or_else(|| rust_error("unreadable erasure record"))?;
        let users = storage
            .list_with_options(ListOptions::new().prefix(USER_PREFIX).limit(ERASE_BATCH))
            .await?;
        let mut erased = 0;
        for name in users.keys().into_iter().flatten() {
            let Some(index_key) = name.as_string() else {
                continue;
            };
            let user = index_key.trim_start_matches(USER_PREFIX).to_string();
            let user = UserId::try_from(user).map_err(rust_error)?;
            let object = user_object_name(&erasure.tenant, &user);
            let _: Result<edge_mfa_core::Outcome, CoreError> =
                call_object(&self.env, USERS_DO, &object, &UserCall::Erase)
                    .await
                    .map_err(|e| rust_error(e.0))?;
            storage.delete(&index_key).await?;
            erased += 1;
        }
        if erased == ERASE_BATCH {
            storage.set_alarm(Duration::ZERO).await?;
        } else {
            // The tenant's log, users list and help requests go with the users.
            let target = LogTarget::of(&erasure.tenant);
            log_object::call_log(&self.env, &target.name, &LogCall::Erase)
                .await
                .map_err(|e| rust_error(e.0))?;
            storage.delete(&key).await?;
            storage.delete(WEBAUTHN_USERS_KEY).await?;
            worker::console_log!(
                "tenant {} (deleted at {}): every user's data is erased",
                erasure.tenant.id,
                erasure.deleted_at
            );
            let more = storage
                .list_with_options(ListOptions::new().prefix(ERASE_PREFIX).limit(1))
                .await?;
            if more.size() > 0 {
                storage.set_alarm(Duration::ZERO).await?;
            }
        }
        Response::ok("erased")
    }
}

/// Sends counted under one key in one clock hour.
#[derive(Serialize, Deserialize)]
struct SendCount {
    hour: u64,
    count: u32,
}

/// The tenant's hourly send counters (`send:<key>` → [`SendCount`]): one entry per
/// key, replaced when its hour has passed.
async fn reserve_send(
    storage: &worker::Storage,
    key: &str,
    limit: u32,
    now: u64,
) -> worker::Result<Result<Option<Tenant>, CoreError>> {
    let hour = now / 3600;
    let storage_key = format!("send:{key}");
    let current: Option<SendCount> = storage
        .get::<String>(&storage_key)
        .await?
        .and_then(|s| serde_json::from_str(&s).ok())
        .filter(|c: &SendCount| c.hour == hour);
    let count = current.map_or(0, |c| c.count);
    if count >= limit {
        return Ok(Err(CoreError::RateLimited {
            retry_after: (hour + 1) * 3600 - now,
        }));
    }
    let next = SendCount {
        hour,
        count: count + 1,
    };
    storage
        .put(
            &storage_key,
            serde_json::to_string(&next).map_err(rust_error)?,
        )
        .await?;
    Ok(Ok(None))
}

/// Writes a user's index entry and keeps the WebAuthn count.
async fn index_user(
    storage: &worker::Storage,
    user: &UserId,
    summary: Option<UserSummary>,
) -> worker::Result<()> {
    let key = format!("{USER_PREFIX}{}", user.as_str());
    let before: Option<UserSummary> = storage
        .get::<String>(&key)
        .await?
        .and_then(|s| serde_json::from_str(&s).ok());
    let had = before.as_ref().is_some_and(UserSummary::has_webauthn);
    let has = summary.as_ref().is_some_and(UserSummary::has_webauthn);
    match &summary {
        Some(summary) => {
            storage
                .put(&key, serde_json::to_string(summary).map_err(rust_error)?)
                .await?
        }
        None => {
            storage.delete(&key).await?;
        }
    }
    if had != has {
        let count: u64 = storage.get(WEBAUTHN_USERS_KEY).await?.unwrap_or(0);
        let count = if has {
            count + 1
        } else {
            count.saturating_sub(1)
        };
        storage.put(WEBAUTHN_USERS_KEY, count).await?;
    }
    Ok(())
}
