//! The admin's views across users (API.md "Admin additions", "Audit log"): the
//! users list by MFA status, the help-request queue and the audit log, all read
//! from the tenant's log ([`crate::tenant_log`]), with opaque cursors.

use edge_mfa_core::assess::{Enrollment, EnrollmentState};
use edge_mfa_core::audit::{AuditEvent, AuditQuery, EventType};
use edge_mfa_core::help::{HelpRequest, HelpState};
use edge_mfa_core::ids::UserId;
use edge_mfa_core::policy::Method;
use edge_mfa_core::tenant::Tenant;
use edge_mfa_core::{Outcome, UserCommand, UserEntry};
use edge_mfa_jose::{b64url_decode, b64url_encode};
use serde_json::Value;

use crate::admin_answers::{AuditPage, HelpRequestsPage, RequirementView, UsersPage};
use crate::admin_api::{run, user_id};
use crate::answers::respond;
use crate::backend::Backend;
use crate::http::{ApiRequest, ApiResponse, percent_decode};
use crate::problem::ApiError;
use crate::tenant_log::{LogAnswer, LogRead};
use crate::wire::{ResolveBody, parse_optional_body};

/// Users read from the index per round, and at most per request: a rare filter
/// over a large tenant answers a shorter page with a `next` rather than scan on.
const USERS_BATCH: usize = 500;
const USERS_SCAN_BUDGET: usize = 20_000;
const USERS_MAX_LIMIT: usize = 500;
const USERS_DEFAULT_LIMIT: usize = 100;
const AUDIT_MAX_LIMIT: usize = 1000;
const AUDIT_DEFAULT_LIMIT: usize = 100;
const HELP_MAX_LIMIT: usize = 100;
/// The longest search string (a substring of user ids).
const MAX_SEARCH_CHARS: usize = 256;

fn internal(e: crate::BackendError) -> ApiError {
    ApiError::Internal(e.0)
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::InvalidRequest(message.into())
}

/// `limit` from the query: `default` when absent, else 1–`max`.
fn limit(req: &ApiRequest, default: usize, max: usize) -> Result<usize, ApiError> {
    match req.query_param("limit") {
        None => Ok(default),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| invalid(format!("limit must be 1-{max}"))),
    }
}

/// A Unix-seconds query parameter.
fn seconds(req: &ApiRequest, name: &str) -> Result<Option<u64>, ApiError> {
    req.query_param(name)
        .map(|text| {
            text.parse::<u64>()
                .ok()
                .filter(|&s| i64::try_from(s).is_ok())
                .ok_or_else(|| invalid(format!("{name} must be Unix seconds")))
        })
        .transpose()
}

/// Cursors are opaque to clients: base64url of our position.
fn encode_cursor(position: &str) -> String {
    b64url_encode(position.as_bytes())
}

fn decode_cursor(req: &ApiRequest) -> Result<Option<String>, ApiError> {
    req.query_param("cursor")
        .map(|cursor| {
            b64url_decode(&cursor)
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| invalid("cursor is not one this API gave"))
        })
        .transpose()
}

/// `format=json` (the default) or the alternative `other`.
fn format_is(req: &ApiRequest, other: &str) -> Result<bool, ApiError> {
    match req.query_param("format").as_deref() {
        None | Some("json") => Ok(false),
        Some(f) if f == other => Ok(true),
        Some(_) => Err(invalid(format!("format must be json or {other}"))),
    }
}

/// The RFC 8288 link to the next page: this request with `cursor` replaced.
fn next_link(req: &ApiRequest, cursor: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in form_urlencoded::parse(req.query.as_bytes()) {
        if name != "cursor" {
            query.append_pair(&name, &value);
        }
    }
    query.append_pair("cursor", cursor);
    format!("<{}?{}>; rel=\"next\"", req.path, query.finish())
}

/// What the users list filters on (API.md `?state=`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum StateFilter {
    Enrollment(EnrollmentState),
    Locked,
}

