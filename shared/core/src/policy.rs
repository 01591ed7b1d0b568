//! The tenant's MFA policy (API.md "Policy object"). Defaults are the safe ones.
//!
//! Wire shape and stored shape are the same struct: every field has a default, so
//! a tenant may send a partial object, and `deny_unknown_fields` catches typos
//! (`"mdoe": "off"` must not silently leave MFA required... or worse, not).

use edge_mfa_otp::{Algorithm, Digits, Totp};
use serde::{Deserialize, Serialize};

use crate::lockout::MAX_FAILURES_PER_HOUR;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Off,
    Optional,
    #[default]
    Required,
    Adaptive,
}

/// A kind of second factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Totp,
    Webauthn,
    Email,
    Sms,
    BackupCode,
    /// Push approval with number matching, on a phone running the Approver.
    Push,
}

/// The JSON Schema of a factor's method: any [`Method`] but `backup_code`, which
/// is no factor of its own (it comes with the first factor).
#[cfg(feature = "schema")]
pub fn factor_method_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "enum": ["totp", "webauthn", "email", "sms", "push"] })
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Totp => "totp",
            Method::Webauthn => "webauthn",
            Method::Email => "email",
            Method::Sms => "sms",
            Method::BackupCode => "backup_code",
            Method::Push => "push",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    pub mode: Mode,
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub allowed_methods: Vec<Method>,
    pub default_method: Method,
    #[cfg_attr(feature = "schema", schemars(range(max = 365)))]
    pub grace_period_days: u32,
    pub remember_device: RememberDevice,
    pub backup_codes: BackupCodesPolicy,
    pub totp: TotpPolicy,
    pub webauthn: WebauthnPolicy,
    pub groups: Groups,
    pub adaptive: Adaptive,
    pub lockout: Lockout,
    pub delivery: Delivery,
    pub push: PushPolicy,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            mode: Mode::Required,
            allowed_methods: vec![Method::Totp, Method::Webauthn, Method::BackupCode],
            default_method: Method::Totp,
            grace_period_days: 0,
            remember_device: RememberDevice::default(),
            backup_codes: BackupCodesPolicy::default(),
            totp: TotpPolicy::default(),
            webauthn: WebauthnPolicy::default(),
            groups: Groups::default(),
            adaptive: Adaptive::default(),
            lockout: Lockout::default(),
            delivery: Delivery::default(),
            push: PushPolicy::default(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "RememberDevicePolicy")
)]
#[serde(default, deny_unknown_fields)]
pub struct RememberDevice {
    /// Turning it off ends every token issued so far (they do not revive when it is
    /// turned on again).
    pub enabled: bool,
    /// How long a token is valid, counted from its creation: lowering it shortens
    /// the tokens already issued.
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 365)))]
    pub days: u32,
    /// Also return the token in the JSON body of verify/redeem, for non-browser
    /// clients. Off by default: in a browser the HttpOnly cookie keeps the token out
    /// of reach of page scripts, and a copy in the body would undo that.
    pub token_in_body: bool,
}

