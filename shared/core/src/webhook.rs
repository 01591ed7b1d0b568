//! The tenant's webhook (API.md "Webhooks"): where edge-mfa sends one-time codes
//! and notifications, and how each delivery is signed — Standard Webhooks 1.0
//! (<https://www.standardwebhooks.com/>, spec "Signature scheme"):
//! `webhook-signature: v1,<base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}"))>`,
//! space-separated when a rotated-out secret still signs.
//!
//! The secret is `whsec_` + base64 of 32 random bytes; edge-mfa makes it, shows it
//! once, and keeps it sealed under the master key, bound to the tenant.

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::env::Env;
use crate::error::CoreError;
use crate::ids::TenantId;
use crate::seal::{MasterKey, Sealed};
use crate::secret::Secret;

/// How long a rotated-out webhook secret still signs (API.md: 24 h).
pub const SECRET_OVERLAP: u64 = 86_400;
const SECRET_PREFIX: &str = "whsec_";
/// The longest webhook URL, in characters as sent (as the document's
/// `maxLength` counts them).
pub const MAX_URL_LEN: usize = 2048;

/// The notification types a tenant may subscribe to (API.md "Webhooks"). Code
/// events (`mfa.code.*`) always go to the webhook: they are how codes travel.
pub const EVENT_TYPES: &[&str] = &[
    "factor.enrolled",
    "factor.removed",
    "backup_codes.regenerated",
    "lockout.started",
    "device.remembered",
    "help_request.created",
    "enrollment.required",
    "approval.reported",
    "webhook.test",
];

/// The stored webhook of a tenant. The URL is public; the secret sealed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub url: String,
    /// Subscribed notification types (a subset of [`EVENT_TYPES`]).
    pub events: Vec<String>,
    secret: Sealed,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous: Option<PreviousWebhookSecret>,
}

/// A rotated-out secret and the end of its overlap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct PreviousWebhookSecret {
    sealed: Sealed,
    until: u64,
}

/// Whether loopback `http://` URLs are allowed (a deployment setting for tests
/// and development; never in production).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct UrlRules {
    pub allow_loopback_http: bool,
}

/// Checks a webhook URL (API.md): parsed as a WHATWG URL, `https`, or `http` only
/// for exactly `localhost`, `127.0.0.1` or `[::1]` where `rules` allow it; no
/// userinfo, no fragment. Answers the URL as parsed (normalised).
pub fn validate_url(text: &str, rules: UrlRules) -> Result<String, CoreError> {
    let invalid = |why: &str| CoreError::InvalidRequest(format!("webhook url {text:?}: {why}"));
    // The bytes bound first: a cheap stop for a long string (4 bytes per char at most).
    if text.len() > 4 * MAX_URL_LEN || text.chars().count() > MAX_URL_LEN {
        return Err(invalid("too long"));
    }
    let url = url::Url::parse(text).map_err(|e| invalid(&e.to_string()))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not hold a user name or password"));
    }
    if url.fragment().is_some() {
        return Err(invalid("must not hold a fragment"));
    }
    let loopback = matches!(
        url.host(),
        Some(url::Host::Domain("localhost"))
            | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
            | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
    );
    if loopback && rules.allow_loopback_http {
        return match url.scheme() {
            "http" | "https" => Ok(url.into()),
            _ => Err(invalid("must be https://")),
        };
    }
    if loopback {
        return Err(invalid(
            "a loopback host is allowed only where the deployment enables loopback webhooks (tests, development)",
        ));
    }
    // Not a way into the deployment's own network: no internal address or name
    // (a name that resolves to one is for the network's egress rules to stop,
    // docs/SECURITY.md "SMS pumping and the webhook").
    if let Some(why) = url.host().and_then(|host| internal(&host)) {
        return Err(invalid(why));
    }
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url.into()),
        _ => Err(invalid("must be https://")),
    }
}

