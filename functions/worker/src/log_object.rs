//! The Durable Object of one tenant's log (one per tenant incarnation), on SQLite
//! storage: the audit events, the users list and the help-request queue
//! ([`edge_mfa_api::tenant_log`]). User objects and the tenant's object append the
//! batches they committed (at least once; the log keeps each once); admin routes
//! read it. A separate object from the tenant's ordering point, so a busy log
//! never queues configuration changes behind it.
//!
//! Each call runs its statements without awaiting other I/O between them, so
//! the object's storage commits them together (Durable Objects' implicit
//! transactions).

use edge_mfa_api::BackendError;
use edge_mfa_api::tenant_log::{LogAnswer, LogRead, Sql, SqlValue, TenantLog};
use edge_mfa_core::LogBatch;
use edge_mfa_core::tenant::Tenant;
use serde::{Deserialize, Serialize};
use worker::{
    DurableObject, Env, Request, Response, SqlStorage, SqlStorageValue, State, durable_object,
};

use crate::backend::{TENANT_LOG_DO, call_object};

/// A request to a tenant's log object.
#[derive(Serialize, Deserialize)]
pub enum LogCall {
    Append {
        batch: LogBatch,
        retention_days: Option<u16>,
        now: u64,
    },
    Read(LogRead),
    /// The tenant was deleted: forget everything.
    Erase,
}

/// The answer of a [`LogCall`]: `Appended` for `Append` and `Erase`.
#[derive(Serialize, Deserialize)]
pub enum LogReply {
    Appended,
    Read(LogAnswer),
}

/// Where a batch goes: the tenant's log object, and the tenant's retention.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LogTarget {
    /// The object's name: per incarnation, like the users' objects, so a deleted
    /// tenant's log never reaches a new tenant of the same id.
    pub name: String,
    /// `None` where the tenant's setting is not at hand: the append then leaves
    /// expiry to the next one that has it.
    pub retention_days: Option<u16>,
}

impl LogTarget {
    pub fn of(tenant: &Tenant) -> LogTarget {
        LogTarget {
            retention_days: Some(tenant.audit_retention_days),
            ..LogTarget::named(&tenant.id, &tenant.incarnation)
        }
    }

    /// The log of tenant `id` in its `incarnation`.
    pub fn named(id: &edge_mfa_core::ids::TenantId, incarnation: &str) -> LogTarget {
        LogTarget {
            name: edge_mfa_core::tenant::incarnation_scope(id, incarnation),
            retention_days: None,
        }
    }
}

/// A batch committed by an object and not yet appended: kept in that object's
/// storage (`log:…` keys) until the log took it.
#[derive(Serialize, Deserialize)]
pub struct PendingLog {
    pub target: LogTarget,
    pub batch: LogBatch,
}

/// The storage key of a pending batch: in commit order (time, then the first
/// event's random id).
pub fn pending_key(batch: &LogBatch, now: u64) -> String {
    // A batch without events carries the user's row, whose revision is unique.
    let id = batch.events.first().map_or_else(
        || format!("r{}", batch.user.as_ref().map_or(0, |u| u.revision)),
        |e| e.id.clone(),
    );
    format!("{PENDING_PREFIX}{now:012}:{id}")
}

pub const PENDING_PREFIX: &str = "log:";

/// Sends `call` to the log object `name`.
pub async fn call_log(env: &Env, name: &str, call: &LogCall) -> Result<LogReply, BackendError> {
    call_object(env, TENANT_LOG_DO, name, call).await
}

/// Appends a pending batch to its log.
pub async fn append(env: &Env, pending: &PendingLog, now: u64) -> Result<(), BackendError> {
    let call = LogCall::Append {
        batch: pending.batch.clone(),
        retention_days: pending.target.retention_days,
        now,
    };
    call_log(env, &pending.target.name, &call).await.map(|_| ())
}

/// Batches appended per [`flush`].
const FLUSH_BATCH: usize = 100;

/// Arms `storage`'s alarm `after` from now, unless it is armed sooner already: a
/// busy user's requests must not keep pushing a retry (or a notification's)
/// further away.
pub async fn alarm_within(
    storage: &worker::Storage,
    after: std::time::Duration,
) -> worker::Result<()> {
    let at = worker::Date::now().as_millis() + u64::try_from(after.as_millis()).unwrap_or(u64::MAX);
    let armed = storage.get_alarm().await?;
    if armed.is_none_or(|armed| u64::try_from(armed).unwrap_or(0) > at) {
        storage.set_alarm(after).await?;
    }
    Ok(())
}

