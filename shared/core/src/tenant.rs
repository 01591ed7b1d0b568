//! A tenant: its relying-party identity, its policy, and its keys.
//!
//! Secrets at rest: the admin key is kept only as a SHA-256 hash (it is 256 random
//! bits, so a slow hash adds nothing); the ticket secret, the backup-code pepper and
//! the token-signing key are sealed under the master key, each bound to this tenant.

use edge_mfa_jose::{JoseError, Jwk, JwkSet, MfaTokenClaims, TokenSigner, TokenVerifier};
use edge_mfa_webauthn::crypto::Crypto;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::env::Env;
use crate::error::CoreError;
use crate::ids::TenantId;
use crate::policy::{Capabilities, Policy};
use crate::seal::{MasterKey, Sealed};
use crate::webhook::Webhook;

const MAX_ORIGINS: usize = 20;
/// Signing keys published at once: the current one and at most two rotated out.
pub const MAX_SIGNING_KEYS: usize = 3;
/// How long a rotated-out ticket secret is still accepted (API.md: 24 h).
pub const TICKET_SECRET_OVERLAP: u64 = 86_400;
const MAX_NAME_CHARS: usize = 100;

/// `POST /v1/tenants`: a new tenant.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    pub id: TenantId,
    /// The issuer users see in their authenticator app and in code messages.
    #[cfg_attr(
        feature = "schema",
        schemars(length(min = 1, max = 100), pattern(crate::patterns::NAME))
    )]
    pub name: String,
    /// A lowercase domain name (WebAuthn RP ID): labels of a-z, 0-9 and inner hyphens.
    #[cfg_attr(
        feature = "schema",
        schemars(length(max = 253), pattern(crate::patterns::RP_ID))
    )]
    pub rp_id: String,
    /// https origins within `rp_id` (http only for localhost).
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = 20)))]
    pub origins: Vec<String>,
    /// The policy; the defaults when absent or null.
    #[serde(default)]
    pub policy: Option<Policy>,
}

/// The new tenant's secrets, shown this once.
// `Debug` hides both.
#[derive(Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TenantCredentials {
    pub id: TenantId,
    pub admin_key: String,
    pub ticket_secret: String,
}

impl std::fmt::Debug for TenantCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantCredentials")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A published token-signing key: the public JWK in clear, the private scalar sealed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKey {
    pub jwk: Jwk,
    sealed: Sealed,
    pub created_at: u64,
}

/// A rotated-out secret and the end of its overlap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousSecret {
    sealed: Sealed,
    until: u64,
}

/// A change to a tenant, applied at its ordering point (the tenant's Durable
/// Object; SQLite's write lock) by [`Tenant::apply`]. New secrets are made before,
/// by the caller, who shows them once: the change carries them sealed or hashed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantChange {
    SetPolicy(Policy),
    /// A new signing key signs from now on; the others stay published.
    RotateSigningKey(SigningKey),
    /// Only the current signing key stays published.
    RetireSigningKeys,
    /// A new ticket secret; the old one is accepted until `previous_until`.
    RotateTicketSecret {
        sealed: Sealed,
        previous_until: u64,
    },
    /// The previous ticket secret stops now.
    RetireTicketSecret,
    /// A new admin key (its SHA-256); the old one stops at once.
    RotateAdminKey {
        sha256: String,
    },
    /// The webhook's URL and events (an existing webhook keeps its secrets), or a
    /// first webhook, with the secret the caller made and shows once.
    SetWebhook(Webhook),
    /// A new webhook secret; the current one signs beside it until `until`.
    RotateWebhookSecret {
        sealed: Sealed,
        until: u64,
    },
    /// New name, relying-party id and origins, validated together.
    SetIdentity {
        name: String,
        rp_id: String,
        origins: Vec<String>,
        confirm_rp_id_change: bool,
        /// How long the audit log keeps events.
        #[serde(default = "default_retention")]
        audit_retention_days: u16,
    },
}

fn default_retention() -> u16 {
    crate::audit::DEFAULT_RETENTION_DAYS
}

impl TenantChange {
    /// Whether applying this to `tenant` needs [`UserFacts`] (changing `rp_id`).
    pub fn needs_user_facts(&self, tenant: &Tenant) -> bool {
        matches!(self, TenantChange::SetIdentity { rp_id, .. } if *rp_id != tenant.rp_id)
    }
}

/// A change with the admin key that asked for it (its SHA-256, as stored): the
/// ordering point applies it only if that is still the tenant's admin key, so a
/// rotated-out key cannot act on a copy read before the rotation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorisedChange {
    pub change: TenantChange,
    pub admin_key_sha256: String,
    /// The change's audit event, committed with it by the ordering point
    /// ([`AuthorisedChange::logged`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<crate::audit::AuditEvent>,
}

impl AuthorisedChange {
    /// The audit event to commit with the change, once applied as `after`: it
    /// names the version the change made.
    pub fn logged(&self, after: &Tenant) -> Option<crate::audit::AuditEvent> {
        self.event
            .clone()
            .map(|e| e.with_detail(serde_json::json!({ "version": after.version })))
    }
}

