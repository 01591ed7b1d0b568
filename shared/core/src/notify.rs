//! Notifications for the tenant's webhook (API.md "Webhooks", asynchronous events):
//! what happened to a user, with enough to write them an email ("a new
//! authenticator was added to your account") and never a secret, code or full
//! number. The core queues one in the record as the change happens; [`apply`]
//! hands them to the adapter, which stores them with the record in one atomic
//! step (an outbox) and delivers them at least once.
//!
//! [`apply`]: crate::apply

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::command::FactorView;
use crate::env::Env;
use crate::ids::random_id;
use crate::tenant::Tenant;
use crate::user::UserRecord;

/// One event to deliver. `id` is the Standard Webhooks `webhook-id`: the same on
/// every attempt, so a receiver can drop duplicates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: String,
    #[serde(rename = "type")]
    pub event: String,
    pub data: Value,
    pub created_at: u64,
}

impl Notification {
    /// The body of the delivery (`{"type", "timestamp" (RFC 3339), "data"}`),
    /// given the timestamp formatter of the caller.
    pub fn body(&self, rfc3339: impl Fn(u64) -> String) -> String {
        json!({"type": self.event, "timestamp": rfc3339(self.created_at), "data": self.data})
            .to_string()
    }
}

/// Queues `event` about `user` if the tenant's webhook subscribes to it.
pub(crate) fn queue(
    record: &mut UserRecord,
    tenant: &Tenant,
    user: &str,
    event: &str,
    mut data: Value,
    env: &mut Env<'_>,
) {
    let subscribed = tenant
        .webhook
        .as_ref()
        .is_some_and(|w| w.events.iter().any(|e| e == event));
    if !subscribed {
        return;
    }
    if let Some(map) = data.as_object_mut() {
        map.insert("user".into(), json!(user));
        map.insert("tenant_name".into(), json!(tenant.name));
    }
    record.outbox.push(Notification {
        id: format!("msg_{}", random_id(env)),
        event: event.to_string(),
        data,
        created_at: env.now,
    });
}

/// The public part of a factor, for `factor.*` events.
pub(crate) fn factor(view: &FactorView) -> Value {
    json!({"factor": {"id": view.id, "type": view.method, "name": view.name}})
}
