//! The callers of API.md: operator, admin, end user with a ticket, and step-up.

use edge_mfa_core::crypto::Crypto;
use edge_mfa_core::ids::UserId;
use edge_mfa_core::policy::Capabilities;
use edge_mfa_core::seal::MasterKey;
use edge_mfa_core::tenant::Tenant;
use edge_mfa_jose::{TicketClaims, verify_ticket};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::http::ApiRequest;
use crate::problem::ApiError;

/// How old an `mfa_token` may be and still count as step-up: its whole lifetime
/// (300 s). API.md allows up to 600 s; a token is never valid that long.
pub const STEP_UP_MAX_AGE: u64 = edge_mfa_jose::MFA_TOKEN_LIFETIME;
/// An operator key holds at least this many random bytes (API.md "Deployment
/// settings"): 256 bits, like every other key of edge-mfa.
const MIN_OPERATOR_KEY_BYTES: usize = 32;
/// Fewer distinct characters than this is a placeholder, not a random key.
const MIN_OPERATOR_KEY_SYMBOLS: usize = 10;
/// The first retry of a failed notification after a minute, then doubling.
pub const DEFAULT_WEBHOOK_RETRY_SECONDS: u64 = 60;
/// The `mfa_method`s that mean the user presented a second factor.
const STEP_UP_METHODS: &[&str] = &["totp", "webauthn", "email", "sms", "backup_code"];

/// The deployment's own secrets (Worker secrets / Spin variables).
#[derive(Debug)]
pub struct Deployment {
    pub master: MasterKey,
    operator_key_sha256: [u8; 32],
    /// Tests only: honour `X-Edge-MFA-Test-Now`, `-Test-IP` and `-Test-Country`.
    /// Off unless the deployment sets it (see docs/SECURITY.md); never in production.
    pub test_hooks: bool,
    /// Whether the platform tells the client's country (set by the adapter).
    pub platform_country: bool,
    /// Tests and development only: webhook URLs on `http://localhost`,
    /// `127.0.0.1`, `[::1]` are allowed (`EDGE_MFA_LOOPBACK_WEBHOOKS`).
    pub loopback_webhooks: bool,
    /// How long after a failed notification the next attempt is made, in seconds,
    /// doubling each time (`EDGE_MFA_WEBHOOK_RETRY_SECONDS`; tests make it short).
    pub webhook_retry_seconds: u64,
    /// The push services push messages may go to, by host (`*.` for any
    /// subdomain): the browsers' own unless set (`EDGE_MFA_PUSH_SERVICES`,
    /// comma-separated; docs/PUSH.md).
    pub push_services: Vec<String>,
    /// VAPID's contact (RFC 8292 §2.1 `sub`: `mailto:` or `https:`), for push
    /// services to reach the operator (`EDGE_MFA_PUSH_CONTACT`); the deployment's
    /// origin unless set.
    pub push_contact: Option<String>,
    /// The deployment's public origin (`https://mfa.example.com`,
    /// `EDGE_MFA_PUBLIC_ORIGIN`): where the Approver is, so its WebAuthn origin
    /// and RP ID and its activation links. Behind a proxy that ends TLS the
    /// request's own origin is not the one browsers see; unset, it is used.
    pub public_origin: Option<String>,
    /// The phone-number library SMS enrollment checks numbers with: `phonenumber`
    /// where this crate is built with `sms`, the runtime's own where the adapter
    /// sets it (the Worker's libphonenumber-js); `None` in a build without one.
    pub phone_numbers: Option<&'static dyn crate::codes::PhoneNumbers>,
}

impl Deployment {
    /// `master_key`: 32 bytes, base64url or base64. `operator_key`: at least 32
    /// random bytes in base64, base64url or hex. The message of an error says which
    /// setting is wrong and how to make a good one; the adapters refuse to serve
    /// without a valid deployment.
    pub fn new(master_key: &str, operator_key: &str) -> Result<Deployment, String> {
        if master_key.trim().is_empty() {
            return Err("MASTER_KEY is empty".into());
        }
        let master = MasterKey::from_config(master_key).map_err(|_| {
            format!(
                "MASTER_KEY must be 32 random bytes as 44 characters of base64 or 64 hex digits (head -c 32 /dev/urandom | base64); the one set has {} characters",
                master_key.trim().len()
            )
        })?;
        check_operator_key(operator_key.trim())?;
        Ok(Deployment {
            master,
            operator_key_sha256: Sha256::digest(operator_key.trim().as_bytes()).into(),
            test_hooks: false,
            platform_country: false,
            loopback_webhooks: false,
            webhook_retry_seconds: DEFAULT_WEBHOOK_RETRY_SECONDS,
            push_services: edge_mfa_webpush::DEFAULT_PUSH_SERVICES
                .iter()
                .map(|h| h.to_string())
                .collect(),
            push_contact: None,
            public_origin: None,
            #[cfg(feature = "sms")]
            phone_numbers: Some(&crate::codes::LibPhoneNumber),
            #[cfg(not(feature = "sms"))]
            phone_numbers: None,
        })
    }