impl TenantChange {
    /// The audit event type of this change to `tenant`, and its detail: never a
    /// secret (a key's id at most, a webhook's host).
    pub fn audit(&self, tenant: &Tenant) -> (crate::audit::EventType, serde_json::Value) {
        use crate::audit::EventType;
        use serde_json::json;
        match self {
            TenantChange::SetPolicy(_) => (EventType::PolicyUpdated, json!({})),
            TenantChange::RotateSigningKey(key) => (
                EventType::KeyRotated,
                json!({ "key": "signing", "kid": key.jwk.kid }),
            ),
            TenantChange::RetireSigningKeys => (EventType::KeyRetired, json!({ "key": "signing" })),
            TenantChange::RotateTicketSecret { .. } => {
                (EventType::KeyRotated, json!({ "key": "ticket_secret" }))
            }
            TenantChange::RetireTicketSecret => {
                (EventType::KeyRetired, json!({ "key": "ticket_secret" }))
            }
            TenantChange::RotateAdminKey { .. } => {
                (EventType::KeyRotated, json!({ "key": "admin_key" }))
            }
            TenantChange::RotateWebhookSecret { .. } => {
                (EventType::KeyRotated, json!({ "key": "webhook_secret" }))
            }
            TenantChange::SetWebhook(webhook) => {
                let host = url::Url::parse(&webhook.url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_string));
                (
                    EventType::WebhookUpdated,
                    json!({ "host": host, "events": webhook.events }),
                )
            }
            TenantChange::SetIdentity {
                name,
                rp_id,
                origins,
                audit_retention_days,
                ..
            } => {
                let mut changed = Vec::new();
                if *name != tenant.name {
                    changed.push("name");
                }
                if *rp_id != tenant.rp_id {
                    changed.push("rp_id");
                }
                if *origins != tenant.origins {
                    changed.push("origins");
                }
                if *audit_retention_days != tenant.audit_retention_days {
                    changed.push("audit_retention_days");
                }
                (EventType::TenantUpdated, json!({ "changed": changed }))
            }
        }
    }
}

/// A new secret to show once, and the change that installs it.
#[derive(Debug)]
pub struct Rotation {
    pub change: TenantChange,
    /// The ticket secret or admin key, for the caller to show once; `None` for a
    /// signing key (its `kid` is public).
    pub shown: Option<crate::secret::Secret<String>>,
    /// The new signing key's `kid`, for a signing-key rotation.
    pub kid: Option<String>,
}

/// The stored tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub rp_id: String,
    pub origins: Vec<String>,
    pub policy: Policy,
    pub created_at: u64,
    admin_key_sha256: String,
    ticket_secret: Sealed,
    /// The ticket secret before the last rotation, accepted until `until`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous_ticket_secret: Option<PreviousSecret>,
    backup_code_pepper: Sealed,
    /// The first key signs; all are published, so a rotated-out key keeps
    /// verifying tokens it signed until they expire.
    signing_keys: Vec<SigningKey>,
    /// Counts the changes to this tenant (1 at creation). Its ordering point (the
    /// tenant's Durable Object, SQLite's write lock) assigns it, and the copy that
    /// requests read is only ever replaced by a higher one; shown as the policy's
    /// `ETag`.
    #[serde(default)]
    pub version: u64,
    /// Remembered devices carry the epoch they were made in, and only those of the
    /// current one count. Turning remembering off starts a new epoch, so tokens made
    /// before stay ended when it is turned on again — even one made by a request
    /// that still read an older copy of the tenant.
    #[serde(default)]
    pub devices_epoch: u64,
    /// Random, made at creation: a tenant deleted and created again under the same
    /// id is another incarnation, and nothing of the old one's users reaches it.
    /// Empty for tenants made before it existed.
    #[serde(default)]
    pub incarnation: String,
    /// Where codes and notifications go (API.md "Webhooks"), once an admin set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<Webhook>,
    /// How long the audit log keeps events, in days (1–365).
    #[serde(default = "default_retention")]
    pub audit_retention_days: u16,
}

/// `PATCH /v1/{tenant}/admin/tenant`: the fields to change.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TenantPatch {
    #[cfg_attr(
        feature = "schema",
        schemars(length(min = 1, max = 100), pattern(crate::patterns::NAME))
    )]
    pub name: Option<String>,
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = 20)))]
    pub origins: Option<Vec<String>>,
    /// A lowercase domain name (WebAuthn RP ID): labels of a-z, 0-9 and inner hyphens.
    #[cfg_attr(
        feature = "schema",
        schemars(length(max = 253), pattern(crate::patterns::RP_ID))
    )]
    pub rp_id: Option<String>,
    /// WebAuthn credentials are bound to the RP ID (WebAuthn §5.1.2): changing it
    /// while any exist strands them, so it takes this explicit yes.
    #[serde(default)]
    pub confirm_rp_id_change: bool,
    /// How long the audit log keeps events: 1–365 days.
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 365)))]
    pub audit_retention_days: Option<u16>,
}

