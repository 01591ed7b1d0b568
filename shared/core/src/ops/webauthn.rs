//! WebAuthn factors: creation options, registration (§7.1) and assertions (§7.2),
//! with the ceremony's challenge kept server-side in the user's record.

use edge_mfa_webauthn::json::{
    AuthenticationResponseJson, AuthenticatorSelection, CreationOptionsJson, CredentialDescriptor,
    CredentialParameters, RegistrationResponseJson, RequestOptionsJson, RpEntity, UserEntity,
    b64url, from_b64url,
};
use edge_mfa_webauthn::{
    AuthenticationCeremony, RegisteredCredential, RegistrationCeremony, StoredCredential,
    TrustAnchors, WebauthnError, verify_authentication, verify_registration,
};

use super::{Ctx, factor_name, find_challenge, invalid, succeeded};
use crate::command::{Outcome, Verified};
use crate::env::Env;
use crate::error::CoreError;
use crate::ids::random_id;
use crate::policy::Method;
use crate::user::{
    Factor, FactorKind, PendingEnrollment, PendingKind, UserRecord, WEBAUTHN_CEREMONY_LIFETIME,
    WebauthnCeremony, WebauthnFactor,
};

/// What browsers get as `timeout`, in milliseconds: the ceremony's lifetime.
const TIMEOUT_MS: u64 = WEBAUTHN_CEREMONY_LIFETIME * 1000;

pub(super) fn refused(e: WebauthnError) -> CoreError {
    match e {
        // The request is not a credential at all: a client bug, not a wrong answer.
        WebauthnError::Base64(_) | WebauthnError::CredentialJson(_) => {
            CoreError::InvalidRequest(e.describe())
        }
        WebauthnError::CredentialAlreadyRegistered => CoreError::Conflict(e.describe()),
        _ => CoreError::VerificationFailed(format!("WebAuthn: {}", e.describe())),
    }
}

fn user_verification_required(ctx: &Ctx<'_>) -> bool {
    ctx.tenant.policy.webauthn.user_verification == "required"
}

fn credentials(
    record: &UserRecord,
) -> impl Iterator<Item = (&crate::user::Factor, &WebauthnFactor)> {
    record.factors.iter().filter_map(|f| match &f.kind {
        FactorKind::Webauthn(w) => Some((f, w)),
        _ => None,
    })
}

pub(super) fn decode(stored: &str) -> Result<Vec<u8>, CoreError> {
    from_b64url(stored, "stored")
        .map_err(|_| CoreError::Internal("stored WebAuthn bytes do not decode".into()))
}

/// The credential record (W3C WebAuthn L3 §4 "Credential Record") a verified
/// registration makes, as a passkey factor or a push factor's Approver keeps it.
pub(super) fn credential_record(registered: RegisteredCredential) -> WebauthnFactor {
    WebauthnFactor {
        credential_id: b64url(&registered.id),
        public_key: b64url(&registered.public_key),
        algorithm: registered.algorithm,
        sign_count: registered.sign_count,
        backup_eligible: registered.backup_eligible,
        backup_state: registered.backup_state,
        aaguid: uuid(&registered.aaguid),
        transports: registered.transports,
        attestation_format: registered.attestation_format,
        user_verified: registered.user_verified,
    }
}

