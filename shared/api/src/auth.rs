//! The callers of API.md: operator, admin, end user with a ticket, and step-up.

use edge_mfa_core::ids::UserId;
use edge_mfa_core::seal::MasterKey;
use edge_mfa_core::tenant::Tenant;
use edge_mfa_jose::{JoseError, TicketClaims, verify_ticket};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::http::ApiRequest;
use crate::problem::ApiError;

/// How old an `mfa_token` may be and still count as step-up (API.md).
pub const STEP_UP_MAX_AGE: u64 = 600;
const MIN_OPERATOR_KEY_LEN: usize = 16;
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
}

impl Deployment {
    /// `master_key`: 32 bytes, base64url or base64. `operator_key`: at least 16 characters.
    pub fn new(master_key: &str, operator_key: &str) -> Result<Deployment, String> {
        let master = MasterKey::from_config(master_key)
            .map_err(|_| "MASTER_KEY must be 32 bytes in base64".to_string())?;
        if operator_key.trim().len() < MIN_OPERATOR_KEY_LEN {
            return Err(format!(
                "OPERATOR_KEY must be at least {MIN_OPERATOR_KEY_LEN} characters"
            ));
        }
        Ok(Deployment {
            master,
            operator_key_sha256: Sha256::digest(operator_key.trim().as_bytes()).into(),
            test_hooks: false,
        })
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
    let secret = tenant.ticket_secret(master)?;
    let claims = verify_ticket(token, &secret, tenant.id.as_str(), now).map_err(|e| match e {
        // A valid ticket of this tenant, for a user id we cannot hold.
        JoseError::InvalidSubject => ApiError::Forbidden(format!("ticket refused: {e}")),
        _ => ApiError::Unauthorized(format!("ticket refused: {e}")),
    })?;
    let user = UserId::try_from(claims.sub.clone())
        .map_err(|e| ApiError::Forbidden(format!("ticket refused: {e}")))?;
    Ok(Caller { user, claims })
}

/// Whether `X-MFA-Token` holds this tenant's `mfa_token` for this very user, issued
/// at most [`STEP_UP_MAX_AGE`] seconds ago, for a second factor the user presented
/// (a token issued because policy or a remembered device let the user through
/// proves nothing new). Absent or invalid is simply `false`:
/// the core then refuses what needs step-up with `step_up_required`.
pub fn has_step_up(
    req: &ApiRequest,
    tenant: &Tenant,
    master: &MasterKey,
    user: &UserId,
    now: u64,
) -> Result<bool, ApiError> {
    let Some(token) = req.header("x-mfa-token") else {
        return Ok(false);
    };
    let verifier = tenant.signer(master)?.verifier();
    Ok(verifier
        .verify(token.trim(), tenant.id.as_str(), now)
        .is_ok_and(|claims| {
            claims.sub == user.as_str()
                && now.saturating_sub(claims.iat) <= STEP_UP_MAX_AGE
                && STEP_UP_METHODS.contains(&claims.mfa_method.as_str())
        }))
}