/// What a tenant-wide check needs to know of the tenant's users, counted by the
/// runtime at the ordering point.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UserFacts {
    /// Users with at least one WebAuthn credential.
    pub webauthn_users: u64,
}

/// The name of what belongs to one incarnation of tenant `id` (its users' records,
/// its log): `id~incarnation`, or `id` alone for a tenant made before
/// incarnations existed. Tenant ids hold no `~` or `/`, so names are unambiguous,
/// and a deleted tenant's data never reaches a new tenant of the same id.
pub fn incarnation_scope(id: &TenantId, incarnation: &str) -> String {
    if incarnation.is_empty() {
        id.to_string()
    } else {
        format!("{id}~{incarnation}")
    }
}

impl Tenant {
    /// [`incarnation_scope`] of this tenant.
    pub fn scope(&self) -> String {
        incarnation_scope(&self.id, &self.incarnation)
    }

    /// Validates `new`, creates every key, and returns the tenant with the
    /// credentials to hand to the operator once.
    pub fn create(
        new: NewTenant,
        capabilities: Capabilities,
        master: &MasterKey,
        env: &mut Env<'_>,
    ) -> Result<(Tenant, TenantCredentials), CoreError> {
        let name = validate_identity(&new.name, &new.rp_id, &new.origins)?;
        let policy = new.policy.unwrap_or_default();
        policy.validate().map_err(invalid)?;
        policy.check_usable(capabilities).map_err(invalid)?;

        let id = new.id;
        let admin_key = format!("ak_{}", edge_mfa_jose::b64url_encode(&env.bytes::<32>()));
        let ticket_secret = edge_mfa_jose::b64url_encode(&env.bytes::<32>());
        let pepper = env.bytes::<32>();
        let signing_key = new_signing_key(&id, master, env);
        let tenant = Tenant {
            admin_key_sha256: sha256_b64(admin_key.as_bytes()),
            ticket_secret: master.seal(
                &context("ticket-secret", &id),
                ticket_secret.as_bytes(),
                env,
            ),
            previous_ticket_secret: None,
            backup_code_pepper: master.seal(&context("backup-code-pepper", &id), &pepper, env),
            signing_keys: vec![signing_key],
            id: id.clone(),
            name,
            rp_id: new.rp_id,
            origins: new.origins,
            policy,
            created_at: env.now,
            version: 1,
            devices_epoch: 0,
            incarnation: crate::ids::random_id(env),
            webhook: None,
            audit_retention_days: crate::audit::DEFAULT_RETENTION_DAYS,
        };
        Ok((
            tenant,
            TenantCredentials {
                id,
                admin_key,
                ticket_secret,
            },
        ))
    }

    /// The same tenant under another policy (keys and identity unchanged), one
    /// version later. Turning remembered devices off ends every token so far.
    pub fn with_policy(self, mut policy: Policy) -> Tenant {
        let turned_off = self.policy.remember_device.enabled && !policy.remember_device.enabled;
        // A webhook still in the old policy survives to move to its resource
        // ([`Tenant::resealed`]), whatever the new policy says.
        policy.delivery.webhook_url = self.policy.delivery.webhook_url.clone();
        policy.delivery.webhook_secret = self.policy.delivery.webhook_secret.clone();
        Tenant {
            policy,
            version: self.version.saturating_add(1),
            devices_epoch: self.devices_epoch + u64::from(turned_off),
            ..self
        }
    }

    /// A new signing key for this tenant.
    pub fn rotate_signing_key(&self, master: &MasterKey, env: &mut Env<'_>) -> Rotation {
        let key = new_signing_key(&self.id, master, env);
        Rotation {
            kid: Some(key.jwk.kid.clone()),
            change: TenantChange::RotateSigningKey(key),
            shown: None,
        }
    }

    /// A new ticket secret, the old one accepted for [`TICKET_SECRET_OVERLAP`].
    pub fn rotate_ticket_secret(&self, master: &MasterKey, env: &mut Env<'_>) -> Rotation {
        let secret = edge_mfa_jose::b64url_encode(&env.bytes::<32>());
        let sealed = master.seal(&context("ticket-secret", &self.id), secret.as_bytes(), env);
        Rotation {
            change: TenantChange::RotateTicketSecret {
                sealed,
                previous_until: env.now + TICKET_SECRET_OVERLAP,
            },
            shown: Some(secret.into()),
            kid: None,
        }
    }

    /// A new admin key; the old one stops when the change is applied.
    pub fn rotate_admin_key(env: &mut Env<'_>) -> Rotation {
        let admin_key = format!("ak_{}", edge_mfa_jose::b64url_encode(&env.bytes::<32>()));
        Rotation {
            change: TenantChange::RotateAdminKey {
                sha256: sha256_b64(admin_key.as_bytes()),
            },
            shown: Some(admin_key.into()),
            kid: None,
        }
    }