    /// The origin the Approver is served at: the configured public origin, else
    /// the one the request reached.
    pub fn approver_origin<'a>(&'a self, req: &'a crate::ApiRequest) -> &'a str {
        self.public_origin.as_deref().unwrap_or(&req.origin)
    }

    /// `EDGE_MFA_PUBLIC_ORIGIN`: an `https` origin (`http` only for localhost),
    /// without a path.
    ///
    /// # Errors
    /// What is wrong with it.
    pub fn set_public_origin(&mut self, text: &str) -> Result<(), String> {
        let url =
            url::Url::parse(text.trim()).map_err(|e| format!("EDGE_MFA_PUBLIC_ORIGIN: {e}"))?;
        let origin = url.origin().ascii_serialization();
        let local = url.host_str() == Some("localhost");
        if !(url.scheme() == "https" || (local && url.scheme() == "http"))
            || url.path() != "/"
            || !url.username().is_empty()
        {
            return Err(format!(
                "EDGE_MFA_PUBLIC_ORIGIN must be an https origin such as https://mfa.example.com, not {text:?}"
            ));
        }
        self.public_origin = Some(origin);
        Ok(())
    }

    /// Where push messages may go here: the push services, and loopback where
    /// the deployment allows loopback webhooks (tests, development).
    pub fn push_services(&self) -> edge_mfa_webpush::PushServices {
        edge_mfa_webpush::PushServices {
            hosts: self.push_services.clone(),
            loopback: self.loopback_webhooks,
        }
    }

    /// `EDGE_MFA_PUSH_SERVICES`: hosts, comma-separated (`*.` for any subdomain).
    ///
    /// # Errors
    /// A host that is empty or not a domain name, named.
    pub fn set_push_services(&mut self, hosts: &str) -> Result<(), String> {
        let hosts: Vec<String> = hosts
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        if let Some(bad) = hosts.iter().find(|h| {
            let domain = h.strip_prefix("*.").unwrap_or(h);
            domain.is_empty()
                || !domain
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        }) {
            return Err(format!(
                "EDGE_MFA_PUSH_SERVICES: {bad:?} is not a host name (or *. and one)"
            ));
        }
        self.push_services = hosts;
        Ok(())
    }

    /// What webhook URLs may be here.
    pub fn url_rules(&self) -> edge_mfa_core::webhook::UrlRules {
        edge_mfa_core::webhook::UrlRules {
            allow_loopback_http: self.loopback_webhooks,
        }
    }

    /// What policies can rely on here: a country from the platform, or (tests)
    /// from the test hooks.
    pub fn capabilities(&self) -> Capabilities {
        Capabilities {
            country: self.platform_country || self.test_hooks,
            webhook: false,
        }
    }

    /// Adds the earlier master keys of a `MASTER_KEY` rotation (comma-separated,
    /// base64): what they sealed still opens, and is re-sealed under `MASTER_KEY`
    /// as it is written.
    pub fn with_previous_master_keys(mut self, keys: &str) -> Result<Deployment, String> {
        self.master = self.master.with_previous(keys).map_err(|_| {
            "MASTER_KEY_PREVIOUS must be 32-byte keys in base64, comma-separated".to_string()
        })?;
        Ok(self)
    }

    pub fn require_operator(&self, req: &ApiRequest) -> Result<(), ApiError> {
        let presented = req
            .bearer()
            .ok_or_else(|| ApiError::Unauthorized("the operator key is required".into()))?;
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        if bool::from(digest.ct_eq(&self.operator_key_sha256)) {
            Ok(())
        } else {
            Err(ApiError::Unauthorized("the operator key is wrong".into()))
        }
    }
}

fn check_operator_key(key: &str) -> Result<(), String> {
    // Hex is also valid base64: a key of hex digits is read as hex, so its length
    // counts 4 bits per character, not 6.
    let decoded = if key.bytes().all(|b| b.is_ascii_hexdigit()) {
        data_encoding::HEXLOWER_PERMISSIVE
            .decode(key.as_bytes())
            .ok()
    } else {
        edge_mfa_jose::b64url_decode(key.trim_end_matches('='))
            .or_else(|| data_encoding::BASE64.decode(key.as_bytes()).ok())
    }
    .map_or(0, |bytes| bytes.len());
    let mut symbols: Vec<char> = key.chars().collect();
    symbols.sort_unstable();
    symbols.dedup();
    if decoded < MIN_OPERATOR_KEY_BYTES || symbols.len() < MIN_OPERATOR_KEY_SYMBOLS {
        return Err(format!(
            "OPERATOR_KEY must hold at least {MIN_OPERATOR_KEY_BYTES} random bytes, in base64, base64url or hex (for example: openssl rand -base64 32)"
        ));
    }
    Ok(())
}