impl Default for RememberDevice {
    fn default() -> Self {
        RememberDevice {
            enabled: true,
            days: 30,
            token_in_body: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct BackupCodesPolicy {
    pub enabled: bool,
    #[cfg_attr(feature = "schema", schemars(range(min = 4, max = 20)))]
    pub count: u8,
}

impl Default for BackupCodesPolicy {
    fn default() -> Self {
        BackupCodesPolicy {
            enabled: true,
            count: 10,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct TotpPolicy {
    pub digits: Digits,
    pub algorithm: Algorithm,
    #[cfg_attr(feature = "schema", schemars(extend("enum" = [30, 60])))]
    pub period: u64,
    #[cfg_attr(feature = "schema", schemars(range(max = 2)))]
    pub skew: u8,
}

impl Default for TotpPolicy {
    fn default() -> Self {
        TotpPolicy {
            digits: Digits::Six,
            algorithm: Algorithm::Sha1,
            period: 30,
            skew: 1,
        }
    }
}

impl TotpPolicy {
    pub fn totp(&self) -> Totp {
        Totp {
            algorithm: self.algorithm,
            digits: self.digits,
            period: self.period,
            skew: self.skew,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct WebauthnPolicy {
    /// `required` | `preferred` | `discouraged` (WebAuthn §5.8.6).
    #[cfg_attr(feature = "schema", schemars(extend("enum" = ["required", "preferred", "discouraged"])))]
    pub user_verification: String,
    /// `none` | `indirect` | `direct` | `enterprise` (WebAuthn §5.4.7).
    #[cfg_attr(feature = "schema", schemars(extend("enum" = ["none", "indirect", "direct", "enterprise"])))]
    pub attestation: String,
    /// COSE algorithm identifiers in preference order.
    #[cfg_attr(
        feature = "schema",
        schemars(length(min = 1), extend("items" = {"enum": [-8, -7, -257]}))
    )]
    pub algorithms: Vec<i64>,
    /// Trust anchors for attestation (§7.1 steps 23–24): root certificates, DER in
    /// standard base64. Empty (the default): attestation is recorded as claimed.
    /// Set: only authenticators whose attestation certificate path leads to one of
    /// these register (needs `attestation` `direct` or `enterprise`).
    #[cfg_attr(feature = "schema", schemars(length(max = 10), extend("items" = {"type": "string", "contentEncoding": "base64"})))]
    pub attestation_roots: Vec<String>,
}

/// Most trust anchors a tenant may configure.
pub const MAX_ATTESTATION_ROOTS: usize = 10;

impl WebauthnPolicy {
    /// The configured roots as DER; `Err` names the first that is not a CA
    /// certificate in base64.
    pub fn attestation_roots_der(&self) -> Result<Vec<Vec<u8>>, String> {
        self.attestation_roots
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let der = data_encoding::BASE64
                    .decode(text.trim().as_bytes())
                    .map_err(|_| format!("webauthn.attestation_roots[{i}] is not base64"))?;
                match edge_mfa_webauthn::der::Certificate::parse(&der) {
                    Ok(cert) if cert.is_ca => Ok(der),
                    Ok(_) => Err(format!(
                        "webauthn.attestation_roots[{i}] is not a CA certificate"
                    )),
                    Err(e) => Err(format!(
                        "webauthn.attestation_roots[{i}] is not a certificate this build reads: {}",
                        e.0
                    )),
                }
            })
            .collect()
    }
}

impl Default for WebauthnPolicy {
    fn default() -> Self {
        WebauthnPolicy {
            user_verification: "preferred".into(),
            attestation: "none".into(),
            attestation_roots: Vec::new(),
            // What WebAuthn peers offer by default, in their order: EdDSA, ES256,
            // and RS256 for Windows Hello.
            algorithms: vec![-8, -7, -257],
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "GroupsPolicy")
)]
#[serde(default, deny_unknown_fields)]
pub struct Groups {
    pub require: Vec<String>,
    pub exempt: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "AdaptivePolicy")
)]
#[serde(default, deny_unknown_fields)]
pub struct Adaptive {
    pub trusted_networks: Vec<String>,
    pub challenge_new_device: bool,
    pub challenge_new_country: bool,
    #[cfg_attr(feature = "schema", schemars(inner(pattern(crate::patterns::COUNTRY))))]
    pub deny_countries: Vec<String>,
    /// On a runtime that does not tell the client's country (Spin), country rules
    /// never fire as meant (every client is `XX`); they are refused unless this
    /// says the tenant knows.
    #[serde(skip_serializing_if = "is_false")]
    pub no_country_acknowledged: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Default for Adaptive {
    fn default() -> Self {
        Adaptive {
            trusted_networks: Vec::new(),
            challenge_new_device: true,
            challenge_new_country: true,
            deny_countries: Vec::new(),
            no_country_acknowledged: false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "LockoutPolicy")
)]
#[serde(default, deny_unknown_fields)]
pub struct Lockout {
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 100)))]
    pub max_failures: u32,
    #[cfg_attr(feature = "schema", schemars(range(min = 60, max = 86_400)))]
    pub window_seconds: u64,
}

impl Default for Lockout {
    fn default() -> Self {
        Lockout {
            max_failures: 5,
            window_seconds: 900,
        }
    }
}