/// Why `host` is not a public Internet host, if it is not: loopback, private,
/// link-local, shared (CGNAT), unique-local, multicast or unspecified addresses,
/// `localhost` and its subdomains, and single-label names.
fn internal(host: &url::Host<&str>) -> Option<&'static str> {
    use std::net::{Ipv4Addr, Ipv6Addr};
    let v4 = |ip: &Ipv4Addr| {
        let [a, b, ..] = ip.octets();
        ip.is_loopback()
            || ip.is_private()
            || ip.is_link_local()
            || ip.is_multicast()
            || ip.is_unspecified()
            || ip.is_broadcast()
            || ip.is_documentation()
            || a == 0
            || (a == 100 && (64..128).contains(&b))
            || a >= 240
    };
    let v6 = |ip: &Ipv6Addr| {
        let first = ip.segments()[0];
        ip.is_loopback()
            || ip.is_unspecified()
            || ip.is_multicast()
            || (first & 0xfe00) == 0xfc00
            || (first & 0xffc0) == 0xfe80
            || ip.to_ipv4_mapped().is_some_and(|v| v4(&v))
    };
    match host {
        url::Host::Ipv4(ip) if v4(ip) => Some("must not be an internal address"),
        url::Host::Ipv6(ip) if v6(ip) => Some("must not be an internal address"),
        url::Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if name == "localhost" || name.ends_with(".localhost") {
                Some("must not be localhost")
            } else if !name.contains('.') {
                Some("must be a fully qualified public host name")
            } else {
                None
            }
        }
        _ => None,
    }
}

/// `whsec_` + base64 of 32 random bytes.
pub fn new_secret(env: &mut Env<'_>) -> Secret<String> {
    Secret::new(format!(
        "{SECRET_PREFIX}{}",
        data_encoding::BASE64.encode(&env.bytes::<32>())
    ))
}

fn context(tenant: &TenantId) -> String {
    format!("webhook-secret|{tenant}")
}

impl Webhook {
    /// A webhook for `url`, with `secret` (shown once by the caller) sealed.
    pub fn new(
        tenant: &TenantId,
        url: String,
        events: Vec<String>,
        secret: &Secret<String>,
        master: &MasterKey,
        env: &mut Env<'_>,
    ) -> Webhook {
        Webhook {
            url,
            events,
            secret: master.seal(&context(tenant), secret.expose().as_bytes(), env),
            previous: None,
        }
    }

    /// A webhook whose secret the caller sealed with [`Webhook::seal_secret`].
    pub fn with_sealed(url: String, events: Vec<String>, sealed: Sealed) -> Webhook {
        Webhook {
            url,
            events,
            secret: sealed,
            previous: None,
        }
    }

    /// `secret` sealed for `tenant`'s webhook, for [`Webhook::with_sealed`] and
    /// [`Webhook::rotated_to`].
    pub fn seal_secret(
        tenant: &TenantId,
        secret: &Secret<String>,
        master: &MasterKey,
        env: &mut Env<'_>,
    ) -> Sealed {
        master.seal(&context(tenant), secret.expose().as_bytes(), env)
    }

    /// The same webhook signed by `sealed` from now on; the current secret keeps
    /// signing beside it until `until`.
    pub fn rotated_to(self, sealed: Sealed, until: u64) -> Webhook {
        let previous = PreviousWebhookSecret {
            sealed: self.secret,
            until,
        };
        Webhook {
            secret: sealed,
            previous: Some(previous),
            ..self
        }
    }

    /// Whether this webhook's current secret is `sealed` (the caller made it).
    pub fn is_sealed_secret(&self, sealed: &Sealed) -> bool {
        &self.secret == sealed
    }

    /// The same webhook at another URL and events; the secrets are unchanged.
    pub fn with_target(self, url: String, events: Vec<String>) -> Webhook {
        Webhook {
            url,
            events,
            ..self
        }
    }

