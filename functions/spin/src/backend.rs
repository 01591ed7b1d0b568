//! The storage port over Spin.
//!
//! - Tenants: the key-value store (`default`), read-mostly. Spin's key-value API has
//!   no compare-and-swap, so *creating* a tenant is decided by a SQLite
//!   `INSERT … ON CONFLICT DO NOTHING` first.
//! - Each user's record: one SQLite row, read and changed by the core outside the
//!   lock, then written inside `BEGIN IMMEDIATE … COMMIT` only if it is still the
//!   row read (else the step runs again; contended, it runs under the lock). The
//!   write lock is taken before that re-read, so two requests for the same user
//!   (or any users) are serialised: no update is lost, nothing single-use is used
//!   twice. See docs/SPIN.md for which backend gives which guarantee.

use edge_mfa_api::tenant_log::{self, LogAnswer, LogRead, Sql, SqlValue, TenantLog};
use edge_mfa_api::{Backend, BackendError, DeliveryError, Queued, TenantListing, TenantPage};
use edge_mfa_core::LogBatch;
use edge_mfa_core::audit::AuditEvent;
use edge_mfa_core::ids::{TenantId, UserId};
use edge_mfa_core::seal::{MasterKey, Sealed};
use edge_mfa_core::tenant::{AuthorisedChange, Tenant, UserFacts, incarnation_scope};
use edge_mfa_core::{CoreError, Outcome, UserRequest, UserSummary, Write};
use spin_sdk::key_value::Store;
use spin_sdk::sqlite::{Connection, RowResult, Value};

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS edge_mfa_users (key TEXT PRIMARY KEY, record TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS edge_mfa_tenant_ids (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL)",
    // Deleted tenants: the operator's record that a deletion happened.
    "CREATE TABLE IF NOT EXISTS edge_mfa_tenant_deletions (id TEXT NOT NULL, deleted_at INTEGER NOT NULL, users INTEGER NOT NULL)",
    // The notification outbox: written in the transaction of the change it reports,
    // deleted once delivered (docs/SPIN.md "Notifications").
    "CREATE TABLE IF NOT EXISTS edge_mfa_outbox (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, body TEXT NOT NULL, attempts INTEGER NOT NULL, next_at INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS edge_mfa_outbox_due ON edge_mfa_outbox (next_at)",
    // Hourly send counters (SMS pumping limits): one row per tenant and key.
    "CREATE TABLE IF NOT EXISTS edge_mfa_sends (tenant TEXT NOT NULL, key TEXT NOT NULL, hour INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (tenant, key))",
    // The deployment's own secrets (the VAPID key), sealed: the first kept stays.
    "CREATE TABLE IF NOT EXISTS edge_mfa_deployment_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
];

const CANARY_KEY: &str = "deployment:canary";

/// The users' rows of one tenant: keys `<tenant>/<user>`, so the range
/// [`<tenant>/`, `<tenant>0`) (`'0'` follows `'/'`) holds exactly them.
const TENANT_USERS: &str = "key >= ? || '/' AND key < ? || '0'";

#[derive(Debug)]
pub struct SpinBackend<'a> {
    /// Opens the sealed secrets the core needs inside the transaction.
    pub master: &'a MasterKey,
    /// Set when a request's change queued notifications (committed to the outbox),
    /// so the component delivers them before it answers.
    pub queued: std::cell::Cell<bool>,
}

fn err(context: &str) -> impl Fn(String) -> BackendError + '_ {
    move |e| BackendError(format!("{context}: {e}"))
}

fn tenant_key(id: &TenantId) -> String {
    format!("tenant:{id}")
}

async fn exec(db: &Connection, sql: &str, params: Vec<Value>) -> Result<Vec<RowResult>, String> {
    let result = db
        .execute(sql, params)
        .await
        .map_err(|e| format!("{e:?}"))?;
    result.collect().await.map_err(|e| format!("{e:?}"))
}