/// One-time codes sent by email and SMS through the tenant's webhook (API.md
/// "Email and SMS codes"). The webhook itself is its own resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "DeliveryPolicy")
)]
#[serde(default, deny_unknown_fields)]
pub struct Delivery {
    /// Digits of a code, 6–8.
    #[cfg_attr(feature = "schema", schemars(range(min = 6, max = 8)))]
    pub code_digits: u8,
    /// Seconds a code is valid, 60–900.
    #[cfg_attr(feature = "schema", schemars(range(min = 60, max = 900)))]
    pub code_ttl_seconds: u64,
    /// Seconds before a code may be sent again for the same challenge.
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 3600)))]
    pub resend_after_seconds: u64,
    /// Codes sent per challenge or enrollment at most (the first one included).
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 20)))]
    pub max_sends_per_challenge: u32,
    /// ITU-T E.164 calling codes SMS may go to ("1", "44", ...); empty: any.
    #[cfg_attr(
        feature = "schema",
        schemars(inner(pattern(crate::patterns::CALLING_CODE)))
    )]
    pub sms_calling_codes: Vec<String>,
    /// SMS the tenant may send per hour, over all its users.
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 100_000)))]
    pub max_sms_per_hour: u32,
    /// Email only as a second way in for a user who has another factor (NIST SP
    /// 800-63B does not accept email as an AAL2 authenticator).
    pub email_fallback_only: bool,
    /// Before issue 12 the webhook lived here. Read from stored tenants (and moved
    /// to the webhook resource when the tenant is next written), never written,
    /// refused in a request.
    #[serde(default, skip_serializing)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub webhook_url: Option<String>,
    #[serde(default, skip_serializing)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub webhook_secret: Option<crate::secret::Secret<String>>,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            code_digits: 6,
            code_ttl_seconds: 300,
            resend_after_seconds: 30,
            max_sends_per_challenge: 5,
            sms_calling_codes: Vec::new(),
            max_sms_per_hour: 100,
            email_fallback_only: false,
            webhook_url: None,
            webhook_secret: None,
        }
    }
}

/// Push approval (docs/PUSH.md): how many digits the sign-in page shows and the
/// phone asks for. 2 stops a user approving by reflex; NIST SP 800-63B-4 §3.1.3.2
/// asks at least 6 of an out-of-band secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "PushPolicy")
)]
#[serde(default, deny_unknown_fields)]
pub struct PushPolicy {
    #[cfg_attr(feature = "schema", schemars(range(min = 2, max = 6)))]
    pub number_digits: u8,
}

impl Default for PushPolicy {
    fn default() -> Self {
        PushPolicy { number_digits: 2 }
    }
}

/// What the deployment can do, as far as a policy depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// The platform tells the client's country (Workers' `request.cf.country`;
    /// Spin tells none).
    pub country: bool,
    /// The tenant has a webhook to send SMS and email codes through.
    pub webhook: bool,
}

/// The methods a user can enroll in this build; backup codes come with the first
/// of them and are never enrolled alone.
pub const ENROLLABLE_METHODS: &[Method] = &[
    Method::Totp,
    Method::Webauthn,
    Method::Sms,
    Method::Email,
    Method::Push,
];

/// Cloudflare's pseudo-countries that `request.cf.country` may carry besides ISO
/// 3166-1 alpha-2: `T1` for Tor exit nodes, `XX` for unknown.
const PSEUDO_COUNTRIES: &[&str] = &["T1", "XX"];

fn is_country(code: &str) -> bool {
    (code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()))
        || PSEUDO_COUNTRIES.contains(&code)
}

impl Policy {
    /// Whether this policy refuses every request from `country` (adaptive
    /// `deny_countries`). The one country gate: `assess` and every command that
    /// issues proof or binds a factor ask it. A request whose country the platform
    /// does not tell counts as `XX` (unknown), so denying `XX` fails closed.
    pub fn denies_country(&self, country: Option<&str>) -> bool {
        let country = country.unwrap_or("XX");
        self.mode == Mode::Adaptive && self.adaptive.deny_countries.iter().any(|d| d == country)
    }