    /// Every sealed secret re-sealed under the current master key.
    pub fn resealed(mut self, tenant: &TenantId, master: &MasterKey, env: &mut Env<'_>) -> Self {
        let ctx = context(tenant);
        if let Some(s) = master.reseal(&ctx, &self.secret, env) {
            self.secret = s;
        }
        if let Some(p) = &mut self.previous
            && let Some(s) = master.reseal(&ctx, &p.sealed, env)
        {
            p.sealed = s;
        }
        self
    }

    /// Until when the previous secret still signs, if one does.
    pub fn previous_until(&self, now: u64) -> Option<u64> {
        self.previous.as_ref().map(|p| p.until).filter(|&u| u > now)
    }

    /// The secrets that sign at `now`: the current one, then the previous one
    /// during its overlap (one that does not open is left out and logged by the
    /// caller's readiness check, not here).
    fn signing_keys(
        &self,
        tenant: &TenantId,
        master: &MasterKey,
        now: u64,
    ) -> Result<Vec<Vec<u8>>, CoreError> {
        let ctx = context(tenant);
        let mut keys =
            vec![secret_key(&master.open(&ctx, &self.secret).map_err(
                |_| {
                    CoreError::Internal(master.explain_unopenable(
                        &format!("tenant {tenant}'s webhook secret"),
                        &self.secret,
                    ))
                },
            )?)?];
        if let Some(p) = self.previous.as_ref().filter(|p| p.until > now)
            && let Ok(previous) = master.open(&ctx, &p.sealed)
        {
            keys.push(secret_key(&previous)?);
        }
        Ok(keys)
    }

    /// The headers of one delivery (Standard Webhooks "Signature scheme"):
    /// `webhook-id`, `webhook-timestamp`, `webhook-signature`.
    pub fn sign(
        &self,
        tenant: &TenantId,
        master: &MasterKey,
        message: &Message<'_>,
    ) -> Result<Vec<(String, String)>, CoreError> {
        let signatures: Vec<String> = self
            .signing_keys(tenant, master, message.timestamp)?
            .iter()
            .filter_map(|key| signature(key, message))
            .collect();
        Ok(vec![
            ("content-type".into(), "application/json".into()),
            ("webhook-id".into(), message.id.to_string()),
            ("webhook-timestamp".into(), message.timestamp.to_string()),
            ("webhook-signature".into(), signatures.join(" ")),
        ])
    }
}

/// What is signed: the message id (the same on every retry), the time of this
/// attempt, and the exact body bytes.
#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    pub id: &'a str,
    pub timestamp: u64,
    pub body: &'a [u8],
}

/// The HMAC key of a `whsec_` secret: the base64-decoded bytes after the prefix.
fn secret_key(secret: &[u8]) -> Result<Vec<u8>, CoreError> {
    let text = std::str::from_utf8(secret)
        .ok()
        .and_then(|s| s.strip_prefix(SECRET_PREFIX))
        .ok_or_else(|| CoreError::Internal("webhook secret is not whsec_".into()))?;
    data_encoding::BASE64
        .decode(text.as_bytes())
        .map_err(|_| CoreError::Internal("webhook secret is not base64".into()))
}