    /// `authorised.change` applied if `authorised` names this tenant's current
    /// admin key (else `Unauthorized`, nothing changed). `facts` are read only when
    /// [`TenantChange::needs_user_facts`].
    pub fn apply_authorised(
        self,
        authorised: AuthorisedChange,
        facts: UserFacts,
    ) -> Result<Tenant, CoreError> {
        let given = authorised.admin_key_sha256.as_bytes();
        if !bool::from(given.ct_eq(self.admin_key_sha256.as_bytes())) {
            return Err(CoreError::Unauthorized(
                "the admin key is no longer this tenant's".into(),
            ));
        }
        self.apply(authorised.change, facts)
    }

    /// The change that `patch` asks for: the identity after it, validated as at
    /// creation (origins within the new `rp_id`).
    pub fn identity_change(&self, patch: TenantPatch) -> Result<TenantChange, CoreError> {
        let name = patch.name.unwrap_or_else(|| self.name.clone());
        let rp_id = patch.rp_id.unwrap_or_else(|| self.rp_id.clone());
        let origins = patch.origins.unwrap_or_else(|| self.origins.clone());
        let name = validate_identity(&name, &rp_id, &origins)?;
        let audit_retention_days = patch
            .audit_retention_days
            .unwrap_or(self.audit_retention_days);
        if !(1..=crate::audit::MAX_RETENTION_DAYS).contains(&audit_retention_days) {
            return Err(invalid(format!(
                "audit_retention_days must be 1-{}",
                crate::audit::MAX_RETENTION_DAYS
            )));
        }
        Ok(TenantChange::SetIdentity {
            name,
            rp_id,
            origins,
            confirm_rp_id_change: patch.confirm_rp_id_change,
            audit_retention_days,
        })
    }

    /// The stored form of a presented admin key (SHA-256, base64url).
    pub fn admin_key_hash(presented: &str) -> String {
        sha256_b64(presented.as_bytes())
    }

    /// `change` applied: the tenant one version later. Refused (`Conflict`) when a
    /// rotation would publish more than [`MAX_SIGNING_KEYS`], and when `rp_id`
    /// would change under WebAuthn credentials without `confirm_rp_id_change`.
    pub fn apply(self, change: TenantChange, facts: UserFacts) -> Result<Tenant, CoreError> {
        let mut next = match change {
            TenantChange::SetWebhook(webhook) => {
                let webhook = match self.webhook.clone() {
                    Some(current) => current.with_target(webhook.url, webhook.events),
                    None => webhook,
                };
                Tenant {
                    webhook: Some(webhook),
                    ..self
                }
            }
            TenantChange::RotateWebhookSecret { sealed, until } => {
                let Some(current) = self.webhook.clone() else {
                    return Err(CoreError::NotFound(
                        "the tenant has no webhook: PUT /admin/webhook first".into(),
                    ));
                };
                Tenant {
                    webhook: Some(current.rotated_to(sealed, until)),
                    ..self
                }
            }
            TenantChange::SetIdentity {
                name,
                rp_id,
                origins,
                confirm_rp_id_change,
                audit_retention_days,
            } => {
                if rp_id != self.rp_id && facts.webauthn_users > 0 && !confirm_rp_id_change {
                    return Err(CoreError::Conflict(format!(
                        "{} users have WebAuthn credentials bound to rp_id {:?}; they stop working under another rp_id: send confirm_rp_id_change: true to change it anyway",
                        facts.webauthn_users, self.rp_id
                    )));
                }
                Tenant {
                    name,
                    rp_id,
                    origins,
                    audit_retention_days,
                    ..self
                }
            }
            TenantChange::SetPolicy(policy) => return Ok(self.with_policy(policy)),
            TenantChange::RotateSigningKey(key) => {
                if self.signing_keys.len() >= MAX_SIGNING_KEYS {
                    return Err(CoreError::Conflict(format!(
                        "at most {MAX_SIGNING_KEYS} signing keys are published: retire the previous ones first"
                    )));
                }
                let mut keys = vec![key];
                keys.extend(self.signing_keys.iter().cloned());
                Tenant {
                    signing_keys: keys,
                    ..self
                }
            }
            TenantChange::RetireSigningKeys => {
                let mut t = self;
                t.signing_keys.truncate(1);
                t
            }
            TenantChange::RotateTicketSecret {
                sealed,
                previous_until,
            } => {
                let previous = PreviousSecret {
                    sealed: self.ticket_secret.clone(),
                    until: previous_until,
                };
                Tenant {
                    ticket_secret: sealed,
                    previous_ticket_secret: Some(previous),
                    ..self
                }
            }
            TenantChange::RetireTicketSecret => Tenant {
                previous_ticket_secret: None,
                ..self
            },
            TenantChange::RotateAdminKey { sha256 } => Tenant {
                admin_key_sha256: sha256,
                ..self
            },
        };
        next.version = next.version.saturating_add(1);
        Ok(next)
    }

