//! The end user's routes (a ticket): factors, enrollment, challenge, verification,
//! backup codes.

use edge_mfa_core::command::{ConfirmWith, RequestContext};
use edge_mfa_core::policy::Method;
use edge_mfa_core::tenant::Tenant;
use edge_mfa_core::{CoreError, Env, Outcome, Secret, UserCommand, UserRequest, Verified};
use edge_mfa_jose::{ACR_MFA, ACR_NONE, MFA_TOKEN_LIFETIME, MfaTokenClaims};
use serde::Serialize;

use crate::answers::{self, respond};
use crate::auth::{Caller, Deployment, has_step_up};
use crate::backend::Backend;
use crate::http::{ApiRequest, ApiResponse, percent_decode};
use crate::problem::ApiError;
use crate::routes::Resource;
use crate::wire::{
    AssessBody, ChallengeBody, ConfirmBody, EnrollBody, HelpBody, RedeemBody, RenameBody,
    VerifyBody, check_code, parse_body, parse_optional_body,
};

/// Longest account label put into an otpauth URI or WebAuthn `user.name`.
const MAX_LABEL_CHARS: usize = 128;

/// The end-user routes. The router has checked the method against
/// [`Resource::methods`]; arms that tell methods apart match only those.
pub(crate) async fn handle<B: Backend>(
    backend: &B,
    deployment: &Deployment,
    tenant: &Tenant,
    caller: &Caller,
    resource: Resource<'_>,
    req: &ApiRequest,
    env: &mut Env<'_>,
) -> Result<ApiResponse, ApiError> {
    let user = User {
        backend,
        tenant,
        caller,
        req,
        now: env.now,
    };
    let step_up = || has_step_up(req, tenant, &caller.user, env.now, env.crypto);
    match resource {
        #[cfg(feature = "enroll")]
        Resource::Factors => {
            let Outcome::Factors {
                factors,
                backup_codes_remaining,
            } = user.run(UserCommand::ListFactors, false).await?
            else {
                return Err(unexpected());
            };
            respond(
                200,
                &answers::FactorList {
                    factors: &factors,
                    backup_codes_remaining,
                },
            )
        }
        #[cfg(feature = "enroll")]
        Resource::Factor(id) => {
            let factor_id = path_id(id)?;
            match req.method.as_str() {
                "DELETE" => {
                    user.run(UserCommand::DeleteFactor { factor_id }, step_up())
                        .await?;
                    Ok(ApiResponse::empty(204))
                }
                "PATCH" => {
                    let body: RenameBody = parse_body(req)?;
                    let Outcome::Renamed { factor } = user
                        .run(
                            UserCommand::RenameFactor {
                                factor_id,
                                name: body.name,
                            },
                            step_up(),
                        )
                        .await?
                    else {
                        return Err(unexpected());
                    };
                    respond(200, &answers::Renamed { factor: &factor })
                }
                _ => Err(resource.method_not_allowed()),
            }
        }
        #[cfg(feature = "enroll")]
        Resource::Enroll => {
            let body: EnrollBody = parse_body(req)?;
            // The label the authenticator shows: the ticket's email, else its subject,
            // bounded so the otpauth URI always fits a QR code.
            let label: String = caller
                .claims
                .email
                .as_deref()
                .filter(|email| email.chars().count() <= MAX_LABEL_CHARS)
                .unwrap_or(caller.user.as_str())
                .chars()
                .take(MAX_LABEL_CHARS)
                .collect();
            if body.to.is_some()
                && matches!(body.method, Method::Totp | Method::Webauthn | Method::Push)
            {
                return Err(ApiError::InvalidRequest(
                    "to applies to email and sms enrollments only".into(),
                ));
            }
            let command = match body.method {
                Method::Sms => {
                    let to = body.to.as_deref().ok_or_else(|| {
                        ApiError::InvalidRequest("to (an E.164 number) is required".into())
                    })?;
                    let numbers = deployment
                        .phone_numbers
                        .ok_or_else(|| ApiError::Internal(crate::routes::not_built("sms")))?;
                    UserCommand::EnrollCode {
                        method: Method::Sms,
                        name: body.name,
                        destination: crate::codes::sms_destination(numbers, to)?,
                        vouched: false,
                    }
                }
                Method::Email => {
                    let ticket_email = caller.claims.email.as_deref();
                    let to = body.to.as_deref().or(ticket_email).ok_or_else(|| {
                        ApiError::InvalidRequest("to is required: the ticket has no email".into())
                    })?;
                    let destination = crate::codes::email_destination(to)?;
                    // The tenant vouches for the ticket's own address only.
                    let vouched = caller.claims.email_verified == Some(true)
                        && ticket_email.is_some_and(|e| e.trim().eq_ignore_ascii_case(to.trim()));
                    UserCommand::EnrollCode {
                        method: Method::Email,
                        name: body.name,
                        destination,
                        vouched,
                    }
                }
                Method::Totp => UserCommand::EnrollTotp {
                    name: body.name,
                    account: label,
                },
                Method::Webauthn => UserCommand::EnrollWebauthn {
                    name: body.name,
                    user_name: label,
                },
                Method::Push => UserCommand::EnrollPush { name: body.name },
                other => {
                    return Err(ApiError::InvalidRequest(format!(
                        "enrolling {} is not supported yet",
                        other.as_str()
                    )));
                }
            };
            match user.run(command, step_up()).await? {
                Outcome::PushEnrollment {
                    enrollment_id,
                    activation_code,
                    expires_at,
                } => {
                    let url = crate::push::activation_url(
                        deployment.approver_origin(req),
                        tenant,
                        &caller.user,
                        &enrollment_id,
                        &activation_code,
                    )?;
                    let qr_svg = edge_mfa_otp::qr_svg(url.expose()).ok_or_else(|| {
                        ApiError::Internal("the activation link is too long for a QR code".into())
                    })?;
                    respond(
                        201,
                        &answers::PushEnrollment {
                            enrollment_id: &enrollment_id,
                            method: Method::Push,
                            activation_url: url.expose(),
                            qr_svg: &qr_svg,
                            expires_at,
                        },
                    )
                }
                Outcome::TotpEnrollment {
                    enrollment_id,
                    secret,
                    otpauth_uri,
                    expires_at,
                } => {
                    let qr_svg = edge_mfa_otp::qr_svg(otpauth_uri.expose()).ok_or_else(|| {
                        ApiError::Internal("otpauth URI too long for a QR code".into())
                    })?;
                    respond(
                        201,
                        &answers::TotpEnrollment {
                            enrollment_id: &enrollment_id,
                            method: Method::Totp,
                            secret: secret.expose(),
                            otpauth_uri: otpauth_uri.expose(),
                            qr_svg: &qr_svg,
                            expires_at,
                        },
                    )
                }
                Outcome::WebauthnEnrollment {
                    enrollment_id,
                    public_key,
                    expires_at,
                } => respond(
                    201,
                    &answers::WebauthnEnrollment {
                        enrollment_id: &enrollment_id,
                        method: Method::Webauthn,
                        public_key: &public_key,
                        expires_at,
                    },
                ),
                Outcome::CodeSent(delivery) => {
                    let (id, method, expires_at) =
                        (delivery.id.clone(), delivery.method, delivery.expires_at);
                    let sent = user.send(deployment, delivery, env).await?;
                    respond(
                        201,
                        &answers::CodeEnrollment {
                            enrollment_id: &id,
                            method,
                            delivery: sent,
                            expires_at,
                        },
                    )
                }
                // An address the tenant vouches for: the factor at once.
                Outcome::Confirmed {
                    factor,
                    backup_codes,
                    ..
                } => respond(
                    201,
                    &answers::Confirmed::new(&factor, backup_codes.as_ref()),
                ),
                _ => Err(unexpected()),
            }
        }
        #[cfg(feature = "challenge")]
        Resource::Resend(id) => {
            let challenge_id = path_id(id)?;
            let Outcome::CodeSent(delivery) = user
                .run(UserCommand::Resend { challenge_id }, false)
                .await?
            else {
                return Err(unexpected());
            };
            let (id, method, expires_at) =
                (delivery.id.clone(), delivery.method, delivery.expires_at);
            let sent = user.send(deployment, delivery, env).await?;
            respond(
                201,
                &answers::Challenge {
                    challenge_id: &id,
                    method,
                    expires_at,
                    public_key: None,
                    delivery: Some(sent),
                    number: None,
                },
            )
        }
        #[cfg(feature = "enroll")]
        Resource::Confirm(id) => {
            let enrollment_id = path_id(id)?;
            let body: ConfirmBody = parse_body(req)?;
            let with = match (body.code, body.credential) {
                (Some(code), None) => {
                    check_code(&code)?;
                    ConfirmWith::Code(code)
                }
                (None, Some(credential)) => {
                    credential
                        .check_encoding()
                        .map_err(|e| ApiError::InvalidRequest(e.to_string()))?;
                    ConfirmWith::Credential(Box::new(credential))
                }
                // A push enrollment: what its phone sent on activation.
                (None, None) => ConfirmWith::Activation,
                (Some(_), Some(_)) => {
                    return Err(ApiError::InvalidRequest(
                        "give either code or credential".into(),
                    ));
                }
            };
            let outcome = user
                .run(
                    UserCommand::Confirm {
                        enrollment_id,
                        with,
                    },
                    false,
                )
                .await?;
            let Outcome::Confirmed {
                factor,
                backup_codes,
                verified,
            } = outcome
            else {
                return match outcome {
                    Outcome::Pending => pending(),
                    _ => Err(unexpected()),
                };
            };
            let answer = answers::Confirmed::new(&factor, backup_codes.as_ref());
            // The first factor ends with proof (API.md "End user", confirm): the user
            // just presented it, so the SPA need not verify again.
            match verified {
                Some(verified) => {
                    let mut response =
                        verified_response(tenant, deployment, caller, &verified, env, answer)?;
                    response.status = 201;
                    Ok(response)
                }
                None => respond(201, &answer),
            }
        }
        #[cfg(feature = "challenge")]
        Resource::Challenge => {
            let body: ChallengeBody = parse_body(req)?;
            let command = UserCommand::Challenge {
                factor_id: body.factor_id,
                method: body.method,
            };
            let outcome = user.run(command, false).await?;
            if let Outcome::PushChallenge {
                challenge_id,
                expires_at,
                number,
                subscription,
                ..
            } = outcome
            {
                let outgoing = crate::push::Outgoing {
                    tenant,
                    user: &caller.user,
                    challenge_id: &challenge_id,
                    subscription: &subscription,
                    origin: deployment.approver_origin(req),
                };
                let sent = crate::push::send_approval(backend, deployment, &outgoing, env).await;
                if let Err(e) = sent {
                    // The phone will not hear of it: the approval is void.
                    let void = UserCommand::VoidCode {
                        id: challenge_id,
                        reason: Some("delivery_failed".into()),
                    };
                    user.run(void, false).await?;
                    return Err(e);
                }
                return respond(
                    201,
                    &answers::Challenge {
                        challenge_id: &challenge_id,
                        method: Method::Push,
                        expires_at,
                        public_key: None,
                        delivery: None,
                        number: Some(number.expose()),
                    },
                );
            }
            let Outcome::Challenge {
                challenge_id,
                method,
                expires_at,
                public_key,
                delivery,
            } = outcome
            else {
                return Err(unexpected());
            };
            let delivery = match delivery {
                Some(delivery) => Some(user.send(deployment, delivery, env).await?),
                None => None,
            };
            respond(
                201,
                &answers::Challenge {
                    challenge_id: &challenge_id,
                    method,
                    expires_at,
                    public_key: public_key.as_deref(),
                    delivery,
                    number: None,
                },
            )
        }
        #[cfg(feature = "verify")]
        Resource::Verify => {
            let body: VerifyBody = parse_body(req)?;
            let command = match (body.code, body.credential, body.challenge_id) {
                (Some(code), None, challenge_id) => {
                    check_code(&code)?;
                    UserCommand::VerifyCode {
                        challenge_id,
                        method: body.method,
                        code,
                    }
                }
                (None, Some(credential), Some(challenge_id)) => {
                    credential
                        .check_encoding()
                        .map_err(|e| ApiError::InvalidRequest(e.to_string()))?;
                    UserCommand::VerifyCredential {
                        challenge_id,
                        credential: Box::new(credential),
                    }
                }
                (None, Some(_), None) => {
                    return Err(ApiError::InvalidRequest(
                        "a credential needs its challenge_id".into(),
                    ));
                }
                // A push approval: the phone answers, the sign-in page asks.
                (None, None, Some(challenge_id)) => UserCommand::VerifyPush { challenge_id },
                _ => {
                    return Err(ApiError::InvalidRequest(
                        "give either code or credential".into(),
                    ));
                }
            };
            let outcome = user
                .run_remembering(command, false, body.remember_device)
                .await?;
            let Outcome::Verified(verified) = outcome else {
                return match outcome {
                    Outcome::Pending => pending(),
                    _ => Err(unexpected()),
                };
            };
            verified_response(
                tenant,
                deployment,
                caller,
                &verified,
                env,
                answers::Verified {},
            )
        }
        #[cfg(feature = "backup-codes")]
        Resource::RedeemBackupCode => {
            let body: RedeemBody = parse_body(req)?;
            check_code(&body.code)?;
            let Outcome::Verified(verified) = user
                .run_remembering(
                    UserCommand::RedeemBackupCode { code: body.code },
                    false,
                    body.remember_device,
                )
                .await?
            else {
                return Err(unexpected());
            };
            // The code is spent by now: answer with the token whatever happens,
            // and say so where the operator looks if the count is missing.
            let remaining = verified.remaining.unwrap_or_else(|| {
                eprintln!("edge-mfa: a backup code was redeemed without a count of those left");
                0
            });
            let body = answers::Redeemed { remaining };
            verified_response(tenant, deployment, caller, &verified, env, body)
        }
        #[cfg(feature = "backup-codes")]
        Resource::BackupCodes => {
            let Outcome::BackupCodes { codes } = user
                .run(UserCommand::RegenerateBackupCodes, step_up())
                .await?
            else {
                return Err(unexpected());
            };
            respond(
                201,
                &answers::BackupCodes {
                    codes: codes.expose(),
                },
            )
        }
        #[cfg(feature = "assess")]
        Resource::Assess => {
            let body: AssessBody = parse_optional_body(req)?;
            let device_token = body.device_token.or_else(|| {
                req.cookie(&device_cookie_name(tenant))
                    .map(|c| Secret::new(c.to_string()))
            });
            let command = UserCommand::Assess {
                groups: caller.claims.groups.clone(),
                ip: req.client.ip.clone(),
                device_token,
            };
            let Outcome::Assessed { decision, factors } = user.run(command, false).await? else {
                return Err(unexpected());
            };
            // Nobody presented a second factor now: amr is empty, mfa_method says why.
            let mfa_token = match decision.allowed_by {
                Some(by) => Some(sign_token(
                    tenant,
                    deployment,
                    caller,
                    by.as_str(),
                    Vec::new(),
                    env.now,
                    env,
                )?),
                None => None,
            };
            respond(
                200,
                &answers::Assessment {
                    action: decision.action,
                    reasons: &decision.reasons,
                    factors: factors.iter().map(Into::into).collect(),
                    enrollment: decision.enrollment,
                    // What the sign-in page may offer: the policy's methods, its
                    // default, and whether "remember this device" does anything.
                    allowed_methods: &tenant.policy.allowed_methods,
                    enrollable_methods: answers::enrollable(tenant, &factors),
                    default_method: tenant.policy.default_method,
                    remember_device: (&tenant.policy).into(),
                    expires_in: mfa_token.as_ref().map(|_| MFA_TOKEN_LIFETIME),
                    mfa_token,
                    retry_after: decision.retry_after,
                },
            )
        }
        #[cfg(feature = "assess")]
        Resource::Help => {
            let body: HelpBody = parse_optional_body(req)?;
            let Outcome::HelpRequested(request) = user
                .run(
                    UserCommand::AskForHelp {
                        message: body.message,
                    },
                    false,
                )
                .await?
            else {
                return Err(unexpected());
            };
            respond(
                202,
                &answers::HelpRequested {
                    request_id: &request.id,
                },
            )
        }
        #[cfg(feature = "devices")]
        Resource::Devices => {
            let Outcome::Devices { devices } =
                user.run(UserCommand::ListDevices, step_up()).await?
            else {
                return Err(unexpected());
            };
            respond(200, &answers::DeviceList { devices: &devices })
        }
        #[cfg(feature = "devices")]
        Resource::Device(id) => {
            let device_id = path_id(id)?;
            user.run(UserCommand::RevokeDevice { device_id }, step_up())
                .await?;
            Ok(ApiResponse::empty(204))
        }
        Resource::Jwks
        | Resource::Approver(_)
        | Resource::AdminPolicy
        | Resource::AdminTenant
        | Resource::AdminWebhook(_)
        | Resource::AdminUserUnlock(_)
        | Resource::AdminUser(_)
        | Resource::AdminUsers
        | Resource::AdminUserRequirement(_)
        | Resource::AdminHelpRequests
        | Resource::AdminHelpResolve(_)
        | Resource::AdminAudit
        | Resource::AdminUserReset(_)
        | Resource::AdminUserBypass(_)
        | Resource::AdminUserDevices(_)
        | Resource::AdminKeyRotate(_)
        | Resource::AdminKeyRetire(_) => Err(ApiError::NotFound("no such path".into())),
        // A route of a group this build leaves out, which the router refuses first.
        // The full build matches every resource by name.
        #[cfg(not(every_user_route))]
        _ => Err(unexpected()),
    }
}

