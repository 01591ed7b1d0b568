//! Push approval in the core, with a software authenticator playing the phone:
//! activation, number matching, denial, reports, fatigue limits, replays and
//! another phone's signature.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../../webauthn/tests/soft_authenticator/mod.rs"]
mod soft_authenticator;

use edge_mfa_core::command::{ApprovalAnswer, ConfirmWith, RequestContext};
use edge_mfa_core::env::SeededRandom;
use edge_mfa_core::ids::{TenantId, UserId};
use edge_mfa_core::policy::{Method, Policy};
use edge_mfa_core::seal::MasterKey;
use edge_mfa_core::tenant::{NewTenant, Tenant};
use edge_mfa_core::user::{ApprovalState, UserRecord, answer_challenge};
use edge_mfa_core::{CoreError, Env, Outcome, Secret, UserCommand, UserRequest, execute};
use edge_mfa_webauthn::json::from_b64url;
use soft_authenticator::{Params, Soft};

const T0: u64 = 1_800_000_000;
const ORIGIN: &str = "https://mfa.example.test";
const RP_ID: &str = "mfa.example.test";
const SUBSCRIPTION: &str = r#"{"endpoint":"https://fcm.googleapis.com/fcm/send/x","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}"#;

struct World {
    master: MasterKey,
    tenant: Tenant,
    user: UserId,
    record: UserRecord,
    rng: SeededRandom,
    now: u64,
    phone: Soft,
    sign_count: u32,
}

impl World {
    fn new(digits: u8) -> World {
        let master = MasterKey::from_bytes(&[5u8; 32]).unwrap();
        let mut rng = SeededRandom::new(21);
        let mut env = Env::new(T0, &mut rng);
        let mut policy = Policy::default();
        policy.allowed_methods.push(Method::Push);
        policy.push.number_digits = digits;
        let new = NewTenant {
            id: TenantId::try_from("acme".to_string()).unwrap(),
            name: "ACME".into(),
            rp_id: "acme.test".into(),
            origins: vec!["https://app.acme.test".into()],
            policy: Some(policy),
        };
        let capabilities = edge_mfa_core::policy::Capabilities {
            country: true,
            webhook: false,
        };
        let (tenant, _) = Tenant::create(new, capabilities, &master, &mut env).unwrap();
        World {
            master,
            tenant,
            user: UserId::try_from("jane".to_string()).unwrap(),
            record: UserRecord::default(),
            rng,
            now: T0,
            phone: Soft::new(7),
            sign_count: 0,
        }
    }

    fn run(&mut self, command: UserCommand, step_up: bool) -> Result<Outcome, CoreError> {
        let mut env = Env::new(self.now, &mut self.rng);
        let context = RequestContext {
            country: Some("NL".into()),
            ..RequestContext::default()
        };
        execute(
            &mut self.record,
            &self.tenant,
            &self.master,
            &self.user,
            UserRequest {
                command,
                step_up,
                context,
            },
            &mut env,
        )
    }

    /// Enrolls the phone: (enrollment id, activation code), activated.
    fn activate(&mut self) -> (String, String) {
        let Outcome::PushEnrollment {
            enrollment_id,
            activation_code,
            ..
        } = self
            .run(
                UserCommand::EnrollPush {
                    name: Some("Pixel".into()),
                },
                false,
            )
            .unwrap()
        else {
            panic!("no push enrollment");
        };
        let code = activation_code.expose().clone();
        let Outcome::PushActivation { public_key, app } = self
            .run(
                UserCommand::PushActivationOptions {
                    enrollment_id: enrollment_id.clone(),
                    activation_code: Secret::new(code.clone()),
                    rp_id: RP_ID.into(),
                    user_name: "jane".into(),
                },
                false,
            )
            .unwrap()
        else {
            panic!("no options");
        };
        assert_eq!(app, "ACME");
        assert_eq!(public_key.rp.id, RP_ID);
        assert_eq!(
            public_key.authenticator_selection.user_verification,
            "required"
        );
        let challenge = from_b64url(&public_key.challenge, "challenge").unwrap();
        let mut params = Params::create(&challenge);
        params.origin = ORIGIN.into();
        params.rp_id = RP_ID.into();
        let credential = self.phone.register(&params);
        let activated = self.run(
            UserCommand::ActivatePush {
                enrollment_id: enrollment_id.clone(),
                activation_code: Secret::new(code.clone()),
                credential: Box::new(credential),
                subscription: Secret::new(SUBSCRIPTION.into()),
                origin: ORIGIN.into(),
                name: None,
            },
            false,
        );
        assert_eq!(activated, Ok(Outcome::PushActivated));
        (enrollment_id, code)
    }

    /// A first push factor, confirmed: its id.
    fn enrolled(&mut self) -> String {
        let (enrollment_id, _) = self.activate();
        let Outcome::Confirmed {
            factor,
            verified,
            backup_codes,
        } = self
            .run(
                UserCommand::Confirm {
                    enrollment_id,
                    with: ConfirmWith::Activation,
                },
                false,
            )
            .unwrap()
        else {
            panic!("not confirmed");
        };
        assert_eq!(factor.method, Method::Push);
        assert!(
            backup_codes.is_some(),
            "the first factor brings backup codes"
        );
        let verified = verified.expect("the first factor ends with proof");
        assert!(verified.user_verified);
        factor.id
    }