    /// Range and consistency checks; the message names the offending field.
    pub fn validate(&self) -> Result<(), String> {
        if self.allowed_methods.is_empty() {
            return Err("allowed_methods must not be empty".into());
        }
        if !self
            .allowed_methods
            .iter()
            .any(|m| ENROLLABLE_METHODS.contains(m))
        {
            let names: Vec<&str> = ENROLLABLE_METHODS.iter().map(|m| m.as_str()).collect();
            return Err(format!(
                "allowed_methods must include a method users can enroll here ({}): with only {:?} nobody could set up MFA and every user asked for it would be locked out",
                names.join(", "),
                self.allowed_methods
                    .iter()
                    .map(|m| m.as_str())
                    .collect::<Vec<_>>()
            ));
        }
        if !self.allowed_methods.contains(&self.default_method) {
            return Err(format!(
                "default_method ({}) must be one of allowed_methods",
                self.default_method.as_str()
            ));
        }
        if self.grace_period_days > 365 {
            return Err("grace_period_days must be 0-365".into());
        }
        if !(1..=365).contains(&self.remember_device.days) {
            return Err("remember_device.days must be 1-365".into());
        }
        if !(4..=20).contains(&self.backup_codes.count) {
            return Err("backup_codes.count must be 4-20".into());
        }
        if !matches!(self.totp.period, 30 | 60) {
            return Err("totp.period must be 30 or 60".into());
        }
        if !(2..=6).contains(&self.push.number_digits) {
            return Err("push.number_digits must be 2-6".into());
        }
        if self.totp.skew > 2 {
            return Err("totp.skew must be 0-2".into());
        }
        if !matches!(
            self.webauthn.user_verification.as_str(),
            "required" | "preferred" | "discouraged"
        ) {
            return Err(
                "webauthn.user_verification must be required, preferred or discouraged".into(),
            );
        }
        if !matches!(
            self.webauthn.attestation.as_str(),
            "none" | "indirect" | "direct" | "enterprise"
        ) {
            return Err("webauthn.attestation must be none, indirect, direct or enterprise".into());
        }
        // Only what this build verifies may be offered to authenticators.
        let supported = edge_mfa_webauthn::cose::SUPPORTED_ALGORITHMS;
        if self.webauthn.algorithms.is_empty()
            || self
                .webauthn
                .algorithms
                .iter()
                .any(|a| !supported.contains(a))
        {
            return Err(format!(
                "webauthn.algorithms must be a non-empty list of {supported:?} (EdDSA, ES256, RS256)"
            ));
        }
        if self.webauthn.attestation_roots.len() > MAX_ATTESTATION_ROOTS {
            return Err(format!(
                "webauthn.attestation_roots: at most {MAX_ATTESTATION_ROOTS} roots"
            ));
        }
        self.webauthn.attestation_roots_der()?;
        if !self.webauthn.attestation_roots.is_empty()
            && !matches!(self.webauthn.attestation.as_str(), "direct" | "enterprise")
        {
            return Err(
                "webauthn.attestation_roots need webauthn.attestation direct or enterprise: browsers send no attestation otherwise"
                    .into(),
            );
        }
        for cidr in &self.adaptive.trusted_networks {
            match crate::cidr::Cidr::parse(cidr) {
                None => {
                    return Err(format!(
                        "adaptive.trusted_networks: {cidr:?} is not an IPv4 or IPv6 CIDR"
                    ));
                }
                Some(network) if network.is_too_broad() => {
                    return Err(format!(
                        "adaptive.trusted_networks: {cidr:?} covers a large part of the Internet (prefixes must be at least /8 for IPv4, /16 for IPv6)"
                    ));
                }
                Some(_) => {}
            }
        }
        for country in &self.adaptive.deny_countries {
            if !is_country(country) {
                return Err(format!(
                    "adaptive.deny_countries: {country:?} is not an ISO 3166-1 alpha-2 code (or T1, XX)"
                ));
            }
        }
        // Settings that would silently do nothing are refused, not stored.
        if self.mode != Mode::Adaptive && self.adaptive != Adaptive::default() {
            return Err(
                "adaptive settings apply only in mode adaptive: set mode to adaptive, or reset them with \"adaptive\": null in the same PATCH (or leave adaptive out of a PUT)"
                    .into(),
            );
        }
        if self.lockout.max_failures == 0 || self.lockout.max_failures > 100 {
            return Err("lockout.max_failures must be 1-100".into());
        }
        if !(60..=86_400).contains(&self.lockout.window_seconds) {
            return Err("lockout.window_seconds must be 60-86400".into());
        }
        let per_hour = self.lockout.failures_per_hour();
        if per_hour > u64::from(MAX_FAILURES_PER_HOUR) {
            return Err(format!(
                "lockout allows {per_hour} failed attempts per hour; at most {MAX_FAILURES_PER_HOUR} (OWASP ASVS V2.2.1): lower lockout.max_failures or raise lockout.window_seconds"
            ));
        }
        let d = &self.delivery;
        if d.webhook_url.is_some() || d.webhook_secret.is_some() {
            return Err(
                "delivery.webhook_url and delivery.webhook_secret moved to the webhook resource: PUT /v1/{tenant}/admin/webhook"
                    .into(),
            );
        }
        if !(6..=8).contains(&d.code_digits) {
            return Err("delivery.code_digits must be 6-8".into());
        }
        if !(60..=900).contains(&d.code_ttl_seconds) {
            return Err("delivery.code_ttl_seconds must be 60-900".into());
        }
        if !(1..=3600).contains(&d.resend_after_seconds) {
            return Err("delivery.resend_after_seconds must be 1-3600".into());
        }
        if !(1..=20).contains(&d.max_sends_per_challenge) {
            return Err("delivery.max_sends_per_challenge must be 1-20".into());
        }
        if !(1..=100_000).contains(&d.max_sms_per_hour) {
            return Err("delivery.max_sms_per_hour must be 1-100000".into());
        }
        for code in &d.sms_calling_codes {
            if code.is_empty()
                || code.len() > 3
                || !code.bytes().all(|b| b.is_ascii_digit())
                || code.starts_with('0')
            {
                return Err(format!(
                    "delivery.sms_calling_codes: {code:?} is not an E.164 calling code (1-3 digits, such as \"1\" or \"44\")"
                ));
            }
        }
        Ok(())
    }
}