thread_local! {
    /// The schema was created by this instance already (an instance serves one
    /// request, or a few: the users list opens the database once per 500 users).
    static SCHEMA_READY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

async fn open() -> Result<Connection, BackendError> {
    let db = Connection::open_default()
        .await
        .map_err(|e| BackendError(format!("sqlite open: {e:?}")))?;
    if !SCHEMA_READY.with(std::cell::Cell::get) {
        for statement in SCHEMA.iter().chain(tenant_log::SCHEMA) {
            exec(&db, statement, vec![])
                .await
                .map_err(err("sqlite schema"))?;
        }
        SCHEMA_READY.with(|ready| ready.set(true));
    }
    Ok(db)
}

/// The tenant's log in the same database (and, inside a transaction, the same
/// transaction) as the records.
struct SpinSql<'a>(&'a Connection);

impl Sql for SpinSql<'_> {
    async fn query(
        &self,
        sql: &str,
        params: Vec<SqlValue>,
    ) -> Result<Vec<Vec<SqlValue>>, BackendError> {
        let params: Vec<Value> = params
            .into_iter()
            .map(|v| match v {
                SqlValue::Null => Value::Null,
                SqlValue::Integer(i) => Value::Integer(i),
                SqlValue::Text(t) => Value::Text(t),
            })
            .collect();
        let result = self
            .0
            .execute(sql, params)
            .await
            .map_err(|e| BackendError(format!("sqlite log: {e:?}")))?;
        let rows = result
            .collect()
            .await
            .map_err(|e| BackendError(format!("sqlite log rows: {e:?}")))?;
        Ok(rows
            .iter()
            .map(|row| {
                row.values
                    .iter()
                    .map(|value| match value {
                        Value::Integer(n) => SqlValue::Integer(*n),
                        Value::Text(t) => SqlValue::Text(t.clone()),
                        _ => SqlValue::Null,
                    })
                    .collect()
            })
            .collect())
    }
}

/// The log of the tenant incarnation `name` ([`Tenant::scope`]) over `db`.
fn log_of<'a>(db: &'a SpinSql<'a>, name: &'a str) -> TenantLog<'a, SpinSql<'a>> {
    TenantLog {
        sql: db,
        tenant: name,
    }
}

