//! An in-memory `Backend` for the API's unit tests: the core's `apply` over a
//! HashMap, with a fixed clock. Never used outside tests; the real runtimes are
//! tested end to end in tests/e2e.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code
)]

use std::cell::RefCell;
use std::collections::HashMap;

use edge_mfa_api::{
    ApiRequest, ApiResponse, Backend, BackendError, DeliveryError, Deployment, Queued,
    TenantListing, TenantPage,
};
use edge_mfa_core::env::SeededRandom;
use edge_mfa_core::ids::{TenantId, UserId};
use edge_mfa_core::seal::Sealed;
use edge_mfa_core::tenant::{AuthorisedChange, Tenant, UserFacts};
use edge_mfa_core::{CoreError, Env, Outcome, UserRequest, Write};

pub const MASTER_KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
// 32 random bytes, base64url, as the deployment requires.
pub const OPERATOR_KEY: &str = "Xq3vT9b2LkR8mZp1cWfN6yH0sJd4gUe7aVo5iBtKxQA";
pub const NOW: u64 = 1_800_000_000;

#[derive(Debug)]
pub struct Memory {
    tenants: RefCell<HashMap<String, Tenant>>,
    users: RefCell<HashMap<String, String>>,
    canary: RefCell<Option<Sealed>>,
    secrets: RefCell<HashMap<String, Sealed>>,
    sends: RefCell<HashMap<String, (u64, u32)>>,
    outbox: RefCell<Vec<Queued>>,
    /// What `deliver` was given.
    pub delivered: RefCell<Vec<Delivered>>,
    deployment: Deployment,
    random: RefCell<SeededRandom>,
}

/// One `deliver`: (url, headers, body).
pub type Delivered = (String, Vec<(String, String)>, Vec<u8>);

/// The push service `deliver` answers for (`201`): the only host it "reaches".
pub const PUSH_SERVICE: &str = "https://fcm.googleapis.com/";

impl Memory {
    pub fn new() -> Memory {
        Memory {
            tenants: RefCell::default(),
            users: RefCell::default(),
            canary: RefCell::default(),
            secrets: RefCell::default(),
            sends: RefCell::default(),
            outbox: RefCell::default(),
            delivered: RefCell::default(),
            deployment: Deployment::new(MASTER_KEY, OPERATOR_KEY).unwrap(),
            random: RefCell::new(SeededRandom::new(1)),
        }
    }

    /// The same stored state under another deployment (a `MASTER_KEY` rotation).
    pub fn rekeyed(&self, deployment: Deployment) -> Memory {
        Memory {
            tenants: self.tenants.clone(),
            users: self.users.clone(),
            canary: self.canary.clone(),
            secrets: self.secrets.clone(),
            sends: self.sends.clone(),
            outbox: self.outbox.clone(),
            delivered: RefCell::default(),
            deployment,
            random: RefCell::new(SeededRandom::new(2)),
        }
    }

    pub fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> ApiResponse {
        // A query string, as the runtimes split it off the path.
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let req = ApiRequest {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.to_vec(),
            client: Default::default(),
            origin: "https://mfa.example.test".into(),
        };
        let mut random = self.random.borrow().clone();
        let mut env = Env::new(NOW, &mut random);
        let response = block_on(edge_mfa_api::handle(self, &self.deployment, &req, &mut env));
        *self.random.borrow_mut() = random;
        response
    }

    pub fn json(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &str,
    ) -> (u16, serde_json::Value) {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("content-type", "application/json")];
        if let Some(a) = &auth {
            headers.push(("authorization", a));
        }
        let r = self.call(method, path, &headers, body.as_bytes());
        (
            r.status,
            serde_json::from_slice(&r.body).unwrap_or(serde_json::Value::Null),
        )
    }
}

impl Backend for Memory {
    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, BackendError> {
        Ok(self.tenants.borrow().get(id.as_str()).cloned())
    }