struct User<'a, B> {
    backend: &'a B,
    tenant: &'a Tenant,
    caller: &'a Caller,
    req: &'a ApiRequest,
    now: u64,
}

impl<B: Backend> User<'_, B> {
    /// Sends an SMS or email code through the tenant's webhook (`codes::send`).
    async fn send(
        &self,
        deployment: &Deployment,
        delivery: edge_mfa_core::command::CodeDelivery,
        env: &mut Env<'_>,
    ) -> Result<answers::Delivery, ApiError> {
        let context = self.req.context();
        crate::codes::send(
            self.backend,
            deployment,
            self.tenant,
            self.caller,
            delivery,
            context,
            env,
        )
        .await
    }

    async fn run(&self, command: UserCommand, step_up: bool) -> Result<Outcome, ApiError> {
        self.run_remembering(command, step_up, false).await
    }

    /// With `remember`, a successful verification also remembers this device.
    async fn run_remembering(
        &self,
        command: UserCommand,
        step_up: bool,
        remember: bool,
    ) -> Result<Outcome, ApiError> {
        let context = RequestContext {
            remember_device: remember
                .then(|| edge_mfa_core::devices::label(self.req.header("user-agent"))),
            ..self.req.context()
        };
        let request = UserRequest {
            command,
            step_up,
            context,
        };
        let reply = self
            .backend
            .run_user(self.tenant, &self.caller.user, request, self.now)
            .await
            .map_err(|e| ApiError::Internal(e.0))?;
        match reply {
            // A token was sent and did not count: say why it may not have.
            Err(CoreError::StepUpRequired) if self.req.header("x-mfa-token").is_some() => {
                Err(ApiError::StepUpRequired(format!(
                    "the X-MFA-Token is not a valid mfa_token of this user for step-up: it must be this tenant's, for this ticket's user, unexpired ({MFA_TOKEN_LIFETIME} s) and from a second factor (acr \"mfa\"); verify again"
                )))
            }
            reply => Ok(reply?),
        }
    }
}