impl StateFilter {
    fn parse(text: &str) -> Option<StateFilter> {
        Some(match text {
            "enrolled" => StateFilter::Enrollment(EnrollmentState::Enrolled),
            "not_enrolled" => StateFilter::Enrollment(EnrollmentState::NotEnrolled),
            "grace" => StateFilter::Enrollment(EnrollmentState::Grace),
            "expired" => StateFilter::Enrollment(EnrollmentState::Expired),
            "bypassed" => StateFilter::Enrollment(EnrollmentState::Bypassed),
            "locked" => StateFilter::Locked,
            _ => return None,
        })
    }
}

/// `GET …/admin/users?state=&method=&q=&limit=&cursor=&format=json|csv`.
pub(crate) async fn users<B: Backend>(
    backend: &B,
    tenant: &Tenant,
    req: &ApiRequest,
    now: u64,
) -> Result<ApiResponse, ApiError> {
    let state = req
        .query_param("state")
        .map(|s| {
            StateFilter::parse(&s).ok_or_else(|| {
                invalid("state must be enrolled, not_enrolled, grace, expired, bypassed or locked")
            })
        })
        .transpose()?;
    let method = req
        .query_param("method")
        .map(|m| {
            serde_json::from_value::<Method>(Value::String(m))
                .map_err(|_| invalid("method must be totp, webauthn, sms, email or backup_code"))
        })
        .transpose()?;
    let search = req.query_param("q").unwrap_or_default();
    if search.chars().count() > MAX_SEARCH_CHARS {
        return Err(invalid(format!(
            "q must be at most {MAX_SEARCH_CHARS} characters"
        )));
    }
    let limit = limit(req, USERS_DEFAULT_LIMIT, USERS_MAX_LIMIT)?;
    let csv = format_is(req, "csv")?;
    let policy = &tenant.policy;
    let matches = |entry: &UserEntry| {
        let state_ok = match state {
            None => true,
            Some(StateFilter::Locked) => entry.locked_at(now),
            Some(StateFilter::Enrollment(s)) => entry.enrollment(policy, now).state == s,
        };
        state_ok && method.is_none_or(|m| entry.methods.contains(&m))
    };
    let mut after = decode_cursor(req)?.unwrap_or_default();
    let mut found: Vec<(String, UserEntry)> = Vec::new();
    let mut scanned = 0;
    let next = 'scan: loop {
        let read = LogRead::Users {
            after: after.clone(),
            search: search.clone(),
            limit: USERS_BATCH,
        };
        let LogAnswer::Users(batch) = backend.read_log(tenant, read).await.map_err(internal)?
        else {
            return Err(ApiError::Internal("unexpected log answer".into()));
        };
        let full = batch.len() == USERS_BATCH;
        let count = batch.len();
        for (i, (user, entry)) in batch.into_iter().enumerate() {
            scanned += 1;
            after = user.clone();
            if matches(&entry) {
                found.push((user, entry));
                if found.len() == limit {
                    break 'scan (i + 1 < count || full).then(|| after.clone());
                }
            }
        }
        if !full {
            break None;
        }
        if scanned >= USERS_SCAN_BUDGET {
            break Some(after.clone());
        }
    };
    let next = next.map(|n| encode_cursor(&n));
    let rows: Vec<UserRow<'_>> = found
        .iter()
        .map(|(user, entry)| UserRow::new(user, entry, tenant, now))
        .collect();
    let response = if csv {
        users_csv(&rows)?
    } else {
        respond(
            200,
            &UsersPage {
                users: &rows,
                next: next.as_deref(),
            },
        )?
    };
    Ok(match &next {
        Some(next) => response.with_header("link", next_link(req, next)),
        None => response,
    })
}

/// A user as the list shows them (API.md "Admin additions"). Times in Unix
/// seconds; `methods` in enrollment order, then `backup_code` while codes remain.
#[derive(serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub(crate) struct UserRow<'a> {
    user: &'a str,
    enrollment: Enrollment,
    methods: &'a [Method],
    #[serde(skip_serializing_if = "Option::is_none")]
    last_mfa_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    locked_until: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bypass_until: Option<u64>,
    first_seen: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    requirement: Option<RequirementView>,
}