    /// A push approval: (challenge id, number, subscription sent to).
    fn push(&mut self) -> (String, String, String) {
        match self
            .run(
                UserCommand::Challenge {
                    factor_id: None,
                    method: Some(Method::Push),
                },
                false,
            )
            .unwrap()
        {
            Outcome::PushChallenge {
                challenge_id,
                number,
                subscription,
                ..
            } => (
                challenge_id,
                number.expose().clone(),
                subscription.expose().clone(),
            ),
            other => panic!("not a push challenge: {other:?}"),
        }
    }

    /// The phone's signed answer `answer` (what the challenge hashes) to `id`.
    fn signed(
        &mut self,
        signer: &Soft,
        id: &str,
        answer: &str,
    ) -> Box<edge_mfa_webauthn::json::AuthenticationResponseJson> {
        self.sign_count += 1;
        let mut params = Params::get(&answer_challenge(id, answer), self.sign_count);
        params.origin = ORIGIN.into();
        params.rp_id = RP_ID.into();
        params.user_handle = None;
        Box::new(signer.assert(&params))
    }

    fn answer(
        &mut self,
        id: &str,
        answer: ApprovalAnswer,
        signed_over: &str,
    ) -> Result<Outcome, CoreError> {
        let phone = Soft::new(7);
        let credential = self.signed(&phone, id, signed_over);
        self.run(
            UserCommand::AnswerApproval {
                challenge_id: id.into(),
                answer,
                credential,
            },
            false,
        )
    }

    fn verify(&mut self, id: &str) -> Result<Outcome, CoreError> {
        self.run(
            UserCommand::VerifyPush {
                challenge_id: id.into(),
            },
            false,
        )
    }
}

fn approve(number: &str) -> ApprovalAnswer {
    ApprovalAnswer::Approve {
        number: Secret::new(number.into()),
    }
}