/// The cookie that carries the remember-device token, one per tenant.
pub(crate) fn device_cookie_name(tenant: &Tenant) -> String {
    format!("edge_mfa_device_{}", tenant.id.as_str().replace('-', "_"))
}

/// The answer to a successful verification: the token, and the device token as an
/// HttpOnly, Secure, SameSite=None, Partitioned cookie scoped to the tenant — in
/// the body too only where the tenant opted in (`remember_device.token_in_body`),
/// since a copy in the body is readable by every script on the page.
fn verified_response(
    tenant: &Tenant,
    deployment: &Deployment,
    caller: &Caller,
    verified: &Verified,
    env: &mut Env<'_>,
    body: impl Serialize,
) -> Result<ApiResponse, ApiError> {
    let token = sign_token(
        tenant,
        deployment,
        caller,
        verified.method.as_str(),
        amr(verified),
        verified.auth_time,
        env,
    )?;
    let device_token = verified
        .device_token
        .as_ref()
        .filter(|_| tenant.policy.remember_device.token_in_body)
        .map(|d| d.expose().as_str());
    let answer = answers::WithToken {
        body,
        mfa_token: &token,
        expires_in: MFA_TOKEN_LIFETIME,
        device_token,
    };
    let response = respond(200, &answer)?;
    Ok(match (&verified.device_token, verified.device_expires_at) {
        (Some(device), Some(expires_at)) => response.with_header(
            "set-cookie",
            format!(
                // Partitioned (CHIPS): an SPA on another site still gets it where
                // browsers block third-party cookies; see README "Remembered devices".
                "{}={}; Path=/v1/{}; Max-Age={}; HttpOnly; Secure; SameSite=None; Partitioned",
                device_cookie_name(tenant),
                device.expose(),
                tenant.id,
                expires_at.saturating_sub(env.now)
            ),
        ),
        _ => response,
    })
}