/// `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")). HMAC takes keys
/// of any length, so the key is never refused.
fn signature(key: &[u8], message: &Message<'_>) -> Option<String> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).ok()?;
    mac.update(message.id.as_bytes());
    mac.update(b".");
    mac.update(message.timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(message.body);
    Some(format!(
        "v1,{}",
        data_encoding::BASE64.encode(&mac.finalize().into_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::SeededRandom;

    #[test]
    fn signs_as_the_standard_webhooks_reference_does() {
        // The example of the Standard Webhooks libraries' own tests
        // (standard-webhooks/standard-webhooks, libraries/javascript/src/index.test.ts).
        let key = secret_key(b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let message = Message {
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp: 1_614_265_330,
            body: br#"{"test": 2432232314}"#,
        };
        assert_eq!(
            signature(&key, &message).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn urls_are_parsed_and_held_to_https() {
        let dev = UrlRules {
            allow_loopback_http: true,
        };
        let prod = UrlRules::default();
        for internal in [
            "https://127.0.0.1/",
            "https://localhost/",
            "https://[::1]/",
            "https://0x7f000001/",
            "https://10.0.0.5/",
            "https://192.168.1.1/",
            "https://172.16.0.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://0.0.0.0/",
            "https://metadata/",
            "https://api.localhost/",
        ] {
            assert!(validate_url(internal, prod).is_err(), "{internal}");
        }
        for ok in [
            "https://hooks.example.com/mfa",
            "https://hooks.example.com:8443/a?b=c",
        ] {
            assert!(validate_url(ok, prod).is_ok(), "{ok}");
        }
        // Compared after parsing: 0x7f000001 is 127.0.0.1.
        for ok in [
            "http://localhost:9000/hook",
            "http://127.0.0.1/x",
            "http://[::1]:8080/",
            "http://0x7f000001/",
        ] {
            assert!(validate_url(ok, dev).is_ok(), "{ok}");
            assert!(validate_url(ok, prod).is_err(), "{ok} without loopback");
        }
        for bad in [
            "http://hooks.example.com/mfa",
            "http://localhost.attacker.example/",
            "http://127.0.0.1@attacker.example/",
            "https://user:pass@hooks.example.com/",
            "https://user@hooks.example.com/",
            "ftp://hooks.example.com/",
            "javascript:alert(1)",
            "https://",
            "https://hooks.example.com/#frag",
            "not a url",
            "http://127.0.0.2/",
        ] {
            assert!(validate_url(bad, dev).is_err(), "{bad}");
        }
        // The bound counts characters as sent, as the document's maxLength does.
        let base = "https://hooks.example.com/";
        let path = "é".repeat(MAX_URL_LEN - base.len());
        assert!(validate_url(&format!("{base}{path}"), prod).is_ok());
        assert!(validate_url(&format!("{base}{path}é"), prod).is_err());
    }

    #[test]
    fn a_rotated_secret_signs_beside_the_new_one_for_24_hours() {
        let master = MasterKey::from_bytes(&[3u8; 32]).unwrap();
        let tenant = TenantId::try_from("acme".to_string()).unwrap();
        let mut rng = SeededRandom::new(5);
        let mut env = Env::new(1_000, &mut rng);
        let first = new_secret(&mut env);
        assert!(first.expose().starts_with("whsec_"));
        let hook = Webhook::new(
            &tenant,
            "https://h.example/".into(),
            vec![],
            &first,
            &master,
            &mut env,
        );
        let second = new_secret(&mut env);
        let sealed = Webhook::seal_secret(&tenant, &second, &master, &mut env);
        let hook = hook.rotated_to(sealed, env.now + SECRET_OVERLAP);
        let message = |t| Message {
            id: "msg_1",
            timestamp: t,
            body: b"{}",
        };
        let during = hook.sign(&tenant, &master, &message(2_000)).unwrap();
        let header = &during
            .iter()
            .find(|(n, _)| n == "webhook-signature")
            .unwrap()
            .1;
        let expected: Vec<String> = [&second, &first]
            .iter()
            .map(|s| {
                signature(&secret_key(s.expose().as_bytes()).unwrap(), &message(2_000)).unwrap()
            })
            .collect();
        assert_eq!(header, &expected.join(" "));
        let after = hook
            .sign(&tenant, &master, &message(1_000 + SECRET_OVERLAP))
            .unwrap();
        let header = &after
            .iter()
            .find(|(n, _)| n == "webhook-signature")
            .unwrap()
            .1;
        assert_eq!(header.split(' ').count(), 1);
        // Stored, the secrets are sealed.
        let stored = serde_json::to_string(&hook).unwrap();
        assert!(!stored.contains(first.expose()) && !stored.contains(second.expose()));
    }
}
