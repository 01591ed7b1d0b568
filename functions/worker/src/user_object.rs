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
use std::time::Duration;

use edge_mfa_api::{Attempt, Queued, retry_at};
use edge_mfa_core::{CoreError, Outcome, UserRequest, Write};
use serde::{Deserialize, Serialize};
use worker::{DurableObject, Env, ListOptions, Request, Response, State, durable_object};

use crate::backend::{CloudflareBackend, TENANTS_DO, call_object};
use crate::log_object::{self, LogTarget, PendingLog};
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
/// The outbox: `outbox:<webhook-id>` → [`Queued`], until delivered or given up.
const OUTBOX_PREFIX: &str = "outbox:";
/// Notifications attempted per alarm.
const OUTBOX_BATCH: usize = 50;
/// A log batch not yet appended is tried again after this long.
const LOG_RETRY: Duration = Duration::from_secs(10);

fn rust_error(e: impl std::fmt::Display) -> worker::Error {
    worker::Error::RustError(e.to_string())
}

#[durable_object]
pub struct UserState {
    state: State,
    env: Env,
    /// Set by `Erase`: the object belongs to one tenant incarnation and is never
    /// used again, so nothing may be stored in it after (a late log retry).
    erased: std::cell::Cell<bool>,
    /// Pending log batches the tenant's log has taken, whose keys are removed with
    /// the next write (the next changing request's, or the alarm's) rather than
    /// in a storage transaction of their own. Lost with the object: then the alarm
    /// appends them again, which the log ignores (it keeps an event once by id).
    appended: std::cell::RefCell<Vec<String>>,
}

impl std::fmt::Debug for UserState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserState").finish_non_exhaustive()
    }
}