pub fn require_admin(req: &ApiRequest, tenant: &Tenant) -> Result<(), ApiError> {
    let presented = req
        .bearer()
        .ok_or_else(|| ApiError::Unauthorized("the tenant's admin key is required".into()))?;
    if tenant.admin_key_matches(presented) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized("the admin key is wrong".into()))
    }
}

/// The end user, as the tenant's ticket names them.
#[derive(Debug)]
pub struct Caller {
    pub user: UserId,
    pub claims: TicketClaims,
}

pub fn require_ticket(
    req: &ApiRequest,
    tenant: &Tenant,
    master: &MasterKey,
    now: u64,
) -> Result<Caller, ApiError> {
    let token = req.bearer().ok_or_else(|| {
        ApiError::Unauthorized("a ticket (Authorization: Bearer) is required".into())
    })?;
    // The current ticket secret, then the previous one during its overlap after a
    // rotation. Every refusal of a ticket, for its signature or its claims, is a
    // 401: the caller needs a new ticket, whatever was wrong with this one.
    let mut result = Err(edge_mfa_jose::JoseError::BadSignature);
    for secret in tenant.ticket_secrets(master, now)? {
        result = verify_ticket(token, &secret, tenant.id.as_str(), now);
        if !matches!(result, Err(edge_mfa_jose::JoseError::BadSignature)) {
            break;
        }
    }
    let claims = result.map_err(|e| match e {
        edge_mfa_jose::JoseError::BadSignature => ApiError::Unauthorized(format!(
            "ticket refused: {e}: it must be signed (HS256) with tenant {}'s ticket_secret, the UTF-8 bytes of the string as given, and sent to that tenant's path",
            tenant.id
        )),
        e => ApiError::Unauthorized(format!("ticket refused: {e}")),
    })?;
    let user = UserId::try_from(claims.sub.clone())
        .map_err(|e| ApiError::Unauthorized(format!("ticket refused: {e}")))?;
    Ok(Caller { user, claims })
}

/// Whether `X-MFA-Token` holds this tenant's valid `mfa_token` for this very user,
/// issued at most [`STEP_UP_MAX_AGE`] seconds ago, for a second factor the user presented
/// (a token issued because policy or a remembered device let the user through
/// proves nothing new). Absent or invalid is simply `false`:
/// the core then refuses what needs step-up with `step_up_required`.
pub fn has_step_up(
    req: &ApiRequest,
    tenant: &Tenant,
    user: &UserId,
    now: u64,
    crypto: &dyn Crypto,
) -> bool {
    let Some(token) = req.header("x-mfa-token") else {
        return false;
    };
    // Any published key: a token signed just before a rotation still counts.
    let token = token.trim();
    tenant
        .verifiers()
        .iter()
        .find_map(|v| v.verify(crypto, token, tenant.id.as_str(), now).ok())
        .is_some_and(|claims| {
            claims.sub == user.as_str()
                && now.saturating_sub(claims.iat) <= STEP_UP_MAX_AGE
                && claims.acr == edge_mfa_jose::ACR_MFA
                && STEP_UP_METHODS.contains(&claims.mfa_method.as_str())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    #[test]
    fn operator_keys_hold_32_random_bytes() {
        for good in [
            "q6Xh1d0oEaK2Wv9mRZpT8sYc3uBnLfGjHk4e7iNwxA0",
            "q6Xh1d0oEaK2Wv9mRZpT8sYc3uBnLfGjHk4e7iNwxA0=",
            "ab0c9f1e2d3b4a5968778695a4b3c2d1e0f1a2b3c4d5e6f708192a3b4c5d6e7f",
        ] {
            assert!(Deployment::new(MASTER, good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "op_short-but-random-Zx81",
            // 31 bytes.
            "q6Xh1d0oEaK2Wv9mRZpT8sYc3uBnLfGjHk4e7iNwxA",
            // 44 hex digits: 22 bytes, though as base64 they would make 33.
            "ab0c9f1e2d3b4a5968778695a4b3c2d1e0f1a2b3c4d5",
            // Long enough, but a placeholder.
            "changemechangemechangemechangemechangemechangeme",
            "0000000000000000000000000000000000000000000000000000000000000000",
            // Not base64 or hex.
            "this is a long passphrase, but not a key: 1234567890!",
        ] {
            let err = Deployment::new(MASTER, bad).unwrap_err();
            assert!(
                err.contains("OPERATOR_KEY must hold at least 32 random bytes"),
                "{bad}: {err}"
            );
        }
    }
}