    async fn read_log(
        &self,
        _tenant: &Tenant,
        read: edge_mfa_api::tenant_log::LogRead,
    ) -> Result<edge_mfa_api::tenant_log::LogAnswer, BackendError> {
        use edge_mfa_api::tenant_log::{LogAnswer, LogRead};
        // The log's SQL runs on the real runtimes (tests/e2e); here it is empty.
        Ok(match read {
            LogRead::Events { .. } => LogAnswer::Events {
                events: Vec::new(),
                more: false,
                last: 0,
            },
            LogRead::Users { .. } => LogAnswer::Users(Vec::new()),
            LogRead::HelpRequests { .. } => LogAnswer::HelpRequests(Vec::new()),
            LogRead::HelpRequest { .. } => LogAnswer::HelpRequest(None),
        })
    }

    async fn create_tenant(
        &self,
        tenant: &Tenant,
        _event: &edge_mfa_core::audit::AuditEvent,
    ) -> Result<bool, BackendError> {
        let mut tenants = self.tenants.borrow_mut();
        if tenants.contains_key(tenant.id.as_str()) {
            return Ok(false);
        }
        tenants.insert(tenant.id.to_string(), tenant.clone());
        Ok(true)
    }

    async fn list_tenants(
        &self,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<TenantPage, BackendError> {
        let mut tenants: Vec<TenantListing> = self
            .tenants
            .borrow()
            .values()
            .filter(|t| cursor.is_none_or(|c| t.id.as_str() > c))
            .map(|t| TenantListing {
                id: t.id.clone(),
                name: t.name.clone(),
                created_at: t.created_at,
            })
            .collect();
        tenants.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        let next = (tenants.len() > limit).then(|| {
            tenants.truncate(limit);
            tenants.last().unwrap().id.to_string()
        });
        Ok(TenantPage { tenants, next })
    }

    async fn delete_tenant(&self, id: &TenantId, _now: u64) -> Result<bool, BackendError> {
        let prefix = format!("{id}/");
        self.users
            .borrow_mut()
            .retain(|k, _| !k.starts_with(&prefix));
        Ok(self.tenants.borrow_mut().remove(id.as_str()).is_some())
    }

    async fn deliver(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
        _timeout_ms: u64,
    ) -> Result<(u16, u64), DeliveryError> {
        // No network in the API's unit tests (the real runtimes deliver in
        // tests/e2e): what would go out is kept, and only PUSH_SERVICE answers.
        self.delivered
            .borrow_mut()
            .push((url.to_string(), headers.to_vec(), body.to_vec()));
        if url.starts_with(PUSH_SERVICE) {
            return Ok((201, 0));
        }
        Err(DeliveryError::Failed(format!("no network here ({url})")))
    }

    async fn reserve_send(
        &self,
        tenant: &TenantId,
        key: &str,
        limit: u32,
        now: u64,
    ) -> Result<Option<u64>, BackendError> {
        let mut sends = self.sends.borrow_mut();
        let entry = sends
            .entry(format!("{tenant}/{key}"))
            .or_insert((now / 3600, 0));
        if entry.0 != now / 3600 {
            *entry = (now / 3600, 0);
        }
        if entry.1 >= limit {
            return Ok(Some((now / 3600 + 1) * 3600 - now));
        }
        entry.1 += 1;
        Ok(None)
    }

    async fn due_notifications(
        &self,
        now: u64,
        limit: usize,
        tenant: Option<&TenantId>,
    ) -> Result<Vec<Queued>, BackendError> {
        Ok(self
            .outbox
            .borrow()
            .iter()
            .filter(|q| q.next_at <= now && tenant.is_none_or(|t| *t == q.tenant))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn settle_notification(
        &self,
        queued: &Queued,
        next: Option<(u32, u64)>,
        _given_up: Option<&edge_mfa_core::audit::AuditEvent>,
    ) -> Result<(), BackendError> {
        let id = queued.notification.id.as_str();
        let mut outbox = self.outbox.borrow_mut();
        match next {
            None => outbox.retain(|q| q.notification.id != id),
            Some((attempts, next_at)) => {
                for q in outbox.iter_mut().filter(|q| q.notification.id == id) {
                    q.attempts = attempts;
                    q.next_at = next_at;
                }
            }
        }
        Ok(())
    }

    async fn keep_secret(
        &self,
        name: &str,
        candidate: &Sealed,
        replacing: Option<&Sealed>,
    ) -> Result<Sealed, BackendError> {
        let mut secrets = self.secrets.borrow_mut();
        let kept = secrets
            .entry(name.to_string())
            .or_insert_with(|| candidate.clone());
        if replacing.is_some_and(|old| old.as_stored() == kept.as_stored()) {
            *kept = candidate.clone();
        }
        Ok(kept.clone())
    }

    async fn load_canary(&self) -> Result<Option<Sealed>, BackendError> {
        Ok(self.canary.borrow().clone())
    }

    async fn store_canary(&self, sealed: &Sealed) -> Result<(), BackendError> {
        *self.canary.borrow_mut() = Some(sealed.clone());
        Ok(())
    }

    async fn update_tenant(
        &self,
        id: &TenantId,
        change: &AuthorisedChange,
    ) -> Result<Result<Option<Tenant>, CoreError>, BackendError> {
        let mut tenants = self.tenants.borrow_mut();
        let Some(tenant) = tenants.get(id.as_str()).cloned() else {
            return Ok(Ok(None));
        };
        let mut random = self.random.borrow_mut();
        let mut env = Env::new(NOW, &mut *random);
        let facts = UserFacts {
            webauthn_users: u64::try_from(
                self.users
                    .borrow()
                    .iter()
                    .filter(|(key, _)| key.starts_with(&format!("{id}/")))
                    .filter_map(|(_, record)| edge_mfa_core::summarize(record))
                    .filter(|s| s.has_webauthn())
                    .count(),
            )
            .unwrap(),
        };
        let tenant = match tenant.apply_authorised(change.clone(), facts) {
            Ok(t) => t.resealed(&self.deployment.master, &mut env),
            Err(e) => return Ok(Err(e)),
        };
        tenants.insert(id.to_string(), tenant.clone());
        Ok(Ok(Some(tenant)))
    }

    async fn run_user(
        &self,
        tenant: &Tenant,
        user: &UserId,
        request: UserRequest,
        now: u64,
    ) -> Result<Result<Outcome, CoreError>, BackendError> {
        let key = format!("{}/{}", tenant.id, user.as_str());
        let stored = self.users.borrow().get(&key).cloned();
        let mut random = SeededRandom::new(now);
        let mut env = Env::new(now, &mut random);
        let applied = edge_mfa_core::apply(
            stored.as_deref(),
            tenant,
            &self.deployment.master,
            user,
            request,
            &mut env,
        );
        self.outbox.borrow_mut().extend(
            applied
                .notifications
                .into_iter()
                .map(|notification| Queued::new(tenant, notification)),
        );
        match applied.store {
            Some(Write::Put(record)) => {
                self.users.borrow_mut().insert(key, record);
            }
            Some(Write::Delete) => {
                self.users.borrow_mut().remove(&key);
            }
            None => {}
        }
        Ok(applied.reply)
    }
}

/// The API's futures never wait on anything here, so one poll finishes them.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => panic!("the in-memory backend never waits"),
    }
}

/// Creates tenant "acme" and returns (admin_key, ticket_secret).
pub fn acme(memory: &Memory) -> (String, String) {
    let (status, body) = memory.json(
        "POST",
        "/v1/tenants",
        Some(OPERATOR_KEY),
        r#"{"id":"acme","name":"ACME","rp_id":"acme.test","origins":["https://app.acme.test"]}"#,
    );
    assert_eq!(status, 201, "{body}");
    (
        body["admin_key"].as_str().unwrap().into(),
        body["ticket_secret"].as_str().unwrap().into(),
    )
}

pub fn ticket(secret: &str, sub: &str) -> String {
    let claims = format!(
        r#"{{"iss":"acme","sub":"{sub}","aud":"edge-mfa","iat":{},"exp":{}}}"#,
        NOW - 10,
        NOW + 290
    );
    edge_mfa_jose::sign_ticket(&claims, secret.as_bytes())
}