    /// Every sealed secret of the tenant sealed under the current master key
    /// (after a `MASTER_KEY` rotation); the tenant unchanged if they all are.
    pub fn resealed(mut self, master: &MasterKey, env: &mut Env<'_>) -> Tenant {
        let id = self.id.clone();
        let ticket = context("ticket-secret", &id);
        if let Some(s) = master.reseal(&ticket, &self.ticket_secret, env) {
            self.ticket_secret = s;
        }
        if let Some(previous) = &mut self.previous_ticket_secret
            && let Some(s) = master.reseal(&ticket, &previous.sealed, env)
        {
            previous.sealed = s;
        }
        let pepper = context("backup-code-pepper", &id);
        if let Some(s) = master.reseal(&pepper, &self.backup_code_pepper, env) {
            self.backup_code_pepper = s;
        }
        if let Some(webhook) = self.webhook.take() {
            self.webhook = Some(webhook.resealed(&id, master, env));
        }
        // A webhook set in the policy before it had its own resource moves there,
        // its secret sealed at last.
        let delivery = &mut self.policy.delivery;
        if let (Some(url), Some(secret)) =
            (delivery.webhook_url.take(), delivery.webhook_secret.take())
            && self.webhook.is_none()
        {
            let events = crate::webhook::EVENT_TYPES
                .iter()
                .map(|e| e.to_string())
                .collect();
            self.webhook = Some(Webhook::new(&id, url, events, &secret, master, env));
        }
        for key in &mut self.signing_keys {
            let signing = signing_context(&id, &key.jwk.kid);
            if let Some(s) = master.reseal(&signing, &key.sealed, env) {
                key.sealed = s;
            }
        }
        self
    }

    /// Until when the ticket secret before the last rotation is still accepted.
    pub fn previous_ticket_secret_until(&self) -> Option<u64> {
        self.previous_ticket_secret.as_ref().map(|p| p.until)
    }

    /// Constant-time check of a presented admin key.
    pub fn admin_key_matches(&self, presented: &str) -> bool {
        let presented = sha256_b64(presented.as_bytes());
        bool::from(presented.as_bytes().ct_eq(self.admin_key_sha256.as_bytes()))
    }

    /// The HS256 key of tickets: the bytes of the `ticket_secret` string, as JWT
    /// libraries use a string secret.
    pub fn ticket_secret(&self, master: &MasterKey) -> Result<Vec<u8>, CoreError> {
        master
            .open(&context("ticket-secret", &self.id), &self.ticket_secret)
            .map_err(|_| {
                CoreError::Internal(master.explain_unopenable(
                    &format!("tenant {}'s ticket secret", self.id),
                    &self.ticket_secret,
                ))
            })
    }

    /// The ticket secrets accepted at `now`: the current one, then the previous one
    /// while its overlap lasts. A previous secret that does not open is left out
    /// (tickets under the current one keep working); the current one must open.
    pub fn ticket_secrets(&self, master: &MasterKey, now: u64) -> Result<Vec<Vec<u8>>, CoreError> {
        let mut secrets = vec![self.ticket_secret(master)?];
        if let Some(previous) = self
            .previous_ticket_secret
            .as_ref()
            .filter(|p| p.until > now)
            && let Ok(secret) = master.open(&context("ticket-secret", &self.id), &previous.sealed)
        {
            secrets.push(secret);
        }
        Ok(secrets)
    }

    pub fn backup_code_pepper(&self, master: &MasterKey) -> Result<Vec<u8>, CoreError> {
        master
            .open(
                &context("backup-code-pepper", &self.id),
                &self.backup_code_pepper,
            )
            .map_err(|_| {
                CoreError::Internal(master.explain_unopenable(
                    &format!("tenant {}'s backup-code pepper", self.id),
                    &self.backup_code_pepper,
                ))
            })
    }

    /// The current signing key, opened only when the signature port needs its
    /// scalar (RustCrypto: every signature; the Worker: once per isolate).
    pub fn signer<'a>(&'a self, master: &'a MasterKey) -> Result<TokenSigner<'a>, CoreError> {
        let key = self.current_signing_key()?;
        let context = signing_context(&self.id, &key.jwk.kid);
        let open = move || {
            let scalar = Zeroizing::new(master.open(&context, &key.sealed).ok()?);
            <[u8; 32]>::try_from(scalar.as_slice())
                .ok()
                .map(Zeroizing::new)
        };
        let id = format!("{}|{}", self.scope(), key.jwk.kid);
        TokenSigner::new(key.jwk.clone(), id, open)
            .ok_or_else(|| CoreError::Internal("signing key is invalid".into()))
    }

    /// The key new tokens are signed with: the first published one.
    fn current_signing_key(&self) -> Result<&SigningKey, CoreError> {
        self.signing_keys
            .first()
            .ok_or_else(|| CoreError::Internal("tenant has no signing key".into()))
    }