fn unexpected() -> ApiError {
    ApiError::Internal("the core answered with an unexpected outcome".into())
}

/// `202 {"state": "pending"}`: the phone has not activated or answered yet.
fn pending() -> Result<ApiResponse, ApiError> {
    respond(202, &answers::Pending { state: "pending" })
}

fn path_id(segment: &str) -> Result<String, ApiError> {
    percent_decode(segment)
        .filter(|id| !id.is_empty() && id.len() <= 64)
        .ok_or_else(|| ApiError::NotFound("no such id".into()))
}

/// RFC 8176 `amr` values for a verification. WebAuthn: `hwk` for a key bound to its
/// hardware, `swk` for one that may be synced (BE set), plus `user` when the
/// authenticator verified the user.
fn amr(verified: &Verified) -> Vec<String> {
    let mut values: Vec<&str> = match verified.method {
        Method::Totp | Method::BackupCode | Method::Email => vec!["otp"],
        Method::Sms => vec!["sms", "otp"],
        Method::Webauthn if verified.synced => vec!["swk"],
        Method::Webauthn => vec!["hwk"],
        // RFC 8176: a second channel (the phone), answered with its key.
        Method::Push if verified.synced => vec!["mca", "swk"],
        Method::Push => vec!["mca", "hwk"],
    };
    if verified.user_verified {
        values.push("user");
    }
    values.iter().map(|v| v.to_string()).collect()
}

fn sign_token(
    tenant: &Tenant,
    deployment: &Deployment,
    caller: &Caller,
    mfa_method: &str,
    amr: Vec<String>,
    auth_time: u64,
    env: &mut Env<'_>,
) -> Result<String, ApiError> {
    let claims = MfaTokenClaims {
        iss: MfaTokenClaims::issuer_for(tenant.id.as_str()),
        aud: tenant.id.to_string(),
        sub: caller.user.as_str().to_string(),
        iat: env.now,
        exp: env.now + MFA_TOKEN_LIFETIME,
        auth_time,
        jti: edge_mfa_core::ids::random_id(env),
        acr: if amr.is_empty() { ACR_NONE } else { ACR_MFA }.to_string(),
        amr,
        mfa_method: mfa_method.to_string(),
    };
    Ok(tenant.sign_token(&deployment.master, env.crypto, &claims)?)
}