impl Policy {
    /// Whether this policy can work on a deployment that can do `capabilities`:
    /// [`Policy::validate`] checks the object; this refuses a valid policy that
    /// would lock users out or silently do nothing here. Checked when a policy is
    /// written, not when it is read.
    pub fn check_usable(&self, capabilities: Capabilities) -> Result<(), String> {
        // SMS and email travel through the tenant's webhook: without one, a policy
        // that offers nothing else could enroll nobody.
        let without_webhook = self
            .allowed_methods
            .iter()
            .any(|m| matches!(m, Method::Totp | Method::Webauthn));
        if !capabilities.webhook && !without_webhook {
            return Err(
                "allowed_methods must include a method users can enroll here: sms and email codes go through the tenant's webhook, so set it first (PUT /v1/{tenant}/admin/webhook) or allow totp or webauthn"
                    .into(),
            );
        }
        if self.mode == Mode::Adaptive
            && !capabilities.country
            && !self.adaptive.no_country_acknowledged
            && (self.adaptive.challenge_new_country || !self.adaptive.deny_countries.is_empty())
        {
            return Err(
                "this runtime does not tell the client's country (every client counts as XX), so adaptive.challenge_new_country and adaptive.deny_countries would not work as meant: set challenge_new_country to false and deny_countries to [], or set adaptive.no_country_acknowledged to true"
                    .into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_that_cannot_work_here_is_refused() {
        let workers = Capabilities {
            country: true,
            webhook: false,
        };
        let spin = Capabilities {
            country: false,
            webhook: false,
        };
        // Only methods nobody can enroll: every user asked for MFA is locked out.
        let sms_only = Policy {
            allowed_methods: vec![Method::Sms],
            default_method: Method::Sms,
            ..Policy::default()
        };
        assert!(sms_only.validate().is_ok());
        assert!(
            sms_only.check_usable(workers).is_err(),
            "no webhook to send by"
        );
        let with_webhook = Capabilities {
            webhook: true,
            ..workers
        };
        assert!(sms_only.check_usable(with_webhook).is_ok());
        let backup_only = Policy {
            allowed_methods: vec![Method::BackupCode],
            default_method: Method::BackupCode,
            ..Policy::default()
        };
        assert!(
            backup_only
                .validate()
                .is_err_and(|e| e.contains("users can enroll"))
        );
        // Country rules where no country is told, unless acknowledged.
        let adaptive = Policy {
            mode: Mode::Adaptive,
            ..Policy::default()
        };
        assert!(adaptive.check_usable(workers).is_ok());
        assert!(adaptive.check_usable(spin).is_err());
        let mut quiet = adaptive.clone();
        quiet.adaptive.challenge_new_country = false;
        assert!(quiet.check_usable(spin).is_ok());
        quiet.adaptive.deny_countries = vec!["XX".into()];
        assert!(quiet.check_usable(spin).is_err());
        quiet.adaptive.no_country_acknowledged = true;
        assert!(quiet.check_usable(spin).is_ok());
        assert!(Policy::default().check_usable(spin).is_ok());
    }

    #[test]
    fn trusted_networks_covering_the_internet_are_refused() {
        let trusting = |cidr: &str| Policy {
            mode: Mode::Adaptive,
            adaptive: Adaptive {
                trusted_networks: vec![cidr.into()],
                ..Adaptive::default()
            },
            ..Policy::default()
        };
        for cidr in ["0.0.0.0/0", "::/0", "128.0.0.0/1", "10.0.0.0/7", "2000::/3"] {
            assert!(trusting(cidr).validate().is_err(), "{cidr}");
        }
        for cidr in ["10.0.0.0/8", "2001:db8::/32", "198.51.100.7/32"] {
            assert!(trusting(cidr).validate().is_ok(), "{cidr}");
        }
    }

    #[test]
    fn defaults_are_the_safe_ones() {
        let p = Policy::default();
        assert_eq!(p.mode, Mode::Required);
        assert_eq!(
            p.totp,
            TotpPolicy {
                digits: Digits::Six,
                algorithm: Algorithm::Sha1,
                period: 30,
                skew: 1
            }
        );
        assert_eq!(p.backup_codes.count, 10);
        assert_eq!(p.remember_device.days, 30);
        assert_eq!(
            p.lockout,
            Lockout {
                max_failures: 5,
                window_seconds: 900
            }
        );
        assert!(p.validate().is_ok());
    }

    #[test]
    fn partial_objects_fill_defaults_and_typos_are_refused() {
        let p: Policy = serde_json::from_str(r#"{"mode":"optional","totp":{"digits":8}}"#).unwrap();
        assert_eq!(p.mode, Mode::Optional);
        assert_eq!(p.totp.digits, Digits::Eight);
        assert_eq!(p.totp.period, 30);
        assert!(serde_json::from_str::<Policy>(r#"{"mdoe":"off"}"#).is_err());
        assert!(serde_json::from_str::<Policy>(r#"{"totp":{"digits":7}}"#).is_err());
    }

    #[test]
    fn validation_names_the_field() {
        let cases: Vec<(&str, &str)> = vec![
            (r#"{"grace_period_days":366}"#, "grace_period_days"),
            (r#"{"backup_codes":{"count":3}}"#, "backup_codes.count"),
            (r#"{"backup_codes":{"count":21}}"#, "backup_codes.count"),
            (r#"{"totp":{"period":45}}"#, "totp.period"),
            (r#"{"totp":{"skew":3}}"#, "totp.skew"),
            (r#"{"remember_device":{"days":0}}"#, "remember_device.days"),
            (
                r#"{"mode":"adaptive","adaptive":{"trusted_networks":["10.0.0.0/33"]}}"#,
                "trusted_networks",
            ),
            (
                r#"{"mode":"adaptive","adaptive":{"trusted_networks":["::1/129"]}}"#,
                "trusted_networks",
            ),
            (
                r#"{"mode":"adaptive","adaptive":{"deny_countries":["usa"]}}"#,
                "deny_countries",
            ),
            (r#"{"default_method":"sms"}"#, "default_method"),
            (r#"{"lockout":{"max_failures":0}}"#, "lockout.max_failures"),
            (
                r#"{"lockout":{"max_failures":100,"window_seconds":60}}"#,
                "6000 failed attempts per hour",
            ),
            (
                r#"{"lockout":{"max_failures":26,"window_seconds":900}}"#,
                "104 failed attempts per hour",
            ),
            (
                r#"{"mode":"required","adaptive":{"deny_countries":["KP"]}}"#,
                "only in mode adaptive",
            ),
            (
                r#"{"mode":"adaptive","adaptive":{"deny_countries":["T2"]}}"#,
                "deny_countries",
            ),
            (
                r#"{"webauthn":{"attestation":"direct","attestation_roots":["bm90IGEgY2VydA=="]}}"#,
                "webauthn.attestation_roots[0]",
            ),
        ];
        for (json, field) in cases {
            let p: Policy = serde_json::from_str(json).unwrap();
            let err = p.validate().unwrap_err();
            assert!(err.contains(field), "{json}: {err}");
        }
        for ok in [
            r#"{"mode":"adaptive","adaptive":{"trusted_networks":["10.0.0.0/8","2001:db8::/32"]}}"#,
            r#"{"mode":"adaptive","adaptive":{"deny_countries":["KP","T1","XX"]}}"#,
            r#"{"lockout":{"max_failures":100,"window_seconds":3600}}"#,
            r#"{"lockout":{"max_failures":25,"window_seconds":900}}"#,
        ] {
            let p: Policy = serde_json::from_str(ok).unwrap();
            assert_eq!(p.validate(), Ok(()), "{ok}");
        }
    }
}
