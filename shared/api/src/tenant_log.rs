//! The tenant's log and the views fed from it — the audit events, the users list
//! and the help-request queue — over SQLite, once for both runtimes: a Durable
//! Object's SQL storage on Workers (one object per tenant), the component's
//! SQLite database on Spin (rows keyed by tenant). Each runtime gives a [`Sql`].
//!
//! Everything arrives as [`LogBatch`]es of committed changes, at least once:
//! an event is kept once by its id, a user's row only if its revision is newer
//! than the one held, a help request only while the held one is still open.

use edge_mfa_core::audit::{AuditEvent, AuditQuery};
use edge_mfa_core::help::{HelpRequest, HelpState};
use edge_mfa_core::{LogBatch, UserEntry};

use serde::{Deserialize, Serialize};

use crate::backend::BackendError;

/// A read of the tenant's log or its views (serialisable: on Workers it travels
/// to the tenant's log object).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LogRead {
    Events {
        query: AuditQuery,
        retention_days: u16,
        now: u64,
    },
    /// Users after `after` in id order whose id contains `search`.
    Users {
        after: String,
        search: String,
        limit: usize,
    },
    HelpRequests {
        state: Option<HelpState>,
        after: Option<(u64, String)>,
        limit: usize,
        retention_days: u16,
        now: u64,
    },
    HelpRequest {
        id: String,
    },
}

/// The answer to a [`LogRead`] of the same name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LogAnswer {
    /// `more`: another page follows; `last`: the position of the page's last
    /// event (or of the query's cursor), to read later events from.
    Events {
        events: Vec<AuditEvent>,
        more: bool,
        last: u64,
    },
    Users(Vec<(String, UserEntry)>),
    HelpRequests(Vec<HelpRequest>),
    HelpRequest(Option<HelpRequest>),
}

/// A value bound to, or read from, a statement.
#[derive(Clone, Debug, PartialEq)]
pub enum SqlValue {
    Null,
    Integer(i64),
    Text(String),
}

impl SqlValue {
    fn text(&self) -> Option<&str> {
        match self {
            SqlValue::Text(s) => Some(s),
            _ => None,
        }
    }

    fn integer(&self) -> Option<i64> {
        match self {
            SqlValue::Integer(i) => Some(*i),
            _ => None,
        }
    }
}

fn int(value: u64) -> SqlValue {
    SqlValue::Integer(i64::try_from(value).unwrap_or(i64::MAX))
}

fn text(value: &str) -> SqlValue {
    SqlValue::Text(value.to_string())
}

/// A SQLite connection as a runtime offers it.
#[allow(async_fn_in_trait)]
pub trait Sql {
    /// Runs one statement with `?` parameters and answers its rows, each the
    /// selected columns in order.
    async fn query(
        &self,
        sql: &str,
        params: Vec<SqlValue>,
    ) -> Result<Vec<Vec<SqlValue>>, BackendError>;
}

/// The tables, created if missing. `seq` orders the log as it was received.
pub const SCHEMA: &[&str] = &[
    // AUTOINCREMENT: a position is never handed out twice, even after retention
    // deleted the newest rows, so a poller's cursor stays valid.
    "CREATE TABLE IF NOT EXISTS edge_mfa_audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL, id TEXT NOT NULL, at INTEGER NOT NULL, user_id TEXT, type TEXT NOT NULL, event TEXT NOT NULL, UNIQUE (tenant, id))",
    "CREATE INDEX IF NOT EXISTS edge_mfa_audit_by_tenant ON edge_mfa_audit (tenant, seq)",
    "CREATE INDEX IF NOT EXISTS edge_mfa_audit_by_time ON edge_mfa_audit (tenant, at)",
    "CREATE INDEX IF NOT EXISTS edge_mfa_audit_by_user ON edge_mfa_audit (tenant, user_id, seq)",
    "CREATE INDEX IF NOT EXISTS edge_mfa_audit_by_type ON edge_mfa_audit (tenant, type, seq)",
    // A user's row of the users list; `entry` NULL once the user was erased (kept
    // with its revision, so an older delivery cannot bring the user back).
    "CREATE TABLE IF NOT EXISTS edge_mfa_user_index (tenant TEXT NOT NULL, user_id TEXT NOT NULL, revision INTEGER NOT NULL, entry TEXT, PRIMARY KEY (tenant, user_id))",
    "CREATE TABLE IF NOT EXISTS edge_mfa_help_requests (tenant TEXT NOT NULL, id TEXT NOT NULL, user_id TEXT NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL, request TEXT NOT NULL, PRIMARY KEY (tenant, id))",
    "CREATE INDEX IF NOT EXISTS edge_mfa_help_by_time ON edge_mfa_help_requests (tenant, created_at, id)",
];