impl Backend for SpinBackend<'_> {
    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, BackendError> {
        read_tenant(id).await
    }

    async fn read_log(&self, tenant: &Tenant, read: LogRead) -> Result<LogAnswer, BackendError> {
        let db = open().await?;
        let sql = SpinSql(&db);
        let name = tenant.scope();
        log_of(&sql, &name).read(read).await
    }

    async fn create_tenant(
        &self,
        tenant: &Tenant,
        event: &AuditEvent,
    ) -> Result<bool, BackendError> {
        // The id is claimed and the tenant published inside one transaction: if the
        // key-value write fails, the claim rolls back and a retry can succeed.
        let db = open().await?;
        in_transaction(&db, async {
            exec(
                &db,
                "INSERT INTO edge_mfa_tenant_ids (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
                vec![Value::Text(tenant.id.to_string()), Value::Integer(i64::try_from(tenant.created_at).unwrap_or(i64::MAX))],
            )
            .await
            .map_err(err("sqlite insert tenant id"))?;
            if db.changes().await != 1 {
                return Ok(false);
            }
            let batch = LogBatch {
                events: vec![event.clone()],
                ..Default::default()
            };
            let sql = SpinSql(&db);
            let name = tenant.scope();
            log_of(&sql, &name)
                .append(&batch, Some(tenant.audit_retention_days), tenant.created_at)
                .await?;
            publish(tenant).await?;
            Ok(true)
        })
        .await
    }

    async fn list_tenants(
        &self,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<TenantPage, BackendError> {
        let db = open().await?;
        let rows = exec(
            &db,
            "SELECT id FROM edge_mfa_tenant_ids WHERE id > ? ORDER BY id LIMIT ?",
            vec![
                Value::Text(cursor.unwrap_or_default().to_string()),
                Value::Integer(i64::try_from(limit + 1).unwrap_or(i64::MAX)),
            ],
        )
        .await
        .map_err(err("sqlite list tenants"))?;
        let mut tenants = Vec::new();
        for row in &rows {
            let Some(id) = row
                .get::<&str>(0)
                .and_then(|id| TenantId::try_from(id.to_string()).ok())
            else {
                continue;
            };
            if let Some(tenant) = self.tenant(&id).await? {
                tenants.push(TenantListing {
                    id,
                    name: tenant.name,
                    created_at: tenant.created_at,
                });
            }
        }
        let next = (rows.len() > limit).then(|| {
            tenants.truncate(limit);
            tenants.last().map(|t| t.id.to_string()).unwrap_or_default()
        });
        Ok(TenantPage { tenants, next })
    }

    async fn delete_tenant(&self, id: &TenantId, now: u64) -> Result<bool, BackendError> {
        // One transaction: the users' rows, the id's claim and the published copy
        // go together, and the deletion is recorded.
        let db = open().await?;
        in_transaction(&db, async {
            let Some(tenant) = self.tenant(id).await? else {
                return Ok(false);
            };
            let range = vec![Value::Text(id.to_string()), Value::Text(id.to_string())];
            exec(
                &db,
                &format!("DELETE FROM edge_mfa_users WHERE {TENANT_USERS}"),
                range,
            )
            .await
            .map_err(err("sqlite delete users"))?;
            let users = db.changes().await;
            exec(
                &db,
                "DELETE FROM edge_mfa_outbox WHERE tenant = ?",
                vec![Value::Text(id.to_string())],
            )
            .await
            .map_err(err("sqlite delete outbox"))?;
            let sql = SpinSql(&db);
            let name = tenant.scope();
            log_of(&sql, &name).erase().await?;
            exec(
                &db,
                "DELETE FROM edge_mfa_tenant_ids WHERE id = ?",
                vec![Value::Text(id.to_string())],
            )
            .await
            .map_err(err("sqlite delete tenant id"))?;
            exec(
                &db,
                "INSERT INTO edge_mfa_tenant_deletions (id, deleted_at, users) VALUES (?, ?, ?)",
                vec![
                    Value::Text(id.to_string()),
                    Value::Integer(i64::try_from(now).unwrap_or(i64::MAX)),
                    Value::Integer(i64::try_from(users).unwrap_or(i64::MAX)),
                ],
            )
            .await
            .map_err(err("sqlite record deletion"))?;
            let store = Store::open_default()
                .await
                .map_err(|e| BackendError(format!("kv open: {e:?}")))?;
            store
                .delete(tenant_key(id))
                .await
                .map_err(|e| BackendError(format!("kv delete: {e:?}")))?;
            Ok(true)
        })
        .await
    }

    async fn deliver(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
        timeout_ms: u64,
    ) -> Result<(u16, u64), DeliveryError> {
        crate::outbound::post(url, headers, body, timeout_ms).await
    }

    async fn reserve_send(
        &self,
        tenant: &TenantId,
        key: &str,
        limit: u32,
        now: u64,
    ) -> Result<Option<u64>, BackendError> {
        let hour = i64::try_from(now / 3600).unwrap_or(i64::MAX);
        let db = open().await?;
        in_transaction(&db, async {
            let rows = exec(
                &db,
                "SELECT hour, count FROM edge_mfa_sends WHERE tenant = ? AND key = ?",
                vec![Value::Text(tenant.to_string()), Value::Text(key.to_string())],
            )
            .await
            .map_err(err("sqlite select sends"))?;
            let count = rows
                .first()
                .filter(|row| row.get::<i64>(0) == Some(hour))
                .and_then(|row| row.get::<i64>(1))
                .unwrap_or(0);
            if count >= i64::from(limit) {
                return Ok(Some((now / 3600 + 1) * 3600 - now));
            }
            // Counters of past hours are kept no longer than they count.
            exec(
                &db,
                "DELETE FROM edge_mfa_sends WHERE tenant = ? AND hour < ?",
                vec![Value::Text(tenant.to_string()), Value::Integer(hour)],
            )
            .await
            .map_err(err("sqlite forget sends"))?;
            exec(
                &db,
                "INSERT INTO edge_mfa_sends (tenant, key, hour, count) VALUES (?, ?, ?, ?) ON CONFLICT (tenant, key) DO UPDATE SET hour = excluded.hour, count = excluded.count",
                vec![
                    Value::Text(tenant.to_string()),
                    Value::Text(key.to_string()),
                    Value::Integer(hour),
                    Value::Integer(count + 1),
                ],
            )
            .await
            .map_err(err("sqlite count send"))?;
            Ok(None)
        })
        .await
    }

    async fn due_notifications(
        &self,
        now: u64,
        limit: usize,
        tenant: Option<&TenantId>,
    ) -> Result<Vec<Queued>, BackendError> {
        let db = open().await?;
        let tenant = tenant.map(|t| t.to_string()).unwrap_or_default();
        let rows = exec(
            &db,
            "SELECT body, attempts, next_at FROM edge_mfa_outbox WHERE next_at <= ? AND (? = '' OR tenant = ?) ORDER BY next_at LIMIT ?",
            vec![
                Value::Integer(i64::try_from(now).unwrap_or(i64::MAX)),
                Value::Text(tenant.clone()),
                Value::Text(tenant),
                Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)),
            ],
        )
        .await
        .map_err(err("sqlite outbox due"))?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                let mut queued: Queued = serde_json::from_str(row.get::<&str>(0)?).ok()?;
                queued.attempts = u32::try_from(row.get::<i64>(1)?).ok()?;
                queued.next_at = u64::try_from(row.get::<i64>(2)?).ok()?;
                Some(queued)
            })
            .collect())
    }

    async fn settle_notification(
        &self,
        queued: &Queued,
        next: Option<(u32, u64)>,
        given_up: Option<&AuditEvent>,
    ) -> Result<(), BackendError> {
        let id = queued.notification.id.clone();
        let db = open().await?;
        in_transaction(&db, async {
            match next {
                None => {
                    exec(
                        &db,
                        "DELETE FROM edge_mfa_outbox WHERE id = ?",
                        vec![Value::Text(id)],
                    )
                    .await
                }
                Some((attempts, next_at)) => {
                    exec(
                        &db,
                        "UPDATE edge_mfa_outbox SET attempts = ?, next_at = ? WHERE id = ?",
                        vec![
                            Value::Integer(i64::from(attempts)),
                            Value::Integer(i64::try_from(next_at).unwrap_or(i64::MAX)),
                            Value::Text(id),
                        ],
                    )
                    .await
                }
            }
            .map_err(err("sqlite outbox settle"))?;
            // `webhook.failed`, committed with forgetting the notification.
            if let Some(event) = given_up {
                let batch = LogBatch {
                    events: vec![event.clone()],
                    ..Default::default()
                };
                let sql = SpinSql(&db);
                let name = incarnation_scope(&queued.tenant, &queued.incarnation);
                log_of(&sql, &name).append(&batch, None, event.at).await?;
            }
            Ok(())
        })
        .await
    }

    async fn keep_secret(
        &self,
        name: &str,
        candidate: &Sealed,
        replacing: Option<&Sealed>,
    ) -> Result<Sealed, BackendError> {
        let db = open().await?;
        if let Some(old) = replacing {
            // Compare and swap in one statement.
            exec(
                &db,
                "UPDATE edge_mfa_deployment_secrets SET value = ? WHERE name = ? AND value = ?",
                vec![
                    Value::Text(candidate.as_stored().to_string()),
                    Value::Text(name.to_string()),
                    Value::Text(old.as_stored().to_string()),
                ],
            )
            .await
            .map_err(err("sqlite replace secret"))?;
        }
        // One statement each, the first atomic: the first candidate stored wins.
        exec(
            &db,
            "INSERT OR IGNORE INTO edge_mfa_deployment_secrets (name, value) VALUES (?, ?)",
            vec![
                Value::Text(name.to_string()),
                Value::Text(candidate.as_stored().to_string()),
            ],
        )
        .await
        .map_err(err("sqlite keep secret"))?;
        let rows = exec(
            &db,
            "SELECT value FROM edge_mfa_deployment_secrets WHERE name = ?",
            vec![Value::Text(name.to_string())],
        )
        .await
        .map_err(err("sqlite read secret"))?;
        rows.first()
            .and_then(|row| row.get::<&str>(0).map(str::to_string))
            .map(Sealed::from_stored)
            .ok_or_else(|| BackendError("the secret kept is gone".into()))
    }

    async fn load_canary(&self) -> Result<Option<Sealed>, BackendError> {
        let store = Store::open_default()
            .await
            .map_err(|e| BackendError(format!("kv open: {e:?}")))?;
        let bytes = store
            .get(CANARY_KEY)
            .await
            .map_err(|e| BackendError(format!("kv get: {e:?}")))?;
        Ok(bytes.map(|b| Sealed::from_stored(String::from_utf8_lossy(&b).into_owned())))
    }

    async fn store_canary(&self, sealed: &Sealed) -> Result<(), BackendError> {
        let store = Store::open_default()
            .await
            .map_err(|e| BackendError(format!("kv open: {e:?}")))?;
        store
            .set(CANARY_KEY, sealed.as_stored().as_bytes().to_vec())
            .await
            .map_err(|e| BackendError(format!("kv set: {e:?}")))
    }

    async fn update_tenant(
        &self,
        id: &TenantId,
        change: &AuthorisedChange,
    ) -> Result<Result<Option<Tenant>, CoreError>, BackendError> {
        // The key-value store cannot order two writers; SQLite's write lock does: the
        // read and the write of the tenant happen while this connection holds it, so
        // the published copy is always the last committed update.
        let db = open().await?;
        in_transaction(&db, async {
            let Some(tenant) = self.tenant(id).await? else {
                return Ok(Ok(None));
            };
            let facts = if change.change.needs_user_facts(&tenant) {
                user_facts(&db, id).await?
            } else {
                UserFacts::default()
            };
            let tenant = match tenant.apply_authorised(change.clone(), facts) {
                Ok(next) => {
                    let mut random = edge_mfa_core::OsRandom;
                    let mut env = edge_mfa_core::Env::new(crate::now(), &mut random);
                    next.resealed(self.master, &mut env)
                }
                Err(refused) => return Ok(Err(refused)),
            };
            // The change's audit event, in the change's transaction.
            if let Some(event) = change.logged(&tenant) {
                let batch = LogBatch {
                    events: vec![event.clone()],
                    ..Default::default()
                };
                let sql = SpinSql(&db);
                let name = tenant.scope();
                log_of(&sql, &name)
                    .append(&batch, Some(tenant.audit_retention_days), event.at)
                    .await?;
            }
            publish(&tenant).await?;
            Ok(Ok(Some(tenant)))
        })
        .await
    }

    async fn run_user(
        &self,
        tenant: &Tenant,
        user: &UserId,
        request: UserRequest,
        now: u64,
    ) -> Result<Result<Outcome, CoreError>, BackendError> {
        let key = format!("{}/{}", tenant.id, user.as_str());
        let db = open().await?;
        // Optimistically: read and apply outside the write lock (the core's work,
        // a signature check, takes longest), then take the lock only to write, if
        // the record is still the one read. Contended, retry; after a few tries,
        // hold the lock for the whole step as before. Either way each change is
        // applied to the record as last stored: nothing single-use is used twice.
        let mut committed = None;
        for _ in 0..OPTIMISTIC_TRIES {
            let stored = read_record(&db, &key).await?;
            let applied = apply_at(
                self.master,
                tenant,
                user,
                stored.as_deref(),
                request.clone(),
                now,
            );
            // A pure read (a status, a list) writes nothing: no lock at all. A
            // decision that changed nothing (most `assess`es) writes one event: one
            // statement, atomic by itself, without holding the lock across a
            // transaction's round trips.
            if applied.store.is_none() && applied.notifications.is_empty() {
                let log = &applied.log;
                if log.user.is_none() && log.help.is_none() && log.events.len() <= 1 {
                    if !log.is_empty() {
                        let sql = SpinSql(&db);
                        let name = tenant.scope();
                        log_of(&sql, &name)
                            .append(log, Some(tenant.audit_retention_days), now)
                            .await?;
                    }
                    return Ok(applied.reply);
                }
            }
            committed = in_transaction(&db, async {
                if read_record(&db, &key).await? != stored {
                    return Ok(None);
                }
                write_applied(&db, tenant, &key, stored.is_none(), applied, now)
                    .await
                    .map(Some)
            })
            .await?;
            if committed.is_some() {
                break;
            }
        }
        let (reply, queued) = match committed {
            Some(done) => done,
            None => {
                in_transaction(&db, async {
                    let stored = read_record(&db, &key).await?;
                    let applied =
                        apply_at(self.master, tenant, user, stored.as_deref(), request, now);
                    write_applied(&db, tenant, &key, stored.is_none(), applied, now).await
                })
                .await?
            }
        };
        if queued {
            self.queued.set(true);
        }
        Ok(reply)
    }
}

