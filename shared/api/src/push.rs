//! Push approval at the API (docs/PUSH.md): the deployment's VAPID key, the push
//! message for an approval (RFC 8291 encrypted, RFC 8292 signed, sent through the
//! runtime's [`Backend::deliver`]), the activation link, and the Approver's own
//! routes, which the phone calls without a ticket: an enrollment's activation
//! code, then its WebAuthn credential, authenticate them.

use edge_mfa_core::command::{ApprovalAnswer, Outcome};
use edge_mfa_core::ids::UserId;
use edge_mfa_core::tenant::Tenant;
use edge_mfa_core::user::ApprovalState;
use edge_mfa_core::{Env, Secret, UserCommand, UserRequest};
use edge_mfa_jose::{TokenSigner, b64url_encode};
use edge_mfa_webpush::vapid::{VapidClaims, authorization};
use edge_mfa_webpush::{PushSubscription, encrypt};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::answers::respond;
use crate::auth::Deployment;
use crate::backend::{Backend, DeliveryError};
use crate::http::{ApiRequest, ApiResponse};
use crate::problem::ApiError;
use crate::wire::{
    ActivateBody, ActivationBody, AnswerBody, ApprovalBody, ApproverAnswer, check_code, parse_body,
};

/// The deployment secret holding the VAPID key.
const VAPID_SECRET: &str = "vapid";
/// What the VAPID key is sealed to, so it opens nowhere else.
const VAPID_CONTEXT: &str = "vapid|deployment";
/// How long a push service keeps an undelivered approval: its challenge's life.
const TTL_SECONDS: u64 = 300;
/// A push service that does not answer in this long has not taken the message.
const SEND_TIMEOUT_MS: u64 = 5_000;

/// The deployment's VAPID key pair (RFC 8292): made once, sealed under
/// `MASTER_KEY`, kept by the runtime, the first kept winning.
pub(crate) struct Vapid {
    signer: TokenSigner<'static>,
}

impl Vapid {
    pub(crate) async fn load<B: Backend>(
        backend: &B,
        deployment: &Deployment,
        env: &mut Env<'_>,
    ) -> Result<Vapid, ApiError> {
        // A candidate, in case none is kept yet: a P-256 scalar in [1, n).
        let candidate = loop {
            let scalar = Zeroizing::new(env.bytes::<32>());
            if edge_mfa_jose::public_jwk(scalar.as_slice()).is_some() {
                break deployment
                    .master
                    .seal(VAPID_CONTEXT, scalar.as_slice(), env);
            }
        };
        let kept = backend
            .keep_secret(VAPID_SECRET, &candidate, None)
            .await
            .map_err(|e| ApiError::Internal(e.0))?;
        let scalar = Zeroizing::new(
            deployment
                .master
                .open(VAPID_CONTEXT, &kept)
                .map_err(|_| ApiError::Internal("the VAPID key does not open".into()))?,
        );
        // Sealed under a previous MASTER_KEY: kept again under the current one, so
        // the key (and every phone subscribed with it) outlives the rotation.
        if let Some(resealed) = deployment.master.reseal(VAPID_CONTEXT, &kept, env) {
            // Best effort: it opened either way, and another request may do it.
            let _ = backend
                .keep_secret(VAPID_SECRET, &resealed, Some(&kept))
                .await;
        }
        let signer = TokenSigner::from_secret_bytes(&scalar)
            .ok_or_else(|| ApiError::Internal("the VAPID key is not a P-256 key".into()))?;
        Ok(Vapid { signer })
    }

    /// `applicationServerKey`: the uncompressed public key, base64url.
    pub(crate) fn public_key(&self) -> String {
        b64url_encode(&self.signer.uncompressed_point())
    }

    fn authorization(
        &self,
        endpoint: &str,
        subject: &str,
        env: &Env<'_>,
    ) -> Result<String, ApiError> {
        let claims = VapidClaims::new(endpoint, subject, env.now)
            .ok_or_else(|| ApiError::Internal("a push endpoint without an origin".into()))?;
        let token = self
            .signer
            .sign_claims(env.crypto, &claims)
            .map_err(|e| ApiError::Internal(format!("VAPID signature: {e:?}")))?;
        Ok(authorization(&token, &self.signer.uncompressed_point()))
    }
}

/// What the push message carries: where the approval is, never its number.
#[derive(Serialize)]
struct Message<'a> {
    /// The Approver's message format.
    v: u8,
    t: &'a str,
    u: &'a str,
    a: &'a str,
}

/// An approval to send: whose, which, to where (the subscription JSON), and the
/// deployment's origin (VAPID's contact unless one is set).
pub(crate) struct Outgoing<'a> {
    pub tenant: &'a Tenant,
    pub user: &'a UserId,
    pub challenge_id: &'a str,
    pub subscription: &'a Secret<String>,
    pub origin: &'a str,
}