fn uuid(bytes: &[u8; 16]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let part = |r: std::ops::Range<usize>| hex.get(r).unwrap_or_default().to_string();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

pub(super) fn enroll(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    name: Option<String>,
    user_name: &str,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    let name = factor_name(name, "Security key")?;
    let policy = &ctx.tenant.policy.webauthn;
    let handle = record.webauthn_handle(env);
    let challenge = b64url(&env.bytes::<32>());
    let exclude_credentials = credentials(record)
        .map(|(_, w)| {
            Ok(CredentialDescriptor::new(
                &decode(&w.credential_id)?,
                &w.transports,
            ))
        })
        .collect::<Result<Vec<_>, CoreError>>()?;
    let options = CreationOptionsJson {
        rp: RpEntity {
            id: ctx.tenant.rp_id.clone(),
            name: ctx.tenant.name.clone(),
        },
        user: UserEntity {
            id: handle,
            name: user_name.to_string(),
            display_name: user_name.to_string(),
        },
        challenge: challenge.clone(),
        pub_key_cred_params: policy
            .algorithms
            .iter()
            .map(|&alg| CredentialParameters {
                type_: "public-key".into(),
                alg,
            })
            .collect(),
        timeout: TIMEOUT_MS,
        exclude_credentials,
        authenticator_selection: AuthenticatorSelection {
            resident_key: "preferred".into(),
            require_resident_key: false,
            user_verification: policy.user_verification.clone(),
        },
        attestation: policy.attestation.clone(),
    };
    let id = random_id(env);
    let expires_at = env.now + WEBAUTHN_CEREMONY_LIFETIME;
    record.pending.push(PendingEnrollment {
        id: id.clone(),
        name,
        created_at: env.now,
        expires_at,
        kind: PendingKind::Webauthn(WebauthnCeremony {
            challenge,
            user_verification_required: user_verification_required(ctx),
            algorithms: policy.algorithms.clone(),
            allow_credentials: Vec::new(),
        }),
    });
    Ok(Outcome::WebauthnEnrollment {
        enrollment_id: id,
        public_key: Box::new(options),
        expires_at,
    })
}

pub(super) fn confirm(
    record: &UserRecord,
    ctx: &Ctx<'_>,
    pending: &PendingEnrollment,
    ceremony: &WebauthnCeremony,
    credential: &RegistrationResponseJson,
    env: &mut Env<'_>,
) -> Result<Factor, CoreError> {
    let challenge = decode(&ceremony.challenge)?;
    let roots = ctx
        .tenant
        .policy
        .webauthn
        .attestation_roots_der()
        .map_err(CoreError::Internal)?;
    let trust_anchors = (!roots.is_empty()).then_some(TrustAnchors {
        roots: &roots,
        now: env.now,
    });
    let existing = credentials(record)
        .map(|(_, w)| decode(&w.credential_id))
        .collect::<Result<Vec<_>, _>>()?;
    let registered = verify_registration(
        env.crypto,
        &RegistrationCeremony {
            challenge: &challenge,
            rp_id: &ctx.tenant.rp_id,
            origins: &ctx.tenant.origins,
            user_verification_required: ceremony.user_verification_required,
            algorithms: &ceremony.algorithms,
            existing: &existing,
            trust_anchors,
        },
        credential,
    )
    .map_err(refused)?;
    Ok(Factor {
        id: random_id(env),
        name: pending.name.clone(),
        created_at: env.now,
        last_used_at: None,
        kind: FactorKind::Webauthn(credential_record(registered)),
    })
}

/// PublicKeyCredentialRequestOptionsJSON for the user's credentials (or one factor's).
pub(super) fn request_options(
    record: &UserRecord,
    ctx: &Ctx<'_>,
    factor_id: Option<&str>,
    env: &mut Env<'_>,
) -> (WebauthnCeremony, RequestOptionsJson) {
    let challenge = b64url(&env.bytes::<32>());
    let chosen: Vec<&WebauthnFactor> = credentials(record)
        .filter(|(f, _)| factor_id.is_none_or(|id| f.id == id))
        .map(|(_, w)| w)
        .collect();
    let allow_credentials = chosen
        .iter()
        .filter_map(|w| {
            from_b64url(&w.credential_id, "stored")
                .ok()
                .map(|id| CredentialDescriptor::new(&id, &w.transports))
        })
        .collect();
    let options = RequestOptionsJson {
        challenge: challenge.clone(),
        timeout: TIMEOUT_MS,
        rp_id: ctx.tenant.rp_id.clone(),
        allow_credentials,
        user_verification: ctx.tenant.policy.webauthn.user_verification.clone(),
    };
    let ceremony = WebauthnCeremony {
        challenge,
        user_verification_required: user_verification_required(ctx),
        algorithms: Vec::new(),
        allow_credentials: chosen.iter().map(|w| w.credential_id.clone()).collect(),
    };
    (ceremony, options)
}

pub(super) fn verify(
    record: &mut UserRecord,
    ctx: &Ctx<'_>,
    challenge_id: &str,
    credential: &AuthenticationResponseJson,
    env: &mut Env<'_>,
) -> Result<Outcome, CoreError> {
    let (challenge_index, challenge) = find_challenge(record, challenge_id)?;
    let ceremony = challenge
        .webauthn
        .clone()
        .ok_or_else(|| invalid("this challenge is answered with a code, not a credential"))?;
    let challenge_bytes = decode(&ceremony.challenge)?;
    let allow = ceremony
        .allow_credentials
        .iter()
        .map(|id| decode(id))
        .collect::<Result<Vec<_>, _>>()?;
    let handle = record
        .webauthn_user_handle
        .as_deref()
        .map(decode)
        .transpose()?
        .unwrap_or_default();

    // The user's credentials, decoded once: (factor index, id, COSE key).
    let mut indices = Vec::new();
    let mut decoded = Vec::new();
    for (i, factor) in record.factors.iter().enumerate() {
        if let FactorKind::Webauthn(w) = &factor.kind {
            indices.push(i);
            decoded.push((
                decode(&w.credential_id)?,
                decode(&w.public_key)?,
                w.sign_count,
                w.backup_eligible,
            ));
        }
    }
    let stored: Vec<StoredCredential<'_>> = decoded
        .iter()
        .map(|(id, key, sign_count, backup_eligible)| StoredCredential {
            id,
            public_key: key,
            sign_count: *sign_count,
            backup_eligible: *backup_eligible,
        })
        .collect();
    let assertion = verify_authentication(
        env.crypto,
        &AuthenticationCeremony {
            challenge: &challenge_bytes,
            rp_id: &ctx.tenant.rp_id,
            origins: &ctx.tenant.origins,
            user_verification_required: ceremony.user_verification_required,
            allow_credentials: &allow,
            user_handle: &handle,
        },
        &stored,
        credential,
    )
    .map_err(refused)?;

    let index = indices
        .get(assertion.credential)
        .copied()
        .ok_or_else(|| CoreError::Internal("credential index".into()))?;
    let factor = record
        .factors
        .get_mut(index)
        .ok_or_else(|| CoreError::Internal("factor index".into()))?;
    let mut synced = false;
    if let FactorKind::Webauthn(w) = &mut factor.kind {
        w.sign_count = assertion.sign_count;
        w.backup_state = assertion.backup_state;
        w.user_verified = assertion.user_verified;
        synced = w.backup_eligible;
    }
    factor.last_used_at = Some(env.now);
    let factor_id = Some(factor.id.clone());
    record.challenges.remove(challenge_index);
    let verified = Verified {
        user_verified: assertion.user_verified,
        synced,
        ..Verified::new(Method::Webauthn, factor_id, env.now)
    };
    Ok(succeeded(record, ctx, verified, env))
}