/// Optimistic attempts before a request holds the write lock for its whole step.
const OPTIMISTIC_TRIES: usize = 3;

/// The published tenant `id`.
async fn read_tenant(id: &TenantId) -> Result<Option<Tenant>, BackendError> {
    let store = Store::open_default()
        .await
        .map_err(|e| BackendError(format!("kv open: {e:?}")))?;
    let Some(bytes) = store
        .get(tenant_key(id))
        .await
        .map_err(|e| BackendError(format!("kv get: {e:?}")))?
    else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| BackendError(format!("stored tenant: {e}")))
}

/// Runs `work` inside `BEGIN IMMEDIATE … COMMIT` on `db`: the write lock is taken
/// before the first read. An error rolls back and is returned.
async fn in_transaction<T>(
    db: &Connection,
    work: impl std::future::Future<Output = Result<T, BackendError>>,
) -> Result<T, BackendError> {
    exec(db, "BEGIN IMMEDIATE", vec![])
        .await
        .map_err(err("sqlite begin"))?;
    match work.await {
        Ok(value) => {
            exec(db, "COMMIT", vec![])
                .await
                .map_err(err("sqlite commit"))?;
            Ok(value)
        }
        Err(e) => {
            // Dropping the connection would roll back too; say it explicitly.
            let _ = exec(db, "ROLLBACK", vec![]).await;
            Err(e)
        }
    }
}