/// Sends approval `challenge_id` to the phone's `subscription`. A subscription
/// the push service no longer knows (404, 410) or an endpoint no longer allowed
/// is a failed delivery, as any other that is not 2xx.
pub(crate) async fn send_approval<B: Backend>(
    backend: &B,
    deployment: &Deployment,
    approval: &Outgoing<'_>,
    env: &mut Env<'_>,
) -> Result<(), ApiError> {
    let Outgoing {
        tenant,
        user,
        challenge_id,
        subscription,
        origin,
    } = *approval;
    let failed =
        |why: String| ApiError::DeliveryFailed(format!("the push to the phone failed: {why}"));
    let subscription: PushSubscription = serde_json::from_str(subscription.expose())
        .map_err(|e| ApiError::Internal(format!("a stored push subscription: {e}")))?;
    let keys = subscription
        .check(&deployment.push_services())
        .map_err(|e| failed(e.to_string()))?;
    let message = serde_json::to_vec(&Message {
        v: 1,
        t: tenant.id.as_str(),
        u: user.as_str(),
        a: challenge_id,
    })
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let body = loop {
        let ephemeral = Zeroizing::new(env.bytes::<32>());
        let salt = env.bytes::<16>();
        match encrypt(&message, &keys, &ephemeral, &salt) {
            Ok(body) => break body,
            // A scalar outside [1, n): draw again (about 2^-32 of draws).
            Err(edge_mfa_webpush::WebPushError::InvalidEphemeralKey) => {}
            Err(e) => return Err(ApiError::Internal(e.to_string())),
        }
    };
    let vapid = Vapid::load(backend, deployment, env).await?;
    let subject = deployment
        .push_contact
        .clone()
        .unwrap_or_else(|| origin.to_string());
    let headers = vec![
        (
            "authorization".to_string(),
            vapid.authorization(&subscription.endpoint, &subject, env)?,
        ),
        ("ttl".to_string(), TTL_SECONDS.to_string()),
        ("content-encoding".to_string(), "aes128gcm".to_string()),
        (
            "content-type".to_string(),
            "application/octet-stream".to_string(),
        ),
        ("urgency".to_string(), "high".to_string()),
    ];
    match backend
        .deliver(&subscription.endpoint, &headers, &body, SEND_TIMEOUT_MS)
        .await
    {
        Ok((status, _)) if (200..300).contains(&status) => Ok(()),
        Ok((404 | 410, _)) => Err(failed(
            "the phone's push subscription has ended; set up the phone again".into(),
        )),
        Ok((status, _)) => Err(failed(format!("the push service answered {status}"))),
        Err(DeliveryError::Timeout) => Err(failed("the push service did not answer".into())),
        // The runtime's reason may name the endpoint: not for the sign-in page.
        Err(DeliveryError::Failed(_)) => {
            Err(failed("the push service could not be reached".into()))
        }
    }
}

/// The link the phone opens: the Approver, with what activates it in the fragment
/// (never sent to a server, kept out of logs): base64url of
/// `{"t": tenant, "u": user, "e": enrollment id, "c": activation code}`.
pub(crate) fn activation_url(
    origin: &str,
    tenant: &Tenant,
    user: &UserId,
    enrollment_id: &str,
    code: &Secret<String>,
) -> Result<Secret<String>, ApiError> {
    let handle = serde_json::json!({
        "t": tenant.id.as_str(),
        "u": user.as_str(),
        "e": enrollment_id,
        "c": code.expose(),
    });
    Ok(Secret::new(format!(
        "{origin}/approver/#activate={}",
        b64url_encode(handle.to_string().as_bytes())
    )))
}

