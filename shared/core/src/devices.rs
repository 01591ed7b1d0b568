//! Trusted devices ("remember this device"): a 256-bit random token the browser
//! keeps (in the body and an HttpOnly cookie), stored only as its SHA-256 — the
//! token has full entropy, so a slow hash adds nothing.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::env::Env;
use crate::ids::random_id;
use crate::policy::RememberDevice;

/// Bound on remembered devices per user; the oldest is forgotten first.
pub const MAX_DEVICES: usize = 20;
const MAX_LABEL_CHARS: usize = 100;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedDevice {
    pub id: String,
    /// base64url(SHA-256(token)).
    token_sha256: String,
    pub label: String,
    pub created_at: u64,
    pub last_used_at: u64,
    /// The expiry it was issued with; [`TrustedDevice::expires_under`] applies the
    /// current policy.
    pub expires_at: u64,
    /// The tenant's `devices_epoch` when it was made.
    #[serde(default)]
    pub epoch: u64,
}

impl TrustedDevice {
    /// The end of its validity under `policy`: its own expiry, or `days` after its
    /// creation if that comes first (lowering `days` shortens issued tokens).
    pub fn expires_under(&self, policy: &RememberDevice) -> u64 {
        let lifetime = u64::from(policy.days) * 86_400;
        self.expires_at
            .min(self.created_at.saturating_add(lifetime))
    }
}

/// A device view for the user and the admin: never the token or its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "Device")
)]
pub struct DeviceView {
    pub id: String,
    pub label: String,
    pub created_at: u64,
    pub last_used_at: u64,
    pub expires_at: u64,
}

impl From<&TrustedDevice> for DeviceView {
    fn from(d: &TrustedDevice) -> Self {
        DeviceView {
            id: d.id.clone(),
            label: d.label.clone(),
            created_at: d.created_at,
            last_used_at: d.last_used_at,
            expires_at: d.expires_at,
        }
    }
}

fn digest(token: &str) -> String {
    edge_mfa_jose::b64url_encode(&Sha256::digest(token.as_bytes()))
}

/// A label from a User-Agent: printable, bounded.
pub fn label(user_agent: Option<&str>) -> String {
    let label: String = user_agent
        .unwrap_or("Unknown device")
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_LABEL_CHARS)
        .collect();
    if label.trim().is_empty() {
        "Unknown device".into()
    } else {
        label
    }
}

/// Remembers a new device for `days` in the tenant's devices `epoch`; returns the
/// token to give the browser once.
pub fn remember(
    devices: &mut Vec<TrustedDevice>,
    label: String,
    days: u32,
    epoch: u64,
    env: &mut Env<'_>,
) -> String {
    let token = edge_mfa_jose::b64url_encode(&env.bytes::<32>());
    devices.retain(|d| d.expires_at > env.now);
    if devices.len() >= MAX_DEVICES {
        devices.remove(0);
    }
    devices.push(TrustedDevice {
        id: random_id(env),
        token_sha256: digest(&token),
        label,
        created_at: env.now,
        last_used_at: env.now,
        expires_at: env.now + u64::from(days) * 86_400,
        epoch,
    });
    token
}

/// Holds the remembered devices to the tenant's current policy: none while
/// remembering is off, none of an earlier `epoch` (remembering was turned off since
/// they were made), and none past [`TrustedDevice::expires_under`] the current
/// `days`. Run before every operation, so a policy change takes effect at each
/// user's next request; what it drops is gone for good.
pub fn apply_policy(
    devices: &mut Vec<TrustedDevice>,
    policy: &RememberDevice,
    epoch: u64,
    now: u64,
) {
    if !policy.enabled {
        devices.clear();
        return;
    }
    devices.retain(|d| d.epoch == epoch && d.expires_under(policy) > now);
}

/// The unexpired device whose token this is, compared in constant time.
pub fn find_mut<'a>(
    devices: &'a mut [TrustedDevice],
    token: &str,
    now: u64,
) -> Option<&'a mut TrustedDevice> {
    let wanted = digest(token);
    let mut hit = None;
    for (i, d) in devices.iter().enumerate() {
        if bool::from(d.token_sha256.as_bytes().ct_eq(wanted.as_bytes())) && d.expires_at > now {
            hit = Some(i);
        }
    }
    hit.and_then(move |i| devices.get_mut(i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::SeededRandom;

    #[test]
    fn remembered_tokens_work_until_they_expire_and_are_stored_hashed() {
        let mut rng = SeededRandom::new(4);
        let mut env = Env::new(1000, &mut rng);
        let mut devices = Vec::new();
        let token = remember(&mut devices, "Firefox".into(), 30, 0, &mut env);
        assert_eq!(edge_mfa_jose::b64url_decode(&token).unwrap().len(), 32);
        assert!(!serde_json::to_string(&devices).unwrap().contains(&token));
        assert!(find_mut(&mut devices, &token, 1000 + 30 * 86_400 - 1).is_some());
        assert!(find_mut(&mut devices, &token, 1000 + 30 * 86_400).is_none());
        assert!(find_mut(&mut devices, "not-the-token", 1000).is_none());
    }

    #[test]
    fn the_current_policy_ends_tokens() {
        let mut rng = SeededRandom::new(5);
        let mut env = Env::new(1000, &mut rng);
        let mut devices = Vec::new();
        remember(&mut devices, "a".into(), 30, 0, &mut env);
        let on = |days| RememberDevice {
            enabled: true,
            days,
            token_in_body: false,
        };
        // Lowering days shortens what was issued; raising it does not lengthen.
        assert_eq!(devices[0].expires_under(&on(1)), 1000 + 86_400);
        assert_eq!(devices[0].expires_under(&on(60)), 1000 + 30 * 86_400);
        let mut d = devices.clone();
        apply_policy(&mut d, &on(1), 0, 1000 + 86_399);
        assert_eq!(d.len(), 1);
        apply_policy(&mut d, &on(1), 0, 1000 + 86_400);
        assert!(d.is_empty());
        // Off: all gone.
        let mut d = devices.clone();
        apply_policy(
            &mut d,
            &RememberDevice {
                enabled: false,
                ..on(30)
            },
            0,
            1001,
        );
        assert!(d.is_empty());
        // Back on, in a new epoch: tokens of the old one stay dead, new ones live.
        let mut d = devices.clone();
        remember(&mut d, "b".into(), 30, 1, &mut env);
        apply_policy(&mut d, &on(30), 1, 2000);
        assert_eq!(
            d.iter().map(|x| x.label.as_str()).collect::<Vec<_>>(),
            ["b"]
        );
    }

    #[test]
    fn bounded_and_labelled() {
        let mut rng = SeededRandom::new(4);
        let mut env = Env::new(1000, &mut rng);
        let mut devices = Vec::new();
        let first = remember(&mut devices, "first".into(), 1, 0, &mut env);
        for _ in 0..MAX_DEVICES {
            remember(&mut devices, "x".into(), 1, 0, &mut env);
        }
        assert_eq!(devices.len(), MAX_DEVICES);
        assert!(
            find_mut(&mut devices, &first, 1000).is_none(),
            "the oldest was forgotten"
        );
        assert_eq!(label(Some("Mozilla\n/5.0")), "Mozilla/5.0");
        assert_eq!(label(None), "Unknown device");
        assert_eq!(label(Some(&"a".repeat(500))).len(), 100);
    }
}