/// Writes the tenant where every request reads it.
async fn publish(tenant: &Tenant) -> Result<(), BackendError> {
    let json = serde_json::to_vec(tenant).map_err(|e| BackendError(e.to_string()))?;
    let store = Store::open_default()
        .await
        .map_err(|e| BackendError(format!("kv open: {e:?}")))?;
    store
        .set(tenant_key(&tenant.id), json)
        .await
        .map_err(|e| BackendError(format!("kv set: {e:?}")))
}

/// Counts what a tenant-wide change needs, from the tenant's rows (inside the
/// caller's transaction).
async fn user_facts(db: &Connection, id: &TenantId) -> Result<UserFacts, BackendError> {
    let rows = exec(
        db,
        &format!("SELECT record FROM edge_mfa_users WHERE {TENANT_USERS}"),
        vec![Value::Text(id.to_string()), Value::Text(id.to_string())],
    )
    .await
    .map_err(err("sqlite scan users"))?;
    let webauthn_users = rows
        .iter()
        .filter_map(|row| row.get::<&str>(0))
        .filter_map(edge_mfa_core::summarize)
        .filter(UserSummary::has_webauthn)
        .count();
    Ok(UserFacts {
        webauthn_users: u64::try_from(webauthn_users).unwrap_or(u64::MAX),
    })
}