/// Appends the pending batches in `storage` (oldest first, [`FLUSH_BATCH`] at a
/// time), forgetting each once the log took it; stops at the first failure and
/// answers it. More left behind re-arms the alarm at once.
pub async fn flush(env: &Env, storage: &worker::Storage, now: u64) -> Result<usize, BackendError> {
    let store = |e: worker::Error| BackendError(format!("pending log: {e}"));
    let entries = storage
        .list_with_options(
            worker::ListOptions::new()
                .prefix(PENDING_PREFIX)
                .limit(FLUSH_BATCH),
        )
        .await
        .map_err(store)?;
    if entries.size() as usize >= FLUSH_BATCH {
        alarm_within(storage, std::time::Duration::ZERO)
            .await
            .map_err(store)?;
    }
    let mut sent = 0;
    for entry in entries.entries().into_iter().flatten() {
        let entry: worker::js_sys::Array = entry.into();
        let key = entry.get(0).as_string().unwrap_or_default();
        match entry
            .get(1)
            .as_string()
            .and_then(|s| serde_json::from_str::<PendingLog>(&s).ok())
        {
            Some(pending) => append(env, &pending, now).await?,
            // Unreadable: nothing to deliver, and it must not block the others.
            None => worker::console_error!("pending log entry {key} is unreadable; dropped"),
        }
        storage.delete(&key).await.map_err(store)?;
        sent += 1;
    }
    Ok(sent)
}

struct DoSql(SqlStorage);

fn to_value(value: SqlValue) -> SqlStorageValue {
    match value {
        SqlValue::Null => SqlStorageValue::Null,
        SqlValue::Integer(i) => SqlStorageValue::Integer(i),
        SqlValue::Text(s) => SqlStorageValue::String(s),
    }
}

fn from_value(value: SqlStorageValue) -> SqlValue {
    match value {
        SqlStorageValue::Integer(i) => SqlValue::Integer(i),
        // SQLite integers beyond 2^53 do not occur here (times, sequence numbers).
        SqlStorageValue::Float(f) => SqlValue::Integer(f as i64),
        SqlStorageValue::String(s) => SqlValue::Text(s),
        SqlStorageValue::Boolean(b) => SqlValue::Integer(i64::from(b)),
        SqlStorageValue::Null | SqlStorageValue::Blob(_) => SqlValue::Null,
    }
}

impl Sql for DoSql {
    async fn query(
        &self,
        sql: &str,
        params: Vec<SqlValue>,
    ) -> Result<Vec<Vec<SqlValue>>, BackendError> {
        let cursor = self
            .0
            .exec(sql, params.into_iter().map(to_value).collect::<Vec<_>>())
            .map_err(|e| BackendError(format!("log sql: {e}")))?;
        cursor
            .raw()
            .map(|row| {
                row.map(|values| values.into_iter().map(from_value).collect())
                    .map_err(|e| BackendError(format!("log sql row: {e}")))
            })
            .collect()
    }
}

#[durable_object]
pub struct TenantLogState {
    state: State,
}

impl std::fmt::Debug for TenantLogState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantLogState").finish_non_exhaustive()
    }
}

impl DurableObject for TenantLogState {
    fn new(state: State, _env: Env) -> Self {
        TenantLogState { state }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let call: LogCall = req.json().await?;
        let sql = DoSql(self.state.storage().sql());
        // One object per tenant: the rows' tenant column is the same everywhere.
        let log = TenantLog {
            sql: &sql,
            tenant: "",
        };
        let reply = async {
            log.create_schema().await?;
            Ok::<_, BackendError>(match call {
                LogCall::Append {
                    batch,
                    retention_days,
                    now,
                } => {
                    log.append(&batch, retention_days, now).await?;
                    LogReply::Appended
                }
                LogCall::Read(read) => LogReply::Read(log.read(read).await?),
                LogCall::Erase => {
                    self.state
                        .storage()
                        .delete_all()
                        .await
                        .map_err(|e| BackendError(format!("log erase: {e}")))?;
                    LogReply::Appended
                }
            })
        }
        .await;
        match reply {
            Ok(reply) => Response::from_json(&reply),
            Err(e) => Response::error(e.0, 500),
        }
    }
}