    /// `claims` as an `mfa_token` signed with the current key through `crypto`.
    /// `Internal` (with the reason, for the operator's log) if the key cannot be
    /// opened under `master`.
    pub fn sign_token(
        &self,
        master: &MasterKey,
        crypto: &dyn Crypto,
        claims: &MfaTokenClaims,
    ) -> Result<String, CoreError> {
        let key = self.current_signing_key()?;
        self.signer(master)?.sign(crypto, claims).map_err(|e| {
            let what = format!("tenant {}'s signing key {}", self.id, key.jwk.kid);
            CoreError::Internal(match e {
                JoseError::KeyUnopenable => master.explain_unopenable(&what, &key.sealed),
                _ => format!("{what} opened, but the signature port could not sign with it ({e})"),
            })
        })
    }

    /// Verifiers for every published key, from their public JWKs (no secret is
    /// opened): what step-up checks `mfa_token`s with.
    pub fn verifiers(&self) -> Vec<TokenVerifier> {
        self.signing_keys
            .iter()
            .filter_map(|k| TokenVerifier::from_jwk(&k.jwk))
            .collect()
    }

    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: self.signing_keys.iter().map(|k| k.jwk.clone()).collect(),
        }
    }

    /// Whether `origin` is exactly one of the tenant's origins (CORS, WebAuthn).
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o == origin)
    }
}

fn new_signing_key(id: &TenantId, master: &MasterKey, env: &mut Env<'_>) -> SigningKey {
    // A random 32-byte string is a valid P-256 scalar except with probability ~2^-32.
    loop {
        let scalar = Zeroizing::new(env.bytes::<32>());
        if let Some(jwk) = edge_mfa_jose::public_jwk(scalar.as_slice()) {
            let sealed = master.seal(&signing_context(id, &jwk.kid), scalar.as_slice(), env);
            return SigningKey {
                jwk,
                sealed,
                created_at: env.now,
            };
        }
    }
}

fn context(purpose: &str, id: &TenantId) -> String {
    format!("{purpose}|{id}")
}

fn signing_context(id: &TenantId, kid: &str) -> String {
    format!("signing-key|{id}|{kid}")
}

fn sha256_b64(bytes: &[u8]) -> String {
    edge_mfa_jose::b64url_encode(&Sha256::digest(bytes))
}

fn invalid(message: impl Into<String>) -> CoreError {
    CoreError::InvalidRequest(message.into())
}

/// The checks of a tenant's name, RP ID and origins; the trimmed name. The
/// name's length counts characters as sent, as the document's `maxLength` does.
pub(crate) fn validate_identity(
    name: &str,
    rp_id: &str,
    origins: &[String],
) -> Result<String, CoreError> {
    let sent = name.chars().count();
    let name = name.trim().to_string();
    // It is the issuer users see in their authenticator app and in code messages.
    if name.is_empty() || sent > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(invalid(format!(
            "name must be 1-{MAX_NAME_CHARS} printable characters"
        )));
    }
    validate_rp_id(rp_id)?;
    if origins.is_empty() || origins.len() > MAX_ORIGINS {
        return Err(invalid(format!(
            "origins must list 1-{MAX_ORIGINS} origins"
        )));
    }
    for origin in origins {
        validate_origin(origin, rp_id)?;
    }
    Ok(name)
}

/// A WebAuthn RP ID is a domain (WebAuthn §5.1.2 "RP ID"): lowercase labels, no
/// scheme, port or path.
fn validate_rp_id(rp_id: &str) -> Result<(), CoreError> {
    let ok = !rp_id.is_empty()
        && rp_id.len() <= 253
        && rp_id.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "rp_id must be a lowercase domain name such as app.example.com",
        ))
    }
}