/// The Approver's routes (`approver/...`), for the phone.
pub(crate) async fn handle<B: Backend>(
    backend: &B,
    deployment: &Deployment,
    tenant: &Tenant,
    call: ApproverCall,
    req: &ApiRequest,
    env: &mut Env<'_>,
) -> Result<ApiResponse, ApiError> {
    // The Approver calls from its own origin; a page elsewhere may not.
    let origin = deployment.approver_origin(req).to_string();
    if req.header("origin").is_some_and(|o| o != origin) {
        return Err(ApiError::Forbidden(
            "the Approver's routes take requests from the Approver only".into(),
        ));
    }
    match call {
        ApproverCall::Activation => {
            let body: ActivationBody = parse_body(req)?;
            check_code(&body.activation_code)?;
            let user = user_id(&body.user)?;
            let rp_id = host(&origin)?;
            let command = UserCommand::PushActivationOptions {
                enrollment_id: body.enrollment_id,
                activation_code: body.activation_code,
                rp_id,
                user_name: user.as_str().to_string(),
            };
            let Outcome::PushActivation { public_key, app } =
                run_user(backend, tenant, &user, command, req, env).await?
            else {
                return Err(unexpected());
            };
            let vapid = Vapid::load(backend, deployment, env).await?;
            respond(
                200,
                &crate::answers::Activation {
                    app: &app,
                    public_key: &public_key,
                    application_server_key: &vapid.public_key(),
                },
            )
        }
        ApproverCall::Activate => {
            let body: ActivateBody = parse_body(req)?;
            check_code(&body.activation_code)?;
            let user = user_id(&body.user)?;
            body.credential
                .check_encoding()
                .map_err(|e| ApiError::InvalidRequest(e.to_string()))?;
            body.subscription
                .check(&deployment.push_services())
                .map_err(|e| ApiError::InvalidRequest(format!("subscription: {e}")))?;
            let subscription = serde_json::to_string(&body.subscription)
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            let command = UserCommand::ActivatePush {
                enrollment_id: body.enrollment_id,
                activation_code: body.activation_code,
                credential: Box::new(body.credential),
                subscription: Secret::new(subscription),
                origin: origin.clone(),
                name: body.name,
            };
            run_user(backend, tenant, &user, command, req, env).await?;
            respond(
                201,
                &crate::answers::ApprovalStateAnswer { state: "activated" },
            )
        }
        ApproverCall::Approval => {
            let body: ApprovalBody = parse_body(req)?;
            let user = user_id(&body.user)?;
            let command = UserCommand::ApprovalContext {
                challenge_id: body.approval_id,
            };
            let Outcome::ApprovalContext(context) =
                run_user(backend, tenant, &user, command, req, env).await?
            else {
                return Err(unexpected());
            };
            respond(200, &crate::answers::ApprovalView::from(&context))
        }
        ApproverCall::Answer => {
            let body: AnswerBody = parse_body(req)?;
            let user = user_id(&body.user)?;
            body.credential
                .check_encoding()
                .map_err(|e| ApiError::InvalidRequest(e.to_string()))?;
            if let Some(number) = &body.number {
                check_code(number)?;
            }
            let answer = match (body.answer, body.number) {
                (ApproverAnswer::Approve, Some(number)) => ApprovalAnswer::Approve { number },
                (ApproverAnswer::Approve, None) => {
                    return Err(ApiError::InvalidRequest(
                        "approve needs the number the sign-in page shows".into(),
                    ));
                }
                (ApproverAnswer::Deny, None) => ApprovalAnswer::Deny,
                (ApproverAnswer::Report, None) => ApprovalAnswer::Report,
                (_, Some(_)) => {
                    return Err(ApiError::InvalidRequest(
                        "number goes with approve only".into(),
                    ));
                }
            };
            let command = UserCommand::AnswerApproval {
                challenge_id: body.approval_id,
                answer,
                credential: Box::new(body.credential),
            };
            let Outcome::ApprovalAnswered { state } =
                run_user(backend, tenant, &user, command, req, env).await?
            else {
                return Err(unexpected());
            };
            let state = match state {
                ApprovalState::Approved { .. } => "approved",
                ApprovalState::Reported => "reported",
                _ => "denied",
            };
            respond(200, &crate::answers::ApprovalStateAnswer { state })
        }
    }
}

/// The Approver's routes under `/v1/{tenant}/approver/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApproverCall {
    /// `approver/activation`: the credential's creation options.
    Activation,
    /// `approver/activate`: the credential and the subscription.
    Activate,
    /// `approver/approval`: what an approval is for.
    Approval,
    /// `approver/answer`: the phone's signed answer.
    Answer,
}

impl ApproverCall {
    pub(crate) fn parse(segment: &str) -> Option<ApproverCall> {
        Some(match segment {
            "activation" => ApproverCall::Activation,
            "activate" => ApproverCall::Activate,
            "approval" => ApproverCall::Approval,
            "answer" => ApproverCall::Answer,
            _ => return None,
        })
    }
}

async fn run_user<B: Backend>(
    backend: &B,
    tenant: &Tenant,
    user: &UserId,
    command: UserCommand,
    req: &ApiRequest,
    env: &mut Env<'_>,
) -> Result<Outcome, ApiError> {
    let request = UserRequest {
        command,
        step_up: false,
        context: req.context(),
    };
    backend
        .run_user(tenant, user, request, env.now)
        .await
        .map_err(|e| ApiError::Internal(e.0))?
        .map_err(ApiError::from)
}

fn user_id(text: &str) -> Result<UserId, ApiError> {
    UserId::try_from(text.to_string()).map_err(|e| ApiError::InvalidRequest(format!("user: {e}")))
}

/// The host of an origin (`scheme://host[:port]`): the Approver credential's RP ID.
fn host(origin: &str) -> Result<String, ApiError> {
    url::Url::parse(origin)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .ok_or_else(|| ApiError::Internal("the request's origin has no host".into()))
}

fn unexpected() -> ApiError {
    ApiError::Internal("unexpected outcome".into())
}