impl<'a> UserRow<'a> {
    fn new(user: &'a str, entry: &'a UserEntry, tenant: &Tenant, now: u64) -> UserRow<'a> {
        UserRow {
            user,
            enrollment: entry.enrollment(&tenant.policy, now),
            methods: &entry.methods,
            last_mfa_at: entry.last_mfa_at,
            locked_until: entry.locked_until.filter(|&u| u > now),
            bypass_until: entry.bypass_until.filter(|&u| u > now),
            first_seen: entry.first_seen,
            requirement: entry.requirement.as_ref().map(RequirementView::from),
        }
    }
}

/// The CSV columns, in order.
const CSV_COLUMNS: &[&str] = &[
    "user",
    "state",
    "deadline",
    "methods",
    "last_mfa_at",
    "locked_until",
    "bypass_until",
    "first_seen",
];

/// The users as RFC 4180 CSV (`text/csv`). A cell that a spreadsheet would run as
/// a formula (`=`, `+`, `-`, `@`, tab, CR first: OWASP "CSV Injection") is
/// prefixed with `'`, since user ids come from the tenant's users.
fn users_csv(rows: &[UserRow<'_>]) -> Result<ApiResponse, ApiError> {
    let failed = |e: csv::Error| ApiError::Internal(format!("csv: {e}"));
    let time = |t: Option<u64>| t.map(|t| t.to_string()).unwrap_or_default();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(CSV_COLUMNS).map_err(failed)?;
    for row in rows {
        let state = serde_json::to_value(row.enrollment.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let methods: Vec<&str> = row.methods.iter().map(|m| m.as_str()).collect();
        let record = [
            defuse(row.user),
            state,
            time(row.enrollment.deadline),
            methods.join(" "),
            time(row.last_mfa_at),
            time(row.locked_until),
            time(row.bypass_until),
            time(row.first_seen),
        ];
        writer.write_record(&record).map_err(failed)?;
    }
    let body = writer
        .into_inner()
        .map_err(|e| ApiError::Internal(format!("csv: {e}")))?;
    Ok(ApiResponse {
        status: 200,
        headers: vec![
            ("content-type".into(), "text/csv; charset=utf-8".into()),
            ("cache-control".into(), "no-store".into()),
            (
                "content-disposition".into(),
                "attachment; filename=\"users.csv\"".into(),
            ),
        ],
        body,
        log: None,
    })
}

fn defuse(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// `GET …/admin/audit?since=&until=&user=&type=&limit=&cursor=&format=json|ndjson`.
pub(crate) async fn audit<B: Backend>(
    backend: &B,
    tenant: &Tenant,
    req: &ApiRequest,
    now: u64,
) -> Result<ApiResponse, ApiError> {
    let user = req
        .query_param("user")
        .map(|u| {
            UserId::try_from(u)
                .map(|u| u.as_str().to_string())
                .map_err(|_| invalid("user must be 1-256 characters"))
        })
        .transpose()?;
    let event = req
        .query_param("type")
        .map(|t| {
            EventType::parse(&t)
                .ok_or_else(|| invalid(format!("type {t:?} is not an audit event type")))
        })
        .transpose()?;
    let after = decode_cursor(req)?
        .map(|c| {
            c.parse::<u64>()
                .map_err(|_| invalid("cursor is not one this API gave"))
        })
        .transpose()?;
    let query = AuditQuery {
        since: seconds(req, "since")?,
        until: seconds(req, "until")?,
        user,
        event,
        limit: limit(req, AUDIT_DEFAULT_LIMIT, AUDIT_MAX_LIMIT)?,
        after,
    };
    let ndjson = format_is(req, "ndjson")?;
    let read = LogRead::Events {
        query,
        retention_days: tenant.audit_retention_days,
        now,
    };
    let LogAnswer::Events { events, more, last } =
        backend.read_log(tenant, read).await.map_err(internal)?
    else {
        return Err(ApiError::Internal("unexpected log answer".into()));
    };
    // `next` only while pages follow (clients loop until it is absent); `cursor`
    // always: where a poller resumes to read only what arrives later.
    let cursor = encode_cursor(&last.to_string());
    let next = more.then(|| cursor.clone());
    let response = if ndjson {
        ndjson_response(&events)?
    } else {
        respond(
            200,
            &AuditPage {
                events: &events,
                next: next.as_deref(),
                cursor: &cursor,
            },
        )?
    };
    let response = response.with_header("edge-mfa-cursor", cursor);
    Ok(match &next {
        Some(next) => response.with_header("link", next_link(req, next)),
        None => response,
    })
}

/// One event per line (`application/x-ndjson`), for log shippers.
fn ndjson_response(events: &[AuditEvent]) -> Result<ApiResponse, ApiError> {
    let mut body = Vec::new();
    for event in events {
        serde_json::to_writer(&mut body, event).map_err(|e| ApiError::Internal(e.to_string()))?;
        body.push(b'\n');
    }
    Ok(ApiResponse {
        status: 200,
        headers: vec![
            ("content-type".into(), "application/x-ndjson".into()),
            ("cache-control".into(), "no-store".into()),
        ],
        body,
        log: None,
    })
}

/// `GET …/admin/help-requests?state=open|resolved&limit=&cursor=`, oldest first.
pub(crate) async fn help_requests<B: Backend>(
    backend: &B,
    tenant: &Tenant,
    req: &ApiRequest,
    now: u64,
) -> Result<ApiResponse, ApiError> {
    let state = match req.query_param("state").as_deref() {
        None | Some("") | Some("all") => None,
        Some("open") => Some(HelpState::Open),
        Some("resolved") => Some(HelpState::Resolved),
        Some(_) => return Err(invalid("state must be open or resolved")),
    };
    let limit = limit(req, HELP_MAX_LIMIT, HELP_MAX_LIMIT)?;
    let after = decode_cursor(req)?
        .map(|c| {
            c.split_once('.')
                .and_then(|(at, id)| Some((at.parse::<u64>().ok()?, id.to_string())))
                .ok_or_else(|| invalid("cursor is not one this API gave"))
        })
        .transpose()?;
    let read = LogRead::HelpRequests {
        state,
        after,
        limit: limit + 1,
        retention_days: tenant.audit_retention_days,
        now,
    };
    let LogAnswer::HelpRequests(mut requests) =
        backend.read_log(tenant, read).await.map_err(internal)?
    else {
        return Err(ApiError::Internal("unexpected log answer".into()));
    };
    let next = (requests.len() > limit).then(|| {
        requests.truncate(limit);
        requests
            .last()
            .map(|r| encode_cursor(&format!("{}.{}", r.created_at, r.id)))
            .unwrap_or_default()
    });
    let response = respond(
        200,
        &HelpRequestsPage {
            requests: &requests,
            next: next.as_deref(),
        },
    )?;
    Ok(match &next {
        Some(next) => response.with_header("link", next_link(req, next)),
        None => response,
    })
}

/// `POST …/admin/help-requests/{id}/resolve` `{"action"?, "minutes"?, "note"?}`:
/// the request resolved, its action taken on its user in the same step.
pub(crate) async fn resolve<B: Backend>(
    backend: &B,
    tenant: &Tenant,
    id: &str,
    req: &ApiRequest,
    now: u64,
) -> Result<ApiResponse, ApiError> {
    let id =
        percent_decode(id).ok_or_else(|| invalid("the request id in the path is not valid"))?;
    let body: ResolveBody = parse_optional_body(req)?;
    let read = LogRead::HelpRequest { id: id.clone() };
    let LogAnswer::HelpRequest(found) = backend.read_log(tenant, read).await.map_err(internal)?
    else {
        return Err(ApiError::Internal("unexpected log answer".into()));
    };
    let request: HelpRequest =
        found.ok_or_else(|| ApiError::NotFound("no such help request".into()))?;
    if request.state == HelpState::Resolved {
        return Err(ApiError::Conflict(
            "this help request is already resolved".into(),
        ));
    }
    let user = user_id(&request.user)?;
    let command = UserCommand::ResolveHelp {
        request_id: id,
        action: body.action,
        minutes: body.minutes,
        note: body.note,
    };
    let Outcome::HelpResolved(resolved) = run(backend, tenant, &user, command, req, now).await?
    else {
        return Err(ApiError::Internal("unexpected outcome".into()));
    };
    respond(200, &resolved)
}
