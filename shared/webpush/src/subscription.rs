//! A push subscription as the browser gives it (W3C Push API §3.4,
//! `PushSubscription.toJSON()`), and the push services whose endpoints a
//! deployment sends to.

use p256::PublicKey;
use serde::{Deserialize, Serialize};
use url::{Host, Url};

use crate::WebPushError;

/// The push services of the browsers in use, by host: Chrome and Chromium
/// browsers (Firebase Cloud Messaging), Firefox (Mozilla autopush), Edge
/// (Windows Push Notification Services), Safari (Apple). `*.` matches any
/// subdomain. docs/PUSH.md lists them with their browsers.
pub const DEFAULT_PUSH_SERVICES: &[&str] = &[
    "fcm.googleapis.com",
    "android.googleapis.com",
    "updates.push.services.mozilla.com",
    "*.notify.windows.com",
    "web.push.apple.com",
];

/// `PushSubscriptionJSON`: the endpoint and the keys, base64url as browsers
/// write them. `expirationTime` is read and not used (browsers send `null`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "PushSubscriptionJSON")
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PushSubscription {
    /// The push service URL that takes this subscription's messages: https, on a
    /// push service the deployment allows (docs/PUSH.md).
    #[cfg_attr(
        feature = "schema",
        schemars(length(max = 2048), pattern(r"^https?://"), extend("format" = "uri"))
    )]
    pub endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_time: Option<f64>,
    pub keys: SubscriptionKeysJson,
}

/// `keys` of [`PushSubscription`]: `p256dh` (the user agent's P-256 public key,
/// uncompressed) and `auth` (16 bytes), base64url.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "PushSubscriptionKeys")
)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionKeysJson {
    /// The user agent's P-256 public key, uncompressed (65 bytes), base64url.
    #[cfg_attr(
        feature = "schema",
        schemars(pattern(r"^[A-Za-z0-9_-]{86,87}=*(?![\s\S])"))
    )]
    pub p256dh: String,
    /// 16 bytes, base64url.
    #[cfg_attr(
        feature = "schema",
        schemars(pattern(r"^[A-Za-z0-9_-]{22}=*(?![\s\S])"))
    )]
    pub auth: String,
}

// Keys are secret at rest (they let anyone push to the phone): never in a log.
impl std::fmt::Debug for PushSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushSubscription").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for SubscriptionKeysJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubscriptionKeysJson([redacted])")
    }
}

/// The decoded keys [`crate::encrypt`] uses.
#[derive(Clone)]
pub struct SubscriptionKeys {
    p256dh: PublicKey,
    auth: [u8; 16],
}

impl std::fmt::Debug for SubscriptionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubscriptionKeys([redacted])")
    }
}

impl SubscriptionKeys {
    /// # Errors
    /// [`WebPushError::InvalidPublicKey`], [`WebPushError::InvalidAuthSecret`].
    pub fn from_base64url(p256dh: &str, auth: &str) -> Result<SubscriptionKeys, WebPushError> {
        let point = b64url(p256dh).ok_or(WebPushError::InvalidPublicKey)?;
        // Uncompressed only (RFC 8291 §3.1); `from_sec1_bytes` refuses points off
        // the curve and the identity.
        if point.len() != 65 || point.first() != Some(&0x04) {
            return Err(WebPushError::InvalidPublicKey);
        }
        let p256dh =
            PublicKey::from_sec1_bytes(&point).map_err(|_| WebPushError::InvalidPublicKey)?;
        let auth = b64url(auth)
            .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok())
            .ok_or(WebPushError::InvalidAuthSecret)?;
        Ok(SubscriptionKeys { p256dh, auth })
    }

    pub(crate) fn p256dh(&self) -> &PublicKey {
        &self.p256dh
    }

    pub(crate) fn auth(&self) -> &[u8] {
        &self.auth
    }
}

impl PushSubscription {
    /// The keys decoded, and the endpoint one of `services`'.
    ///
    /// # Errors
    /// [`WebPushError::EndpointRefused`] and the key errors.
    pub fn check(&self, services: &PushServices) -> Result<SubscriptionKeys, WebPushError> {
        services.check(&self.endpoint)?;
        SubscriptionKeys::from_base64url(&self.keys.p256dh, &self.keys.auth)
    }
}

/// The push services a deployment sends to: hosts (`*.` for any subdomain), over
/// `https` on the default port; and, where the deployment allows loopback (tests
/// and development), `http` to `localhost`, `127.0.0.1` or `[::1]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushServices {
    pub hosts: Vec<String>,
    pub loopback: bool,
}

impl Default for PushServices {
    fn default() -> Self {
        PushServices {
            hosts: DEFAULT_PUSH_SERVICES
                .iter()
                .map(|h| h.to_string())
                .collect(),
            loopback: false,
        }
    }
}

/// The longest endpoint accepted (push services' are under 500 characters).
const MAX_ENDPOINT_LEN: usize = 2048;

impl PushServices {
    /// Whether `endpoint` is a URL of one of these services; compared after
    /// WHATWG URL parsing, with no user name, password or fragment.
    ///
    /// # Errors
    /// [`WebPushError::EndpointRefused`] saying why.
    pub fn check(&self, endpoint: &str) -> Result<(), WebPushError> {
        let refuse = |why: &str| Err(WebPushError::EndpointRefused(why.to_string()));
        if endpoint.len() > MAX_ENDPOINT_LEN {
            return refuse("longer than 2048 characters");
        }
        let Ok(url) = Url::parse(endpoint) else {
            return refuse("not a URL");
        };
        if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
            return refuse("a push endpoint has no user name, password or fragment");
        }
        let loopback = matches!(url.host(), Some(Host::Domain("localhost")))
            || matches!(url.host(), Some(Host::Ipv4(ip)) if ip.is_loopback())
            || matches!(url.host(), Some(Host::Ipv6(ip)) if ip.is_loopback());
        if loopback {
            return if self.loopback && matches!(url.scheme(), "http" | "https") {
                Ok(())
            } else {
                refuse("a loopback push service is allowed only where the deployment enables it")
            };
        }
        let Some(Host::Domain(host)) = url.host() else {
            return refuse("not the host of a push service this deployment sends to");
        };
        if url.scheme() != "https" || url.port().is_some() {
            return refuse("a push endpoint is https on the default port");
        }
        let allowed = self
            .hosts
            .iter()
            .any(|pattern| match pattern.strip_prefix("*.") {
                Some(suffix) => host
                    .strip_suffix(suffix)
                    .is_some_and(|sub| sub.ends_with('.') && sub.len() > 1),
                None => host == pattern,
            });
        if allowed {
            Ok(())
        } else {
            refuse("not the host of a push service this deployment sends to")
        }
    }
}

fn b64url(text: &str) -> Option<Vec<u8>> {
    data_encoding::BASE64URL_NOPAD
        .decode(text.trim_end_matches('=').as_bytes())
        .ok()
}