/// The stored record of `key`, if any.
async fn read_record(db: &Connection, key: &str) -> Result<Option<String>, BackendError> {
    let rows = exec(
        db,
        "SELECT record FROM edge_mfa_users WHERE key = ?",
        vec![Value::Text(key.to_string())],
    )
    .await
    .map_err(err("sqlite select"))?;
    Ok(rows
        .first()
        .and_then(|row| row.get::<&str>(0))
        .map(str::to_string))
}

/// [`edge_mfa_core::apply`] at `now` with the OS's randomness.
fn apply_at(
    master: &MasterKey,
    tenant: &Tenant,
    user: &UserId,
    stored: Option<&str>,
    request: UserRequest,
    now: u64,
) -> edge_mfa_core::Applied {
    let mut random = edge_mfa_core::OsRandom;
    let mut env = edge_mfa_core::Env::new(now, &mut random);
    edge_mfa_core::apply(stored, tenant, master, user, request, &mut env)
}

/// Stores what `applied` says — the record, its log batch, its notifications —
/// inside the caller's transaction; answers the reply and whether notifications
/// were queued. `new`: there was no record before.
async fn write_applied(
    db: &Connection,
    tenant: &Tenant,
    key: &str,
    new: bool,
    applied: edge_mfa_core::Applied,
    now: u64,
) -> Result<(Result<Outcome, CoreError>, bool), BackendError> {
    match applied.store {
        Some(Write::Put(record)) => {
            // A first record for a tenant deleted (or created anew) since this
            // request read it is not stored: the deletion took the write lock first.
            if new && !still_current(tenant).await? {
                return Ok((Err(CoreError::NotFound("no such tenant".into())), false));
            }
            exec(
                db,
                "INSERT INTO edge_mfa_users (key, record) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET record = excluded.record",
                vec![Value::Text(key.to_string()), Value::Text(record)],
            )
            .await
            .map_err(err("sqlite upsert"))?;
        }
        Some(Write::Delete) => {
            exec(
                db,
                "DELETE FROM edge_mfa_users WHERE key = ?",
                vec![Value::Text(key.to_string())],
            )
            .await
            .map_err(err("sqlite delete"))?;
        }
        None => {}
    }
    // What the tenant's log learns, in the same transaction.
    if !applied.log.is_empty() {
        let sql = SpinSql(db);
        let name = tenant.scope();
        log_of(&sql, &name)
            .append(&applied.log, Some(tenant.audit_retention_days), now)
            .await?;
    }
    // The notifications of a change that was stored, in its transaction.
    for notification in &applied.notifications {
        let queued = Queued::new(tenant, notification.clone());
        exec(
            db,
            "INSERT INTO edge_mfa_outbox (id, tenant, body, attempts, next_at) VALUES (?, ?, ?, 0, ?)",
            vec![
                Value::Text(notification.id.clone()),
                Value::Text(tenant.id.to_string()),
                Value::Text(serde_json::to_string(&queued).map_err(|e| BackendError(e.to_string()))?),
                Value::Integer(0),
            ],
        )
        .await
        .map_err(err("sqlite outbox"))?;
    }
    Ok((applied.reply, !applied.notifications.is_empty()))
}

/// Whether the published tenant is still `tenant`'s incarnation.
async fn still_current(tenant: &Tenant) -> Result<bool, BackendError> {
    let backend_tenant = read_tenant(&tenant.id).await?;
    Ok(backend_tenant.is_some_and(|t| t.incarnation == tenant.incarnation))
}