#[test]
fn the_right_number_signed_by_the_phone_gives_proof_once() {
    let mut w = World::new(2);
    let factor_id = w.enrolled();
    w.now += 60;
    let (id, number, subscription) = w.push();
    assert_eq!(number.len(), 2);
    assert!(number.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(
        subscription, SUBSCRIPTION,
        "the subscription opens as it was sealed"
    );
    assert!(
        !serde_json::to_string(&w.record)
            .unwrap()
            .contains("fcm.googleapis.com"),
        "sealed at rest"
    );
    assert!(
        !serde_json::to_string(&w.record)
            .unwrap()
            .contains(&format!("\"{number}\""))
    );
    assert_eq!(w.verify(&id), Ok(Outcome::Pending));
    let Outcome::ApprovalContext(context) = w
        .run(
            UserCommand::ApprovalContext {
                challenge_id: id.clone(),
            },
            false,
        )
        .unwrap()
    else {
        panic!("no context");
    };
    assert_eq!(
        (
            context.app.as_str(),
            context.country.as_deref(),
            context.digits
        ),
        ("ACME", Some("NL"), 2)
    );
    assert_eq!(context.rp_id, RP_ID);
    assert_eq!(
        w.answer(&id, approve(&number), &number),
        Ok(Outcome::ApprovalAnswered {
            state: ApprovalState::Approved {
                user_verified: true,
                synced: false
            }
        })
    );
    let Outcome::Verified(verified) = w.verify(&id).unwrap() else {
        panic!("no proof");
    };
    assert_eq!(verified.method, Method::Push);
    assert_eq!(verified.factor_id.as_deref(), Some(factor_id.as_str()));
    assert!(verified.user_verified);
    assert!(
        matches!(w.verify(&id), Err(CoreError::Expired(_))),
        "proof is given once"
    );
    // The same signed answer again: the approval is gone.
    assert!(matches!(
        w.answer(&id, approve(&number), &number),
        Err(CoreError::Expired(_))
    ));
}

#[test]
fn a_wrong_number_is_one_counted_guess_and_ends_the_approval() {
    let mut w = World::new(6);
    w.enrolled();
    w.now += 60;
    let (id, number, _) = w.push();
    assert_eq!(number.len(), 6);
    let wrong = if number == "000000" {
        "000001"
    } else {
        "000000"
    };
    let failures = w.record.failures.clone();
    assert!(matches!(
        w.answer(&id, approve(wrong), wrong),
        Err(CoreError::WrongCode(_))
    ));
    assert_ne!(
        w.record.failures, failures,
        "the wrong number counts as a failure"
    );
    assert!(matches!(
        w.verify(&id),
        Err(CoreError::VerificationFailed(m)) if m.contains("did not match")
    ));
    // No second guess at the same approval, not even the right number.
    assert!(matches!(
        w.answer(&id, approve(&number), &number),
        Err(CoreError::Expired(_))
    ));
    // The number must be the shown length: a malformed answer is no guess.
    w.now += 600;
    let (id, _, _) = w.push();
    let before = w.record.failures.clone();
    assert!(matches!(
        w.answer(&id, approve("12"), "12"),
        Err(CoreError::InvalidRequest(_))
    ));
    assert_eq!(w.record.failures, before);
}

#[test]
fn a_signature_over_another_number_or_by_another_phone_is_refused_uncounted() {
    let mut w = World::new(2);
    w.enrolled();
    w.now += 60;
    let (id, number, _) = w.push();
    let before = w.record.failures.clone();
    // Signed over another answer than the one sent.
    assert!(matches!(
        w.answer(&id, approve(&number), "deny"),
        Err(CoreError::VerificationFailed(_))
    ));
    // Signed by another authenticator.
    let stranger = Soft::new(9);
    let credential = w.signed(&stranger, &id, &number);
    let refused = w.run(
        UserCommand::AnswerApproval {
            challenge_id: id.clone(),
            answer: approve(&number),
            credential,
        },
        false,
    );
    assert!(matches!(refused, Err(CoreError::VerificationFailed(_))));
    assert_eq!(w.record.failures, before, "no guess was made");
    assert_eq!(
        w.verify(&id),
        Ok(Outcome::Pending),
        "the approval still waits for its phone"
    );
}

#[test]
fn deny_and_report_refuse_the_sign_in_and_a_report_counts_and_notifies() {
    let mut w = World::new(2);
    w.enrolled();
    w.now += 60;
    let (id, _, _) = w.push();
    assert_eq!(
        w.answer(&id, ApprovalAnswer::Deny, "deny"),
        Ok(Outcome::ApprovalAnswered {
            state: ApprovalState::Denied
        })
    );
    assert!(matches!(w.verify(&id), Err(CoreError::VerificationFailed(m)) if m.contains("denied")));
    w.now += 600;
    let (id, _, _) = w.push();
    let before = w.record.failures.clone();
    let mut env_rng = SeededRandom::new(3);
    let _ = Env::new(w.now, &mut env_rng);
    assert_eq!(
        w.answer(&id, ApprovalAnswer::Report, "report"),
        Ok(Outcome::ApprovalAnswered {
            state: ApprovalState::Reported
        })
    );
    assert_ne!(w.record.failures, before, "a report counts as a failure");
    assert!(
        matches!(w.verify(&id), Err(CoreError::VerificationFailed(m)) if m.contains("reported"))
    );
}

#[test]
fn one_approval_at_a_time_and_each_push_of_the_hour_waits_longer() {
    let mut w = World::new(2);
    w.enrolled();
    w.now += 60;
    let (first, _, _) = w.push();
    let again = w.run(
        UserCommand::Challenge {
            factor_id: None,
            method: Some(Method::Push),
        },
        false,
    );
    assert!(
        matches!(again, Err(CoreError::RateLimited { retry_after }) if retry_after > 0 && retry_after <= 300)
    );
    // Denied: the next push waits 30 s after the first.
    w.answer(&first, ApprovalAnswer::Deny, "deny").unwrap();
    w.now += 10;
    assert!(matches!(
        w.run(
            UserCommand::Challenge {
                factor_id: None,
                method: Some(Method::Push)
            },
            false
        ),
        Err(CoreError::RateLimited { retry_after: 20 })
    ));
    w.now += 20;
    let (second, _, _) = w.push();
    w.answer(&second, ApprovalAnswer::Deny, "deny").unwrap();
    w.now += 59;
    assert!(matches!(
        w.run(
            UserCommand::Challenge {
                factor_id: None,
                method: Some(Method::Push)
            },
            false
        ),
        Err(CoreError::RateLimited { retry_after: 1 })
    ));
    w.now += 1;
    w.push();
}

#[test]
fn activation_takes_its_own_code_once_and_confirmation_waits_for_it() {
    let mut w = World::new(2);
    let Outcome::PushEnrollment {
        enrollment_id,
        activation_code,
        ..
    } = w
        .run(UserCommand::EnrollPush { name: None }, false)
        .unwrap()
    else {
        panic!();
    };
    assert_eq!(
        w.run(
            UserCommand::Confirm {
                enrollment_id: enrollment_id.clone(),
                with: ConfirmWith::Activation
            },
            false
        ),
        Ok(Outcome::Pending)
    );
    let wrong = w.run(
        UserCommand::PushActivationOptions {
            enrollment_id: enrollment_id.clone(),
            activation_code: Secret::new("not-the-code".into()),
            rp_id: RP_ID.into(),
            user_name: "jane".into(),
        },
        false,
    );
    assert!(matches!(wrong, Err(CoreError::Expired(_))));
    assert!(
        !serde_json::to_string(&w.record)
            .unwrap()
            .contains(activation_code.expose().as_str()),
        "the activation code is kept hashed"
    );
    // A used link does not activate a second phone.
    let (enrollment_id, code) = w.activate();
    let again = w.run(
        UserCommand::PushActivationOptions {
            enrollment_id,
            activation_code: Secret::new(code),
            rp_id: RP_ID.into(),
            user_name: "jane".into(),
        },
        false,
    );
    assert!(matches!(again, Err(CoreError::Expired(_))));
}