/// An origin is `scheme://host[:port]`: https, or http for localhost only (a
/// secure context, as WebAuthn requires). Its host must be the RP ID or below it.
fn validate_origin(origin: &str, rp_id: &str) -> Result<(), CoreError> {
    let bad = || {
        invalid(format!(
            "origin {origin:?} must be https://host[:port] (http only for localhost) within rp_id {rp_id:?}"
        ))
    };
    let (scheme, rest) = origin.split_once("://").ok_or_else(bad)?;
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            (h, Some(p))
        }
        Some(_) => return Err(bad()),
        None => (rest, None),
    };
    if port.is_some_and(|p| p.parse::<u16>().is_err()) || validate_rp_id(host).is_err() {
        return Err(bad());
    }
    let secure = scheme == "https"
        || (scheme == "http" && (host == "localhost" || host.ends_with(".localhost")));
    let within = host == rp_id || host.ends_with(&format!(".{rp_id}"));
    if secure && within { Ok(()) } else { Err(bad()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::SeededRandom;

    fn new_tenant(origins: &[&str], rp_id: &str) -> NewTenant {
        NewTenant {
            id: TenantId::try_from("acme".to_string()).unwrap(),
            name: "ACME".into(),
            rp_id: rp_id.into(),
            origins: origins.iter().map(|s| s.to_string()).collect(),
            policy: None,
        }
    }

    /// Tenant "acme" at `https://app.acme.test`, with its credentials.
    fn acme(master: &MasterKey, env: &mut Env<'_>) -> (Tenant, TenantCredentials) {
        let new = new_tenant(&["https://app.acme.test"], "acme.test");
        let capabilities = Capabilities {
            country: true,
            webhook: false,
        };
        Tenant::create(new, capabilities, master, env).unwrap()
    }

    #[test]
    fn a_name_counts_its_characters_as_sent() {
        // Found by schemathesis: 101 characters, 100 of them whitespace that the
        // trim drops, passed a bound the document states as maxLength 100.
        let master = MasterKey::from_bytes(&[1u8; 32]).unwrap();
        let mut rng = SeededRandom::new(8);
        let mut env = Env::new(1000, &mut rng);
        let capabilities = Capabilities {
            country: true,
            webhook: false,
        };
        let padded = format!("\u{85}0{}", "\u{85}".repeat(99));
        let mut new = new_tenant(&["https://app.acme.test"], "acme.test");
        new.name = padded.clone();
        assert!(Tenant::create(new, capabilities, &master, &mut env).is_err());
        let (tenant, _) = acme(&master, &mut env);
        let patch = TenantPatch {
            name: Some(padded),
            ..TenantPatch::default()
        };
        assert!(tenant.identity_change(patch).is_err());
        // Exactly 100 as sent, trimmed to one: accepted, stored trimmed.
        let mut new = new_tenant(&["https://app.acme.test"], "acme.test");
        new.name = format!("\u{85}0{}", "\u{85}".repeat(98));
        let (created, _) = Tenant::create(new, capabilities, &master, &mut env).unwrap();
        assert_eq!(created.name, "0");
    }

    #[test]
    fn a_change_applies_only_as_the_current_admin_key() {
        let master = MasterKey::from_bytes(&[1u8; 32]).unwrap();
        let mut rng = SeededRandom::new(8);
        let mut env = Env::new(1000, &mut rng);
        let (tenant, creds) = acme(&master, &mut env);
        let rotation = Tenant::rotate_admin_key(&mut env);
        let as_admin = |key: &str, change: TenantChange| AuthorisedChange {
            change,
            admin_key_sha256: Tenant::admin_key_hash(key),
            event: None,
        };
        let rotated = tenant
            .apply_authorised(
                as_admin(&creds.admin_key, rotation.change),
                UserFacts::default(),
            )
            .unwrap();
        let new_key = rotation.shown.unwrap().expose().clone();
        assert!(rotated.admin_key_matches(&new_key));
        assert!(!rotated.admin_key_matches(&creds.admin_key));
        // The old key, presented to a copy read before the rotation, changes nothing.
        assert_eq!(
            rotated.clone().apply_authorised(
                as_admin(&creds.admin_key, TenantChange::RetireSigningKeys),
                UserFacts::default()
            ),
            Err(CoreError::Unauthorized(
                "the admin key is no longer this tenant's".into()
            ))
        );
        assert!(
            rotated
                .apply_authorised(
                    as_admin(&new_key, TenantChange::RetireSigningKeys),
                    UserFacts::default()
                )
                .is_ok()
        );
    }

    #[test]
    fn identity_changes_are_validated_and_guard_webauthn_credentials() {
        let master = MasterKey::from_bytes(&[1u8; 32]).unwrap();
        let mut rng = SeededRandom::new(9);
        let mut env = Env::new(1000, &mut rng);
        let (tenant, _) = acme(&master, &mut env);
        // Origins must stay within the rp_id, new or old.
        let outside = TenantPatch {
            origins: Some(vec!["https://evil.test".into()]),
            ..TenantPatch::default()
        };
        assert!(tenant.identity_change(outside).is_err());
        let renamed = tenant
            .identity_change(TenantPatch {
                name: Some("  ACME Corp ".into()),
                ..TenantPatch::default()
            })
            .unwrap();
        assert!(!renamed.needs_user_facts(&tenant));
        let t = tenant.clone().apply(renamed, UserFacts::default()).unwrap();
        assert_eq!((t.name.as_str(), t.version), ("ACME Corp", 2));
        // A new rp_id strands WebAuthn credentials: only with an explicit yes.
        let move_to = |confirm| TenantPatch {
            rp_id: Some("acme.example".into()),
            origins: Some(vec!["https://login.acme.example".into()]),
            confirm_rp_id_change: confirm,
            ..TenantPatch::default()
        };
        let change = tenant.identity_change(move_to(false)).unwrap();
        assert!(change.needs_user_facts(&tenant));
        let with_keys = UserFacts { webauthn_users: 3 };
        assert!(matches!(
            tenant.clone().apply(change.clone(), with_keys),
            Err(CoreError::Conflict(_))
        ));
        assert!(tenant.clone().apply(change, UserFacts::default()).is_ok());
        let confirmed = tenant.identity_change(move_to(true)).unwrap();
        let moved = tenant.clone().apply(confirmed, with_keys).unwrap();
        assert_eq!(moved.rp_id, "acme.example");
        assert_eq!(moved.incarnation, tenant.incarnation, "same tenant");
    }

    #[test]
    fn a_webhook_in_the_old_policy_moves_to_the_webhook_resource_sealed() {
        let master = MasterKey::from_bytes(&[1u8; 32]).unwrap();
        let mut rng = SeededRandom::new(11);
        let mut env = Env::new(1000, &mut rng);
        let (tenant, _) = acme(&master, &mut env);
        // As a tenant stored before the webhook resource existed reads.
        let mut stored = serde_json::to_value(&tenant).unwrap();
        stored["policy"]["delivery"] = serde_json::json!({
            "webhook_url": "https://hooks.acme.test/mfa",
            "webhook_secret": "whsec_c2VjcmV0LXdlYmhvb2stc2VjcmV0"
        });
        let old: Tenant = serde_json::from_value(stored).unwrap();
        assert!(old.webhook.is_none());
        let changed = old
            .apply(
                TenantChange::SetPolicy(Policy::default()),
                UserFacts::default(),
            )
            .unwrap()
            .resealed(&master, &mut env);
        let hook = changed.webhook.as_ref().unwrap();
        assert_eq!(hook.url, "https://hooks.acme.test/mfa");
        let json = serde_json::to_string(&changed).unwrap();
        assert!(
            !json.contains("c2VjcmV0LXdlYmhvb2stc2VjcmV0"),
            "sealed, not stored in clear"
        );
        assert!(!json.contains("webhook_url"), "gone from the policy");
    }

    #[test]
    fn creates_keys_that_open_and_hides_secrets() {
        let master = MasterKey::from_bytes(&[1u8; 32]).unwrap();
        let mut rng = SeededRandom::new(7);
        let mut env = Env::new(1000, &mut rng);
        let (tenant, creds) = acme(&master, &mut env);
        assert!(tenant.admin_key_matches(&creds.admin_key));
        assert!(!tenant.admin_key_matches("ak_wrong"));
        assert_eq!(
            tenant.ticket_secret(&master).unwrap(),
            creds.ticket_secret.as_bytes()
        );
        assert_eq!(tenant.backup_code_pepper(&master).unwrap().len(), 32);
        let signer = tenant.signer(&master).unwrap();
        assert_eq!(tenant.jwks().keys, vec![signer.jwk().clone()]);
        let stored = serde_json::to_string(&tenant).unwrap();
        assert!(!stored.contains(&creds.admin_key) && !stored.contains(&creds.ticket_secret));
        assert!(!format!("{creds:?}").contains(&creds.admin_key));
        // Another deployment's master key opens nothing.
        let other = MasterKey::from_bytes(&[2u8; 32]).unwrap();
        assert!(tenant.ticket_secret(&other).is_err());
        let claims = MfaTokenClaims {
            iss: MfaTokenClaims::issuer_for("acme"),
            aud: "acme".into(),
            sub: "u".into(),
            iat: 1000,
            exp: 1300,
            auth_time: 1000,
            jti: "j".into(),
            amr: vec![],
            mfa_method: "none".into(),
            acr: "0".into(),
        };
        let token = tenant.sign_token(&master, env.crypto, &claims).unwrap();
        let verifier = &tenant.verifiers()[0];
        assert_eq!(
            verifier.verify(env.crypto, &token, "acme", 1100).unwrap(),
            claims
        );
        let refused = tenant.sign_token(&other, env.crypto, &claims).unwrap_err();
        assert!(
            matches!(&refused, CoreError::Internal(why) if why.contains("signing key")),
            "{refused:?}"
        );
    }

    #[test]
    fn origins_must_be_secure_and_within_the_rp_id() {
        let master = MasterKey::from_bytes(&[1u8; 32]).unwrap();
        let mut rng = SeededRandom::new(7);
        let mut env = Env::new(1000, &mut rng);
        for (origins, rp_id) in [
            (vec!["https://app.acme.test"], "acme.test"),
            (vec!["https://acme.test:8443"], "acme.test"),
            (vec!["http://localhost:8787"], "localhost"),
        ] {
            assert!(
                Tenant::create(
                    new_tenant(&origins, rp_id),
                    Capabilities {
                        country: true,
                        webhook: false,
                    },
                    &master,
                    &mut env
                )
                .is_ok(),
                "{origins:?}"
            );
        }
        for (origins, rp_id) in [
            (vec!["http://app.acme.test"], "acme.test"),
            (vec!["https://evil.test"], "acme.test"),
            (vec!["https://notacme.test"], "acme.test"),
            (vec!["https://app.acme.test/path"], "acme.test"),
            (vec!["https://app.acme.test:99999"], "acme.test"),
            (vec!["app.acme.test"], "acme.test"),
            (vec![], "acme.test"),
            (vec!["https://acme.test"], "https://acme.test"),
            (vec!["https://ACME.test"], "acme.test"),
        ] {
            assert!(
                Tenant::create(
                    new_tenant(&origins, rp_id),
                    Capabilities {
                        country: true,
                        webhook: false,
                    },
                    &master,
                    &mut env
                )
                .is_err(),
                "{origins:?} {rp_id}"
            );
        }
    }
}
