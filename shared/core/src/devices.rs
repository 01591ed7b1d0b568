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
    pub expires_at: u64,
}

/// A device view for the user and the admin: never the token or its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

/// Remembers a new device for `days`; returns the token to give the browser once.
pub fn remember(
    devices: &mut Vec<TrustedDevice>,
    label: String,
    days: u32,
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
    });
    token
}

/// Holds the remembered devices to the tenant's current policy: none while
/// remembering is off, none created at or before `not_before` (when it was last
/// turned off), and none older than the current `days`, whatever expiry they were
/// issued with. Run before every operation, so a policy change takes effect at the
/// next request of each user.
pub fn apply_policy(
    devices: &mut Vec<TrustedDevice>,
    policy: &RememberDevice,
    not_before: Option<u64>,
    now: u64,
) {
    if !policy.enabled {
        devices.clear();
        return;
    }
    let lifetime = u64::from(policy.days) * 86_400;
    for d in devices.iter_mut() {
        d.expires_at = d.expires_at.min(d.created_at.saturating_add(lifetime));
    }
    devices.retain(|d| d.expires_at > now && not_before.is_none_or(|nb| d.created_at > nb));
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
        let mut env = Env {
            now: 1000,
            random: &mut rng,
        };
        let mut devices = Vec::new();
        let token = remember(&mut devices, "Firefox".into(), 30, &mut env);
        assert_eq!(edge_mfa_jose::b64url_decode(&token).unwrap().len(), 32);
        assert!(!serde_json::to_string(&devices).unwrap().contains(&token));
        assert!(find_mut(&mut devices, &token, 1000 + 30 * 86_400 - 1).is_some());
        assert!(find_mut(&mut devices, &token, 1000 + 30 * 86_400).is_none());
        assert!(find_mut(&mut devices, "not-the-token", 1000).is_none());
    }

    #[test]
    fn the_current_policy_ends_tokens() {
        let mut rng = SeededRandom::new(5);
        let mut env = Env {
            now: 1000,
            random: &mut rng,
        };
        let mut devices = Vec::new();
        remember(&mut devices, "a".into(), 30, &mut env);
        let on = |days| RememberDevice {
            enabled: true,
            days,
            token_in_body: false,
        };
        // Lowering days shortens what was issued; raising it again does not lengthen.
        let mut d = devices.clone();
        apply_policy(&mut d, &on(1), None, 1000 + 86_399);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].expires_at, 1000 + 86_400);
        apply_policy(&mut d, &on(30), None, 1000 + 86_400);
        assert!(d.is_empty());
        // Off: all gone.
        let mut d = devices.clone();
        apply_policy(
            &mut d,
            &RememberDevice {
                enabled: false,
                ..on(30)
            },
            None,
            1001,
        );
        assert!(d.is_empty());
        // Back on: tokens from before it was turned off stay dead, later ones live.
        let mut d = devices.clone();
        apply_policy(&mut d, &on(30), Some(1000), 2000);
        assert!(d.is_empty());
        env.now = 1001;
        let mut d = devices.clone();
        remember(&mut d, "b".into(), 30, &mut env);
        apply_policy(&mut d, &on(30), Some(1000), 2000);
        assert_eq!(
            d.iter().map(|x| x.label.as_str()).collect::<Vec<_>>(),
            ["b"]
        );
    }

    #[test]
    fn bounded_and_labelled() {
        let mut rng = SeededRandom::new(4);
        let mut env = Env {
            now: 1000,
            random: &mut rng,
        };
        let mut devices = Vec::new();
        let first = remember(&mut devices, "first".into(), 1, &mut env);
        for _ in 0..MAX_DEVICES {
            remember(&mut devices, "x".into(), 1, &mut env);
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