/// Expired events deleted per write, so one write never does unbounded work.
const EXPIRE_BATCH: u64 = 1000;
const DAY: u64 = 86_400;

/// One tenant's log over `sql`.
pub struct TenantLog<'a, S: Sql> {
    pub sql: &'a S,
    pub tenant: &'a str,
}

impl<S: Sql> std::fmt::Debug for TenantLog<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantLog")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

fn json_error(e: serde_json::Error) -> BackendError {
    BackendError(format!("audit log: {e}"))
}

impl<S: Sql> TenantLog<'_, S> {
    pub async fn create_schema(&self) -> Result<(), BackendError> {
        for statement in SCHEMA {
            self.sql.query(statement, vec![]).await?;
        }
        Ok(())
    }

    /// Stores what `batch` tells, then forgets events older than the retention
    /// (when the caller knows it).
    pub async fn append(
        &self,
        batch: &LogBatch,
        retention_days: Option<u16>,
        now: u64,
    ) -> Result<(), BackendError> {
        for event in &batch.events {
            let json = serde_json::to_string(event).map_err(json_error)?;
            self.sql
                .query(
                    "INSERT INTO edge_mfa_audit (tenant, id, at, user_id, type, event) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, id) DO NOTHING",
                    vec![
                        text(self.tenant),
                        text(&event.id),
                        int(event.at),
                        event.user.as_deref().map_or(SqlValue::Null, text),
                        text(event.event.as_str()),
                        SqlValue::Text(json),
                    ],
                )
                .await?;
        }
        if let Some(row) = &batch.user {
            let entry = row
                .entry
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(json_error)?;
            self.sql
                .query(
                    "INSERT INTO edge_mfa_user_index (tenant, user_id, revision, entry) VALUES (?, ?, ?, ?) ON CONFLICT (tenant, user_id) DO UPDATE SET revision = excluded.revision, entry = excluded.entry WHERE excluded.revision > edge_mfa_user_index.revision",
                    vec![
                        text(self.tenant),
                        text(&row.user),
                        int(row.revision),
                        entry.map_or(SqlValue::Null, SqlValue::Text),
                    ],
                )
                .await?;
            if row.entry.is_none() {
                // An erased user's requests go with them.
                self.sql
                    .query(
                        "DELETE FROM edge_mfa_help_requests WHERE tenant = ? AND user_id = ?",
                        vec![text(self.tenant), text(&row.user)],
                    )
                    .await?;
            }
        }
        // A help request of a batch older than what the index holds of its user
        // (an erasure appended first) must not come back.
        let stale = match batch.user.as_ref().filter(|_| batch.help.is_some()) {
            Some(row) => {
                let held = self
                    .sql
                    .query(
                        "SELECT revision FROM edge_mfa_user_index WHERE tenant = ? AND user_id = ?",
                        vec![text(self.tenant), text(&row.user)],
                    )
                    .await?;
                held.first()
                    .and_then(|r| r.first())
                    .and_then(SqlValue::integer)
                    .is_some_and(|held| held > i64::try_from(row.revision).unwrap_or(i64::MAX))
            }
            None => false,
        };
        if let Some(request) = batch.help.as_ref().filter(|_| !stale) {
            let json = serde_json::to_string(request).map_err(json_error)?;
            self.sql
                .query(
                    "INSERT INTO edge_mfa_help_requests (tenant, id, user_id, state, created_at, request) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, id) DO UPDATE SET state = excluded.state, request = excluded.request WHERE edge_mfa_help_requests.state = 'open'",
                    vec![
                        text(self.tenant),
                        text(&request.id),
                        text(&request.user),
                        text(request.state.as_str()),
                        int(request.created_at),
                        SqlValue::Text(json),
                    ],
                )
                .await?;
        }
        // Retention runs on every read, and on one append in sixteen (chosen by the
        // first event's random id): three deletes on every append would lengthen
        // each writer's hold on the database's write lock for nothing.
        let sampled = batch
            .events
            .first()
            .and_then(|e| e.id.bytes().last())
            .is_some_and(|b| b % 16 == 0);
        match retention_days {
            Some(days) if sampled => self.expire(days, now).await,
            _ => Ok(()),
        }
    }

    /// Retention is enforced by deletion: events and resolved help requests older
    /// than `retention_days`, and the markers of erased users after a day (they
    /// only keep a late delivery from listing the user again; a revision is its
    /// time in seconds shifted left by 20).
    async fn expire(&self, retention_days: u16, now: u64) -> Result<(), BackendError> {
        let cutoff = now.saturating_sub(u64::from(retention_days) * DAY);
        self.sql
            .query(
                "DELETE FROM edge_mfa_audit WHERE seq IN (SELECT seq FROM edge_mfa_audit WHERE tenant = ? AND at < ? LIMIT ?)",
                vec![text(self.tenant), int(cutoff), int(EXPIRE_BATCH)],
            )
            .await?;
        self.sql
            .query(
                "DELETE FROM edge_mfa_help_requests WHERE tenant = ? AND state = 'resolved' AND created_at < ?",
                vec![text(self.tenant), int(cutoff)],
            )
            .await?;
        self.sql
            .query(
                "DELETE FROM edge_mfa_user_index WHERE tenant = ? AND entry IS NULL AND revision < ?",
                vec![text(self.tenant), int(now.saturating_sub(DAY) << 20)],
            )
            .await?;
        Ok(())
    }

    /// A page of events, oldest first; whether more follow; and the position of its
    /// last event (the query's own when the page is empty), from which a poller
    /// reads later events.
    pub async fn events(
        &self,
        query: &AuditQuery,
        retention_days: u16,
        now: u64,
    ) -> Result<(Vec<AuditEvent>, bool, u64), BackendError> {
        self.expire(retention_days, now).await?;
        let cutoff = now.saturating_sub(u64::from(retention_days) * DAY);
        let since = query.since.unwrap_or(0).max(cutoff);
        let user = query.user.clone().unwrap_or_default();
        let event = query.event.map(|e| e.as_str()).unwrap_or_default();
        let rows = self
            .sql
            .query(
                "SELECT seq, event FROM edge_mfa_audit WHERE tenant = ? AND seq > ? AND at >= ? AND at < ? AND (? = '' OR user_id = ?) AND (? = '' OR type = ?) ORDER BY seq LIMIT ?",
                vec![
                    text(self.tenant),
                    int(query.after.unwrap_or(0)),
                    int(since),
                    int(query.until.unwrap_or(i64::MAX as u64)),
                    text(&user),
                    text(&user),
                    text(event),
                    text(event),
                    int(query.limit as u64 + 1),
                ],
            )
            .await?;
        let mut events = Vec::new();
        let mut last = query.after.unwrap_or(0);
        for row in rows.iter().take(query.limit) {
            let (Some(seq), Some(json)) = (
                row.first().and_then(SqlValue::integer),
                row.get(1).and_then(SqlValue::text),
            ) else {
                continue;
            };
            events.push(serde_json::from_str(json).map_err(json_error)?);
            last = u64::try_from(seq).unwrap_or(last);
        }
        Ok((events, rows.len() > query.limit, last))
    }

    /// Up to `limit` users after `after` in user-id order, whose id contains
    /// `search` (ignoring case) if given.
    pub async fn users(
        &self,
        after: &str,
        search: &str,
        limit: usize,
    ) -> Result<Vec<(String, UserEntry)>, BackendError> {
        let rows = self
            .sql
            .query(
                "SELECT user_id, entry FROM edge_mfa_user_index WHERE tenant = ? AND user_id > ? AND entry IS NOT NULL AND (? = '' OR instr(lower(user_id), lower(?)) > 0) ORDER BY user_id LIMIT ?",
                vec![
                    text(self.tenant),
                    text(after),
                    text(search),
                    text(search),
                    int(limit as u64),
                ],
            )
            .await?;
        rows.iter()
            .filter_map(|row| Some((row.first()?.text()?, row.get(1)?.text()?)))
            .map(|(user, entry)| {
                Ok((
                    user.to_string(),
                    serde_json::from_str(entry).map_err(json_error)?,
                ))
            })
            .collect()
    }

    /// Up to `limit` help requests in `state` (any if `None`), oldest first, after
    /// the position `after` (`(created_at, id)` of the last one seen).
    pub async fn help_requests(
        &self,
        state: Option<HelpState>,
        after: Option<(u64, &str)>,
        limit: usize,
    ) -> Result<Vec<HelpRequest>, BackendError> {
        let state = state.map(HelpState::as_str).unwrap_or_default();
        let (at, id) = after.unwrap_or((0, ""));
        let rows = self
            .sql
            .query(
                "SELECT request FROM edge_mfa_help_requests WHERE tenant = ? AND (? = '' OR state = ?) AND (created_at > ? OR (created_at = ? AND id > ?)) ORDER BY created_at, id LIMIT ?",
                vec![
                    text(self.tenant),
                    text(state),
                    text(state),
                    int(at),
                    int(at),
                    text(id),
                    int(limit as u64),
                ],
            )
            .await?;
        rows.iter()
            .filter_map(|row| row.first()?.text())
            .map(|json| serde_json::from_str(json).map_err(json_error))
            .collect()
    }

    pub async fn help_request(&self, id: &str) -> Result<Option<HelpRequest>, BackendError> {
        let rows = self
            .sql
            .query(
                "SELECT request FROM edge_mfa_help_requests WHERE tenant = ? AND id = ?",
                vec![text(self.tenant), text(id)],
            )
            .await?;
        rows.first()
            .and_then(|row| row.first()?.text())
            .map(|json| serde_json::from_str(json).map_err(json_error))
            .transpose()
    }

    pub async fn read(&self, read: LogRead) -> Result<LogAnswer, BackendError> {
        Ok(match read {
            LogRead::Events {
                query,
                retention_days,
                now,
            } => {
                let (events, more, last) = self.events(&query, retention_days, now).await?;
                LogAnswer::Events { events, more, last }
            }
            LogRead::Users {
                after,
                search,
                limit,
            } => LogAnswer::Users(self.users(&after, &search, limit).await?),
            LogRead::HelpRequests {
                state,
                after,
                limit,
                retention_days,
                now,
            } => {
                self.expire(retention_days, now).await?;
                let after = after.as_ref().map(|(at, id)| (*at, id.as_str()));
                LogAnswer::HelpRequests(self.help_requests(state, after, limit).await?)
            }
            LogRead::HelpRequest { id } => LogAnswer::HelpRequest(self.help_request(&id).await?),
        })
    }

    /// Forgets everything of the tenant (the tenant was deleted).
    pub async fn erase(&self) -> Result<(), BackendError> {
        for table in [
            "edge_mfa_audit",
            "edge_mfa_user_index",
            "edge_mfa_help_requests",
        ] {
            self.sql
                .query(
                    &format!("DELETE FROM {table} WHERE tenant = ?"),
                    vec![text(self.tenant)],
                )
                .await?;
        }
        Ok(())
    }
}