impl DurableObject for UserState {
    fn new(state: State, env: Env) -> Self {
        UserState {
            state,
            env,
            erased: std::cell::Cell::new(false),
            appended: std::cell::RefCell::new(Vec::new()),
        }
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
                self.erased.set(true);
                self.appended.take();
                self.state.storage().delete_all().await?;
                return Response::from_json(&Ok::<Outcome, CoreError>(Outcome::Erased));
            }
        };
        let deployment = crate::deployment(&self.env).map_err(worker::Error::RustError)?;
        let storage = self.state.storage();
        let env = self.env.clone();
        // Taken now (the critical section cannot borrow `self`); what this request
        // does not write is handed back below.
        let done = self.appended.take();
        let (reply, pending, done) = self
            .state
            .block_concurrency_while(async move {
                let stored: Option<String> = storage.get(RECORD_KEY).await?;
                let mut random = edge_mfa_core::OsRandom;
                let mut core_env = edge_mfa_core::Env::new(now, &mut random)
                    .with_crypto(&crate::crypto::NodeCrypto);
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
                        return Ok((
                            Err(CoreError::NotFound("no such tenant".into())),
                            None,
                            done,
                        ));
                    }
                }
                // The record, its notifications and its log batch in one atomic
                // write (storage writes without other I/O between them are
                // committed together).
                let changed = applied.store.is_some() || !applied.notifications.is_empty();
                let done = if changed && !done.is_empty() {
                    // Committed together with this request's own write.
                    storage.delete_multiple(done).await?;
                    Vec::new()
                } else {
                    done
                };
                match applied.store {
                    Some(Write::Put(record)) => storage.put(RECORD_KEY, record).await?,
                    // Erased: the record and its queued notifications go; its log
                    // batches not yet appended stay until they are.
                    Some(Write::Delete) => {
                        storage.delete(RECORD_KEY).await?;
                        let outbox = storage
                            .list_with_options(ListOptions::new().prefix(OUTBOX_PREFIX))
                            .await?;
                        let keys: Vec<String> = outbox
                            .keys()
                            .into_iter()
                            .flatten()
                            .filter_map(|k| k.as_string())
                            .collect();
                        if !keys.is_empty() {
                            storage.delete_multiple(keys).await?;
                        }
                    }
                    None => {}
                }
                for notification in &applied.notifications {
                    let queued = Queued::new(&tenant, notification.clone());
                    storage
                        .put(
                            &format!("{OUTBOX_PREFIX}{}", notification.id),
                            serde_json::to_string(&queued).map_err(rust_error)?,
                        )
                        .await?;
                }
                // A request that stored nothing (most `assess`es: a decision and
                // its one event) has nothing the batch must commit with: it is
                // appended directly below and kept pending only if that fails.
                // Otherwise the batch commits with the record, then is appended.
                let pending = (!applied.log.is_empty()).then(|| {
                    let key = log_object::pending_key(&applied.log, now);
                    let pending = PendingLog {
                        target: LogTarget::of(&tenant),
                        batch: applied.log,
                    };
                    (key, pending, changed)
                });
                if let Some((key, pending, true)) = &pending {
                    storage
                        .put(key, serde_json::to_string(pending).map_err(rust_error)?)
                        .await?;
                }
                if !applied.notifications.is_empty() {
                    log_object::alarm_within(&storage, Duration::ZERO).await?;
                } else if matches!(pending, Some((_, _, true))) {
                    // The log is appended to below; the alarm is the retry.
                    log_object::alarm_within(&storage, LOG_RETRY).await?;
                }
                Ok((applied.reply, pending, done))
            })
            .await?;
        self.appended.borrow_mut().extend(done);
        // After the critical section: the user's other requests need not wait on
        // the log. A failure leaves the batch pending for the alarm.
        if let Some((key, pending, stored)) = pending {
            match log_object::append(&self.env, &pending, now).await {
                Ok(()) if stored => self.appended.borrow_mut().push(key),
                Ok(()) => {}
                Err(e) => {
                    worker::console_error!("tenant log append (retried later): {e}");
                    if !stored && !self.erased.get() {
                        // Kept before the answer, so the batch still reaches the log
                        // (unless the tenant was erased meanwhile: then it has none).
                        let storage = self.state.storage();
                        storage
                            .put(&key, serde_json::to_string(&pending).map_err(rust_error)?)
                            .await?;
                        log_object::alarm_within(&storage, LOG_RETRY).await?;
                    }
                }
            }
        }
        Response::from_json(&reply)
    }

    /// Delivers the outbox: each due notification once now; a failed one again
    /// later (backing off), for at least 24 h; then the alarm for the next.
    async fn alarm(&self) -> worker::Result<Response> {
        let deployment = crate::deployment(&self.env).map_err(worker::Error::RustError)?;
        let backend = CloudflareBackend { env: &self.env };
        let storage = self.state.storage();
        let now = crate::platform::now();
        // Batches the log took already go first, so the flush does not send them again.
        let done = self.appended.take();
        if !done.is_empty() {
            storage.delete_multiple(done).await?;
        }
        // The log first: it is small and local to Cloudflare; webhooks may be slow.
        let mut log_failed = false;
        if let Err(e) = log_object::flush(&self.env, &storage, now).await {
            worker::console_error!("tenant log append (retried later): {e}");
            log_failed = true;
        }
        let entries = storage
            .list_with_options(ListOptions::new().prefix(OUTBOX_PREFIX).limit(OUTBOX_BATCH))
            .await?;
        // A full batch may have more behind it: come back at once.
        let mut next_alarm: Option<u64> = (entries.size() as usize >= OUTBOX_BATCH).then_some(now);
        let mut given_up = false;
        for entry in entries.entries().into_iter().flatten() {
            let entry: worker::js_sys::Array = entry.into();
            let key = entry.get(0).as_string().unwrap_or_default();
            let Some(mut queued) = entry
                .get(1)
                .as_string()
                .and_then(|s| serde_json::from_str::<Queued>(&s).ok())
            else {
                storage.delete(&key).await?;
                continue;
            };
            if queued.next_at > now {
                next_alarm = Some(next_alarm.map_or(queued.next_at, |n| n.min(queued.next_at)));
                continue;
            }
            match edge_mfa_api::attempt(
                &backend,
                &deployment,
                &queued,
                now,
                edge_mfa_api::webhooks::SYNC_TIMEOUT_MS,
            )
            .await
            {
                Attempt::Done => {
                    storage.delete(&key).await?;
                }
                Attempt::Failed(why) => {
                    queued.attempts += 1;
                    match retry_at(
                        queued.attempts,
                        queued.notification.created_at,
                        now,
                        deployment.webhook_retry_seconds,
                    ) {
                        Some(at) => {
                            queued.next_at = at;
                            storage
                                .put(&key, serde_json::to_string(&queued).map_err(rust_error)?)
                                .await?;
                            next_alarm = Some(next_alarm.map_or(at, |n| n.min(at)));
                        }
                        None => {
                            worker::console_error!(
                                "webhook.failed: tenant {} notification {} ({}) given up after {} attempts: {why}",
                                queued.tenant,
                                queued.notification.id,
                                queued.notification.event,
                                queued.attempts
                            );
                            // Its audit event, committed with forgetting it.
                            let mut random = edge_mfa_core::OsRandom;
                            let mut core_env = edge_mfa_core::Env::new(now, &mut random)
                                .with_crypto(&crate::crypto::NodeCrypto);
                            let event = queued.given_up(queued.attempts, &mut core_env);
                            let pending = PendingLog {
                                target: LogTarget::named(&queued.tenant, &queued.incarnation),
                                batch: edge_mfa_core::LogBatch {
                                    events: vec![event],
                                    ..Default::default()
                                },
                            };
                            storage.delete(&key).await?;
                            storage
                                .put(
                                    &log_object::pending_key(&pending.batch, now),
                                    serde_json::to_string(&pending).map_err(rust_error)?,
                                )
                                .await?;
                            given_up = true;
                        }
                    }
                }
            }
        }
        if given_up && let Err(e) = log_object::flush(&self.env, &storage, now).await {
            worker::console_error!("tenant log append (retried later): {e}");
            log_failed = true;
        }
        if log_failed {
            let at = now + LOG_RETRY.as_secs();
            next_alarm = Some(next_alarm.map_or(at, |n| n.min(at)));
        }
        if let Some(at) = next_alarm {
            let wait = at.saturating_sub(crate::platform::now());
            storage.set_alarm(Duration::from_secs(wait)).await?;
        }
        Response::ok("delivered")
    }
}
