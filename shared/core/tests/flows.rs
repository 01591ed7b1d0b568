//! The core's operations end to end, with a fixed clock and seeded randomness.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use edge_mfa_core::command::{ConfirmWith, RequestContext};
use edge_mfa_core::env::SeededRandom;
use edge_mfa_core::ids::{TenantId, UserId};
use edge_mfa_core::policy::{Adaptive, Method, Mode, Policy, RememberDevice};
use edge_mfa_core::seal::MasterKey;
use edge_mfa_core::tenant::{NewTenant, Tenant};
use edge_mfa_core::user::{MAX_FACTORS, MAX_PENDING};
use edge_mfa_core::{
    CoreError, Env, Outcome, UserCommand, UserRequest, UserSummary, Write, apply, execute,
    user::UserRecord,
};
use edge_mfa_otp::Totp;

const T0: u64 = 1_800_000_000;

struct World {
    master: MasterKey,
    tenant: Tenant,
    user: UserId,
    record: UserRecord,
    rng: SeededRandom,
    now: u64,
}

impl World {
    fn new(policy: Policy) -> World {
        let master = MasterKey::from_bytes(&[5u8; 32]).unwrap();
        let mut rng = SeededRandom::new(11);
        let mut env = Env::new(T0, &mut rng);
        let new = NewTenant {
            id: TenantId::try_from("acme".to_string()).unwrap(),
            name: "ACME".into(),
            rp_id: "acme.test".into(),
            origins: vec!["https://app.acme.test".into()],
            policy: Some(policy),
        };
        let (tenant, _) = Tenant::create(
            new,
            edge_mfa_core::policy::Capabilities {
                country: true,
                webhook: false,
            },
            &master,
            &mut env,
        )
        .unwrap();
        World {
            master,
            tenant,
            user: UserId::try_from("jane".to_string()).unwrap(),
            record: UserRecord::default(),
            rng,
            now: T0,
        }
    }

    fn run(&mut self, command: UserCommand, step_up: bool) -> Result<Outcome, CoreError> {
        self.run_from(command, step_up, RequestContext::default())
    }

    /// Starts a TOTP enrollment; returns (enrollment id, secret).
    fn start_totp(&mut self, step_up: bool) -> (String, Vec<u8>) {
        let Outcome::TotpEnrollment {
            enrollment_id,
            secret,
            otpauth_uri,
            ..
        } = self
            .run(
                UserCommand::EnrollTotp {
                    name: None,
                    account: "jane@acme.test".into(),
                },
                step_up,
            )
            .unwrap()
        else {
            panic!("not an enrollment")
        };
        assert!(
            otpauth_uri
                .expose()
                .contains(&format!("secret={}", secret.expose()))
        );
        let secret = data_encoding::BASE32_NOPAD
            .decode(secret.expose().as_bytes())
            .unwrap();
        (enrollment_id, secret)
    }

    /// Enrolls and confirms TOTP; returns (factor id, secret, backup codes).
    fn enroll(&mut self, step_up: bool) -> (String, Vec<u8>, Option<Vec<String>>) {
        let (enrollment_id, secret) = self.start_totp(step_up);
        assert_eq!(secret.len(), 20, "160-bit secret");
        let code = Totp::default().code_at(&secret, self.now);
        let first = !self.record.has_factor();
        let Outcome::Confirmed {
            factor,
            backup_codes,
            verified,
        } = self
            .run(
                UserCommand::Confirm {
                    enrollment_id,
                    with: ConfirmWith::Code(code.into()),
                },
                false,
            )
            .unwrap()
        else {
            panic!("not confirmed")
        };
        // The first factor ends with proof; later ones do not.
        assert_eq!(verified.is_some(), first, "proof only for the first factor");
        if let Some(verified) = verified {
            assert_eq!(verified.method, Method::Totp);
            assert_eq!(verified.factor_id.as_deref(), Some(factor.id.as_str()));
            assert_eq!(self.record.last_mfa_at, Some(self.now));
        }
        (factor.id, secret, backup_codes.map(|c| c.expose().clone()))
    }

    /// `assess` with no groups, address or device token: its decision.
    fn assess(&mut self) -> edge_mfa_core::assess::Decision {
        let Ok(Outcome::Assessed { decision, .. }) = self.run(plain_assess(), false) else {
            panic!("not assessed")
        };
        decision
    }

    fn verify_totp(&mut self, code: String) -> Result<Outcome, CoreError> {
        self.run(
            UserCommand::VerifyCode {
                challenge_id: None,
                method: Some(Method::Totp),
                code: code.into(),
            },
            false,
        )
    }
}

#[test]
fn totp_enroll_confirm_verify_and_replay() {
    let mut w = World::new(Policy::default());
    let (_, secret, codes) = w.enroll(false);
    assert_eq!(
        codes.unwrap().len(),
        10,
        "first factor returns backup codes"
    );
    // The confirming code's step is used: the same code cannot verify. A replayed
    // code is refused as such and is no guess: it does not count toward the lockout.
    let same = Totp::default().code_at(&secret, w.now);
    for _ in 0..10 {
        assert!(matches!(
            w.verify_totp(same.clone()),
            Err(CoreError::VerificationFailed(m)) if m.contains("already used")
        ));
    }
    assert_eq!(w.record.failures.count(&w.tenant.policy.lockout, w.now), 0);
    w.now += 30;
    let next = Totp::default().code_at(&secret, w.now);
    assert!(matches!(
        w.verify_totp(next.clone()),
        Ok(Outcome::Verified(_))
    ));
    assert!(matches!(
        w.verify_totp(next),
        Err(CoreError::VerificationFailed(_))
    ));
    // A code of an older step after a newer one is refused, though within skew.
    let older = Totp::default().code_at(&secret, w.now - 30);
    assert!(matches!(
        w.verify_totp(older),
        Err(CoreError::VerificationFailed(_))
    ));
    // A wrong code is a guess, and counts.
    let wrong = if same == "000000" { "000001" } else { "000000" };
    assert!(matches!(
        w.verify_totp(wrong.into()),
        Err(CoreError::WrongCode(_))
    ));
    assert_eq!(w.record.failures.count(&w.tenant.policy.lockout, w.now), 1);
}

#[test]
fn enrollment_expires_and_is_single_use() {
    let mut w = World::new(Policy::default());
    let (enrollment_id, secret) = w.start_totp(false);
    w.now += 601;
    let code = Totp::default().code_at(&secret, w.now);
    assert!(matches!(
        w.run(
            UserCommand::Confirm {
                enrollment_id,
                with: ConfirmWith::Code(code.into())
            },
            false
        ),
        Err(CoreError::Expired(_))
    ));
    assert!(!w.record.has_factor());
}

#[test]
fn a_second_factor_and_deletion_need_step_up() {
    let mut w = World::new(Policy::default());
    let (id, _, _) = w.enroll(false);
    assert_eq!(
        w.run(
            UserCommand::EnrollTotp {
                name: None,
                account: "j".into()
            },
            false
        ),
        Err(CoreError::StepUpRequired)
    );
    assert_eq!(
        w.run(
            UserCommand::DeleteFactor {
                factor_id: id.clone()
            },
            false
        ),
        Err(CoreError::StepUpRequired)
    );
    assert_eq!(
        w.run(UserCommand::RegenerateBackupCodes, false),
        Err(CoreError::StepUpRequired)
    );
    let (_, _, codes) = w.enroll(true);
    assert!(
        codes.is_none(),
        "backup codes come with the first factor only"
    );
    assert_eq!(
        w.run(UserCommand::DeleteFactor { factor_id: id }, true),
        Ok(Outcome::Deleted)
    );
    assert_eq!(w.record.factors.len(), 1);
}

#[test]
fn backup_codes_redeem_once_and_regeneration_invalidates() {
    let mut w = World::new(Policy::default());
    let (_, _, codes) = w.enroll(false);
    let codes = codes.unwrap();
    let redeem = |w: &mut World, code: &str| {
        w.run(UserCommand::RedeemBackupCode { code: code.into() }, false)
    };
    let Ok(Outcome::Verified(v)) = redeem(&mut w, &codes[0].to_uppercase()) else {
        panic!()
    };
    assert_eq!((v.method, v.remaining), (Method::BackupCode, Some(9)));
    assert!(matches!(
        redeem(&mut w, &codes[0]),
        Err(CoreError::WrongCode(_))
    ));
    let Ok(Outcome::BackupCodes { codes: fresh }) = w.run(UserCommand::RegenerateBackupCodes, true)
    else {
        panic!()
    };
    assert!(matches!(
        redeem(&mut w, &codes[1]),
        Err(CoreError::WrongCode(_))
    ));
    let Ok(Outcome::Verified(v)) = redeem(&mut w, &fresh.expose()[3]) else {
        panic!()
    };
    assert_eq!(v.remaining, Some(9));
}

#[test]
fn lockout_refuses_even_the_right_code_and_counts_only_failures() {
    let mut w = World::new(Policy::default());
    let (_, secret, _) = w.enroll(false);
    w.now += 60;
    for _ in 0..5 {
        assert!(matches!(
            w.verify_totp("000000".into()),
            Err(CoreError::WrongCode(_))
        ));
    }
    let right = Totp::default().code_at(&secret, w.now);
    assert_eq!(
        w.verify_totp(right),
        Err(CoreError::RateLimited { retry_after: 900 })
    );
    assert!(matches!(
        w.run(
            UserCommand::RedeemBackupCode {
                code: "aaaa-aaaa-aaaa".into()
            },
            false
        ),
        Err(CoreError::RateLimited { .. })
    ));
    // Refusals while locked do not extend the lock.
    w.now += 900;
    let right = Totp::default().code_at(&secret, w.now);
    assert!(matches!(w.verify_totp(right), Ok(Outcome::Verified(_))));
    assert_eq!(w.record.failures.count(&w.tenant.policy.lockout, w.now), 0);
}

#[test]
fn refusals_change_nothing_but_the_failure_count() {
    let mut w = World::new(Policy::default());
    let (_, secret, _) = w.enroll(false);
    let before = w.record.clone();
    for command in [
        UserCommand::Confirm {
            enrollment_id: "nope".into(),
            with: ConfirmWith::Code("123456".into()),
        },
        UserCommand::DeleteFactor {
            factor_id: "nope".into(),
        },
        UserCommand::Challenge {
            factor_id: Some("nope".into()),
            method: None,
        },
        UserCommand::VerifyCode {
            challenge_id: Some("nope".into()),
            method: None,
            code: "123456".into(),
        },
        UserCommand::EnrollTotp {
            name: Some("x".repeat(65)),
            account: "j".into(),
        },
    ] {
        assert!(w.run(command.clone(), true).is_err(), "{command:?}");
        assert_eq!(w.record, before, "{command:?}");
    }
    // A malformed code is not a guess: refused, not counted.
    assert!(matches!(
        w.verify_totp("12345".into()),
        Err(CoreError::InvalidRequest(_))
    ));
    assert_eq!(w.record, before);
    // A wrong one is, and only the counter changes.
    let wrong = if Totp::default().code_at(&secret, w.now) == "000000" {
        "111111"
    } else {
        "000000"
    };
    assert!(matches!(
        w.verify_totp(wrong.into()),
        Err(CoreError::WrongCode(_))
    ));
    assert_eq!(w.record.failures.count(&w.tenant.policy.lockout, w.now), 1);
    // ...and its one audit event, `verify.failed`.
    let logged: Vec<_> = w.record.audit[before.audit.len()..]
        .iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(logged, [edge_mfa_core::audit::EventType::VerifyFailed]);
    let mut after = w.record.clone();
    after.failures = before.failures.clone();
    after.audit = before.audit.clone();
    assert_eq!(after, before);
}

#[test]
fn challenges_are_consumed_by_success() {
    let mut w = World::new(Policy::default());
    let (id, secret, _) = w.enroll(false);
    let Ok(Outcome::Challenge { challenge_id, .. }) = w.run(
        UserCommand::Challenge {
            factor_id: Some(id),
            method: None,
        },
        false,
    ) else {
        panic!()
    };
    w.now += 30;
    let code = Totp::default().code_at(&secret, w.now);
    let verify = |w: &mut World, code: String| {
        w.run(
            UserCommand::VerifyCode {
                challenge_id: Some(challenge_id.clone()),
                method: None,
                code: code.into(),
            },
            false,
        )
    };
    assert!(matches!(
        verify(&mut w, "000000".into()),
        Err(CoreError::WrongCode(_))
    ));
    assert!(matches!(
        verify(&mut w, code.clone()),
        Ok(Outcome::Verified(_))
    ));
    w.now += 30;
    let next = Totp::default().code_at(&secret, w.now);
    assert!(matches!(verify(&mut w, next), Err(CoreError::Expired(_))));
}

#[test]
fn apply_stores_only_changes_and_refuses_corrupt_records() {
    let w = World::new(Policy::default());
    let mut rng = SeededRandom::new(1);
    let mut env = Env::new(T0, &mut rng);
    let list = || UserRequest {
        command: UserCommand::ListFactors,
        step_up: false,
        context: Default::default(),
    };
    let first = apply(None, &w.tenant, &w.master, &w.user, list(), &mut env);
    let Some(Write::Put(stored)) = first.store else {
        panic!("first contact records first_seen");
    };
    assert_eq!(
        first.summary,
        Some(Some(UserSummary {
            first_seen: Some(env.now),
            methods: vec![],
        })),
        "a new user is indexed"
    );
    let again = apply(
        Some(&stored),
        &w.tenant,
        &w.master,
        &w.user,
        list(),
        &mut env,
    );
    assert!(again.store.is_none());
    let corrupt = apply(
        Some("{not json"),
        &w.tenant,
        &w.master,
        &w.user,
        list(),
        &mut env,
    );
    assert!(corrupt.store.is_none());
    assert!(matches!(corrupt.reply, Err(CoreError::Internal(_))));
}

#[test]
fn secrets_are_sealed_in_the_stored_record() {
    let mut w = World::new(Policy::default());
    let (_, secret, codes) = w.enroll(false);
    let json = serde_json::to_string(&w.record).unwrap();
    assert!(!json.contains(&data_encoding::BASE32_NOPAD.encode(&secret)));
    assert!(!json.contains(&data_encoding::HEXLOWER.encode(&secret)));
    for code in codes.unwrap() {
        assert!(!json.contains(&code) && !json.contains(&code.replace('-', "")));
    }
    assert!(!format!("{:?}", w.record).contains(&data_encoding::BASE32_NOPAD.encode(&secret)));
}

#[test]
fn an_enrollment_started_before_the_first_factor_cannot_be_confirmed_after_it() {
    // An attacker with the password starts an enrollment while the victim has no
    // factor; the victim then enrolls. The attacker's pending enrollment is void.
    let mut w = World::new(Policy::default());
    let Outcome::TotpEnrollment {
        enrollment_id: attackers,
        secret,
        ..
    } = w
        .run(
            UserCommand::EnrollTotp {
                name: None,
                account: "j".into(),
            },
            false,
        )
        .unwrap()
    else {
        panic!()
    };
    w.enroll(false);
    let secret = data_encoding::BASE32_NOPAD
        .decode(secret.expose().as_bytes())
        .unwrap();
    let code = Totp::default().code_at(&secret, w.now);
    let late = w.run(
        UserCommand::Confirm {
            enrollment_id: attackers,
            with: ConfirmWith::Code(code.into()),
        },
        false,
    );
    assert!(matches!(late, Err(CoreError::Expired(_))), "{late:?}");
    assert_eq!(w.record.factors.len(), 1);
}

#[test]
fn an_admin_lookup_does_not_start_the_grace_period() {
    let mut w = World::new(Policy::default());
    assert!(matches!(
        w.run(UserCommand::Status, false),
        Ok(Outcome::Status(_))
    ));
    assert_eq!(w.record.first_seen, None);
    w.run(UserCommand::ListFactors, false).unwrap();
    assert_eq!(w.record.first_seen, Some(w.now));
}

#[test]
fn several_authenticator_apps_need_a_challenge_naming_one() {
    let mut w = World::new(Policy::default());
    let (_, first, _) = w.enroll(false);
    let (second_id, second, _) = w.enroll(true);
    w.now += 30;
    let code = Totp::default().code_at(&first, w.now);
    assert!(matches!(
        w.verify_totp(code),
        Err(CoreError::InvalidRequest(_))
    ));
    let Ok(Outcome::Challenge { challenge_id, .. }) = w.run(
        UserCommand::Challenge {
            factor_id: Some(second_id),
            method: None,
        },
        false,
    ) else {
        panic!()
    };
    let code = Totp::default().code_at(&second, w.now);
    let verified = w.run(
        UserCommand::VerifyCode {
            challenge_id: Some(challenge_id),
            method: None,
            code: code.into(),
        },
        false,
    );
    assert!(matches!(verified, Ok(Outcome::Verified(_))));
}

#[test]
fn a_method_removed_from_the_policy_stops_working() {
    let mut w = World::new(Policy::default());
    let (_, secret, codes) = w.enroll(false);
    w.tenant = w.tenant.clone().with_policy(Policy {
        allowed_methods: vec![Method::Webauthn],
        default_method: Method::Webauthn,
        ..Policy::default()
    });
    w.now += 30;
    let code = Totp::default().code_at(&secret, w.now);
    assert!(matches!(
        w.verify_totp(code),
        Err(CoreError::InvalidRequest(_))
    ));
    let redeem = w.run(
        UserCommand::RedeemBackupCode {
            code: codes.unwrap()[0].as_str().into(),
        },
        false,
    );
    assert!(matches!(redeem, Err(CoreError::InvalidRequest(_))));
    assert_eq!(
        w.record.failures.count(&w.tenant.policy.lockout, w.now),
        0,
        "a policy refusal is not a failure"
    );
}

impl World {
    fn run_from(
        &mut self,
        command: UserCommand,
        step_up: bool,
        context: RequestContext,
    ) -> Result<Outcome, CoreError> {
        let mut env = Env::new(self.now, &mut self.rng);
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

    fn set_policy(&mut self, policy: Policy) {
        policy.validate().unwrap();
        self.tenant = self.tenant.clone().with_policy(policy);
    }
}

fn plain_assess() -> UserCommand {
    UserCommand::Assess {
        groups: vec![],
        ip: None,
        device_token: None,
    }
}

fn from(country: &str) -> RequestContext {
    RequestContext {
        country: Some(country.into()),
        remember_device: None,
        ..Default::default()
    }
}

fn adaptive_denying(country: &str) -> Policy {
    Policy {
        mode: Mode::Adaptive,
        adaptive: Adaptive {
            deny_countries: vec![country.into()],
            ..Adaptive::default()
        },
        ..Policy::default()
    }
}

#[test]
fn a_denied_country_is_refused_on_every_path_that_issues_proof_and_records_nothing() {
    let mut w = World::new(Policy::default());
    let (factor_id, secret, codes) = w.enroll(false);
    w.set_policy(adaptive_denying("KP"));
    w.now += 30;
    let code = Totp::default().code_at(&secret, w.now);
    let before = w.record.clone();
    let commands = vec![
        UserCommand::VerifyCode {
            challenge_id: None,
            method: Some(Method::Totp),
            code: code.clone().into(),
        },
        UserCommand::RedeemBackupCode {
            code: codes.as_ref().unwrap()[0].as_str().into(),
        },
        UserCommand::Challenge {
            factor_id: Some(factor_id.clone()),
            method: None,
        },
        UserCommand::EnrollTotp {
            name: None,
            account: "jane".into(),
        },
        UserCommand::EnrollWebauthn {
            name: None,
            user_name: "jane".into(),
        },
        UserCommand::RegenerateBackupCodes,
        UserCommand::Confirm {
            enrollment_id: "whatever".into(),
            with: ConfirmWith::Code("123456".into()),
        },
    ];
    for command in commands {
        let label = format!("{command:?}");
        assert!(
            matches!(
                w.run_from(command, true, from("KP")),
                Err(CoreError::Forbidden(_))
            ),
            "{label}"
        );
        assert_eq!(w.record, before, "{label}: nothing recorded");
    }
    // The same code still works from an allowed country, which becomes known.
    assert!(matches!(
        w.run_from(
            UserCommand::VerifyCode {
                challenge_id: None,
                method: Some(Method::Totp),
                code: code.into()
            },
            false,
            from("DE")
        ),
        Ok(Outcome::Verified(_))
    ));
    assert_eq!(w.record.known_countries, ["DE"]);
}

#[test]
fn a_denied_assess_starts_nothing() {
    let mut w = World::new(adaptive_denying("KP"));
    let Ok(Outcome::Assessed { decision, .. }) = w.run_from(plain_assess(), false, from("KP"))
    else {
        panic!()
    };
    assert_eq!(decision.reasons, ["denied_country"]);
    assert_eq!(w.record.first_seen, None, "no grace period started");
    // A request whose country the platform does not tell counts as XX.
    w.set_policy(adaptive_denying("XX"));
    assert_eq!(w.assess().reasons, ["denied_country"]);
}

#[test]
fn confirm_rechecks_the_method_and_the_factor_cap() {
    let mut w = World::new(Policy::default());
    let (enrollment_id, secret) = w.start_totp(false);
    w.set_policy(Policy {
        allowed_methods: vec![Method::Webauthn],
        default_method: Method::Webauthn,
        ..Policy::default()
    });
    let code = Totp::default().code_at(&secret, w.now);
    let confirm = |w: &mut World, code: &str| {
        w.run(
            UserCommand::Confirm {
                enrollment_id: enrollment_id.clone(),
                with: ConfirmWith::Code(code.into()),
            },
            false,
        )
    };
    assert!(matches!(
        confirm(&mut w, &code),
        Err(CoreError::InvalidRequest(_))
    ));
    assert!(w.record.factors.is_empty(), "nothing created");
    // Allowed again: the enrollment was not consumed by the refusal.
    w.set_policy(Policy::default());
    assert!(matches!(
        confirm(&mut w, &code),
        Ok(Outcome::Confirmed { .. })
    ));
}

#[test]
fn pending_enrollments_cannot_exceed_the_factor_cap() {
    let mut w = World::new(Policy::default());
    w.enroll(false);
    let pending: Vec<_> = (0..MAX_PENDING).map(|_| w.start_totp(true)).collect();
    // Fill the factors up to the cap while those enrollments wait.
    while w.record.factors.len() < MAX_FACTORS {
        w.now += 30;
        w.enroll(true);
    }
    let (enrollment_id, secret) = pending.last().cloned().unwrap();
    let refused = w.run(
        UserCommand::Confirm {
            enrollment_id,
            with: ConfirmWith::Code(Totp::default().code_at(&secret, w.now).into()),
        },
        false,
    );
    assert!(
        matches!(refused, Err(CoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(w.record.factors.len(), MAX_FACTORS);
}

#[test]
fn codes_as_people_type_them_and_malformed_codes_count_for_nothing() {
    let mut w = World::new(Policy::default());
    let (_, secret, codes) = w.enroll(false);
    for malformed in ["12345", "1234567", "12a456", "one two", "123_456"] {
        assert!(
            matches!(
                w.verify_totp(malformed.into()),
                Err(CoreError::InvalidRequest(_))
            ),
            "{malformed}"
        );
    }
    assert!(matches!(
        w.run(
            UserCommand::RedeemBackupCode {
                code: "not-a-code".into()
            },
            false
        ),
        Err(CoreError::InvalidRequest(_))
    ));
    assert_eq!(w.record.failures.count(&w.tenant.policy.lockout, w.now), 0);
    for (i, layout) in ["{} {}", "{}-{}", " {}\u{a0}{} "].iter().enumerate() {
        w.now += 30;
        let code = Totp::default().code_at(&secret, w.now);
        let typed = layout
            .replacen("{}", &code[..3], 1)
            .replacen("{}", &code[3..], 1);
        assert!(
            matches!(w.verify_totp(typed.clone()), Ok(Outcome::Verified(_))),
            "{i}: {typed:?}"
        );
    }
    let spaced = codes.unwrap()[0].replace('-', " ");
    assert!(matches!(
        w.run(
            UserCommand::RedeemBackupCode {
                code: spaced.into()
            },
            false
        ),
        Ok(Outcome::Verified(_))
    ));
}

#[test]
fn a_type_challenge_for_several_authenticator_apps_is_refused() {
    let mut w = World::new(Policy::default());
    let (first, _, _) = w.enroll(false);
    let totp = |w: &mut World| {
        w.run(
            UserCommand::Challenge {
                factor_id: None,
                method: Some(Method::Totp),
            },
            false,
        )
    };
    // One app: the challenge names it.
    let Ok(Outcome::Challenge { challenge_id, .. }) = totp(&mut w) else {
        panic!()
    };
    let challenge = w.record.challenges.iter().find(|c| c.id == challenge_id);
    assert_eq!(
        challenge.unwrap().factor_id.as_deref(),
        Some(first.as_str())
    );
    w.now += 30;
    w.enroll(true);
    assert!(matches!(totp(&mut w), Err(CoreError::InvalidRequest(_))));
}

#[test]
fn remembered_devices_end_with_the_policy_and_with_the_factors() {
    let mut w = World::new(Policy::default());
    let (factor_id, secret, _) = w.enroll(false);
    let remember = |w: &mut World| {
        w.now += 30;
        let code = Totp::default().code_at(&secret, w.now);
        let Ok(Outcome::Verified(v)) = w.run_from(
            UserCommand::VerifyCode {
                challenge_id: None,
                method: Some(Method::Totp),
                code: code.into(),
            },
            false,
            RequestContext {
                country: None,
                remember_device: Some("Firefox".into()),
                ..Default::default()
            },
        ) else {
            panic!()
        };
        v.device_token.unwrap().expose().clone()
    };
    let trusted = |w: &mut World, token: &str| {
        let Ok(Outcome::Assessed { decision, .. }) = w.run(
            UserCommand::Assess {
                groups: vec![],
                ip: None,
                device_token: Some(token.into()),
            },
            false,
        ) else {
            panic!()
        };
        decision.reasons.contains(&"trusted_device".to_string())
    };
    let with_remember = |enabled, days| Policy {
        remember_device: RememberDevice {
            enabled,
            days,
            token_in_body: false,
        },
        ..Policy::default()
    };

    // Off, then on again: the old token stays dead; a new one works.
    let token = remember(&mut w);
    assert!(trusted(&mut w, &token));
    w.set_policy(with_remember(false, 30));
    w.set_policy(with_remember(true, 30));
    assert!(!trusted(&mut w, &token));
    let token = remember(&mut w);
    assert!(trusted(&mut w, &token));

    // Lower days: valid only while created_at + the current days lies ahead.
    w.set_policy(with_remember(true, 1));
    w.now += 86_400;
    assert!(!trusted(&mut w, &token));
    w.set_policy(with_remember(true, 30));
    assert!(!trusted(&mut w, &token), "raising days does not revive it");

    // Regenerating backup codes ends devices.
    let token = remember(&mut w);
    assert!(matches!(
        w.run(UserCommand::RegenerateBackupCodes, true),
        Ok(Outcome::BackupCodes { .. })
    ));
    assert!(!trusted(&mut w, &token));

    // Deleting a factor ends devices.
    let token = remember(&mut w);
    w.enroll(true);
    assert!(matches!(
        w.run(UserCommand::DeleteFactor { factor_id }, true),
        Ok(Outcome::Deleted)
    ));
    assert!(!trusted(&mut w, &token));
}

#[test]
fn renaming_a_factor_needs_step_up() {
    let mut w = World::new(Policy::default());
    let (factor_id, _, _) = w.enroll(false);
    let rename = |w: &mut World, step_up| {
        w.run(
            UserCommand::RenameFactor {
                factor_id: factor_id.clone(),
                name: "Thief's phone".into(),
            },
            step_up,
        )
    };
    assert_eq!(rename(&mut w, false), Err(CoreError::StepUpRequired));
    assert!(matches!(rename(&mut w, true), Ok(Outcome::Renamed { .. })));
}

#[test]
fn notifications_are_queued_with_their_change_for_subscribed_events_only() {
    let mut w = World::new(Policy {
        lockout: edge_mfa_core::policy::Lockout {
            max_failures: 2,
            window_seconds: 600,
        },
        ..Policy::default()
    });
    // Without a webhook nothing is queued.
    w.enroll(false);
    assert!(w.record.outbox.is_empty());
    let mut rng = SeededRandom::new(3);
    let mut env = Env::new(w.now, &mut rng);
    w.tenant.webhook = Some(edge_mfa_core::webhook::Webhook::new(
        &w.tenant.id,
        "https://hooks.acme.test/".into(),
        vec!["lockout.started".into(), "factor.removed".into()],
        &edge_mfa_core::webhook::new_secret(&mut env),
        &w.master,
        &mut env,
    ));
    // Two wrong codes: the second starts the lockout, once.
    for _ in 0..3 {
        let _ = w.verify_totp("000000".into());
    }
    let events: Vec<&str> = w.record.outbox.iter().map(|n| n.event.as_str()).collect();
    assert_eq!(
        events,
        ["lockout.started"],
        "queued once, as the lockout starts"
    );
    let n = &w.record.outbox[0];
    assert_eq!(n.data["user"], "jane");
    assert!(n.id.starts_with("msg_"));
    // Stored records never hold the outbox: the adapter's outbox does.
    let stored = serde_json::to_string(&w.record).unwrap();
    assert!(!stored.contains("lockout.started"));
}

/// [`apply`] over a stored JSON record, as the adapters run it.
fn apply_at(
    w: &World,
    stored: Option<&str>,
    command: UserCommand,
    now: u64,
) -> edge_mfa_core::Applied {
    let mut rng = SeededRandom::new(now);
    let mut env = Env::new(now, &mut rng);
    let request = UserRequest {
        command,
        step_up: false,
        context: Default::default(),
    };
    apply(stored, &w.tenant, &w.master, &w.user, request, &mut env)
}

fn stored_after(applied: &edge_mfa_core::Applied, before: Option<String>) -> Option<String> {
    match &applied.store {
        Some(Write::Put(json)) => Some(json.clone()),
        Some(Write::Delete) => None,
        None => before,
    }
}

#[test]
fn each_change_brings_its_log_batch_and_a_newer_revision() {
    use edge_mfa_core::audit::EventType;
    let w = World::new(Policy::default());
    let assess = plain_assess;
    let first = apply_at(&w, None, assess(), T0);
    assert_eq!(
        first.log.events.iter().map(|e| e.event).collect::<Vec<_>>(),
        [EventType::AssessDecided]
    );
    let row = first.log.user.clone().expect("a new user gets a row");
    assert_eq!(row.user, "jane");
    assert_eq!(row.entry.as_ref().unwrap().first_seen, Some(T0));
    let stored = stored_after(&first, None);
    // Nothing stored: an event (a decision was made) but no row.
    let again = apply_at(&w, stored.as_deref(), assess(), T0 + 1);
    assert_eq!(again.log.events.len(), 1);
    assert!(again.store.is_none() && again.log.user.is_none());
    // An admin's action that changes nothing logs nothing.
    let unlock = apply_at(&w, stored.as_deref(), UserCommand::Unlock, T0 + 1);
    assert!(unlock.store.is_none() && unlock.log.events.is_empty());
    let nobody = apply_at(&w, None, UserCommand::Erase, T0 + 1);
    assert!(nobody.log.is_empty(), "erasing nobody is no event");
    // The admin's bypass changes the row, with a higher revision.
    let bypass = apply_at(
        &w,
        stored.as_deref(),
        UserCommand::Bypass { minutes: 5 },
        T0 + 2,
    );
    let bypass_row = bypass.log.user.clone().unwrap();
    assert!(bypass_row.revision > row.revision);
    assert_eq!(
        bypass_row.entry.as_ref().unwrap().bypass_until,
        Some(T0 + 2 + 300),
        "the row shows the bypass"
    );
    assert_eq!(bypass.log.events[0].event, EventType::BypassGranted);
    // Every stored change carries the row, changed or not, so an index that
    // missed the user (an older build) catches up.
    let stored_b = stored_after(&bypass, stored.clone());
    let asked = apply_at(
        &w,
        stored_b.as_deref(),
        UserCommand::AskForHelp { message: None },
        T0 + 2,
    );
    assert!(asked.store.is_some(), "a help request is stored");
    let asked_row = asked.log.user.expect("the row comes with it");
    assert_eq!(
        asked_row.entry, bypass_row.entry,
        "though it did not change"
    );
    assert!(asked_row.revision > bypass_row.revision);
    assert!(asked.log.help.is_some());
    assert_eq!(
        bypass.log.events[0].actor,
        edge_mfa_core::audit::Actor::Admin
    );
    // Erased: a row without entry, still newer, and the event.
    let stored = stored_after(&bypass, stored);
    let erased = apply_at(&w, stored.as_deref(), UserCommand::Erase, T0 + 3);
    let erased_row = erased.log.user.unwrap();
    assert!(erased_row.entry.is_none() && erased_row.revision > bypass_row.revision);
    assert_eq!(erased.log.events[0].event, EventType::UserErased);
    // Created again after the erasure: newer than the tombstone.
    let reborn = apply_at(&w, None, assess(), T0 + 4);
    assert!(reborn.log.user.unwrap().revision > erased_row.revision);
}

#[test]
fn a_help_request_stays_open_once_and_its_resolution_acts_on_the_user() {
    use edge_mfa_core::audit::EventType;
    use edge_mfa_core::help::{HelpAction, HelpState};
    let mut w = World::new(Policy::default());
    w.enroll(false);
    let ask = |message: &str| UserCommand::AskForHelp {
        message: Some(message.into()),
    };
    let Ok(Outcome::HelpRequested(first)) = w.run(ask("lost my phone"), false) else {
        panic!()
    };
    assert_eq!(first.state, HelpState::Open);
    let Ok(Outcome::HelpRequested(again)) = w.run(ask("hello?"), false) else {
        panic!()
    };
    assert_eq!(again, first, "one open request per user");
    let created: Vec<_> = w
        .record
        .audit
        .iter()
        .filter(|e| e.event == EventType::HelpRequestCreated)
        .collect();
    assert_eq!(created.len(), 1);
    let resolve = |id: &str, action| UserCommand::ResolveHelp {
        request_id: id.into(),
        action,
        minutes: Some(15),
        note: None,
    };
    assert!(matches!(
        w.run(resolve("help_other", HelpAction::Bypass), false),
        Err(CoreError::NotFound(_))
    ));
    let Ok(Outcome::HelpResolved(done)) = w.run(resolve(&first.id, HelpAction::Bypass), false)
    else {
        panic!()
    };
    assert_eq!(done.state, HelpState::Resolved);
    assert_eq!(w.record.bypass_until, Some(w.now + 15 * 60));
    assert!(matches!(
        w.run(resolve(&first.id, HelpAction::Reset), false),
        Err(CoreError::Conflict(_))
    ));
    let Ok(Outcome::HelpRequested(second)) = w.run(ask("new phone"), false) else {
        panic!()
    };
    assert_ne!(second.id, first.id);
    w.run(resolve(&second.id, HelpAction::Reset), false)
        .unwrap();
    assert!(w.record.factors.is_empty() && w.record.backup_codes.is_none());
    assert_eq!(
        w.record.help.as_ref().map(|h| h.state),
        Some(HelpState::Resolved),
        "a reset keeps the resolved request"
    );
    // Five new requests a day.
    for _ in 0..3 {
        let Ok(Outcome::HelpRequested(r)) = w.run(ask("again"), false) else {
            panic!()
        };
        w.run(resolve(&r.id, HelpAction::None), false).unwrap();
    }
    assert!(matches!(
        w.run(ask("again"), false),
        Err(CoreError::RateLimited { .. })
    ));
    assert!(matches!(
        w.run(
            UserCommand::AskForHelp {
                message: Some("x".repeat(501))
            },
            false
        ),
        Err(CoreError::InvalidRequest(_))
    ));
}

#[test]
fn a_per_user_requirement_overrides_the_mode_with_its_own_period() {
    use edge_mfa_core::assess::{Action, EnrollmentState};
    let mut w = World::new(Policy {
        mode: Mode::Off,
        ..Policy::default()
    });
    let assess = World::assess;
    assert_eq!(assess(&mut w).action, Action::Allow);
    let Ok(Outcome::Status(status)) = w.run(
        UserCommand::SetRequirement {
            required: true,
            enrollment_days: Some(2),
        },
        false,
    ) else {
        panic!()
    };
    assert_eq!(status.enrollment.state, EnrollmentState::Grace);
    assert_eq!(status.enrollment.deadline, Some(T0 + 2 * 86_400));
    w.now = T0 + 3 * 86_400;
    let late = assess(&mut w);
    assert_eq!(late.action, Action::Enroll);
    assert!(late.reasons.iter().any(|r| r == "required_user"));
    w.run(
        UserCommand::SetRequirement {
            required: true,
            enrollment_days: None,
        },
        false,
    )
    .unwrap();
    assert_eq!(assess(&mut w).action, Action::Allow, "renewed: grace again");
    assert_eq!(
        w.record.requirement.as_ref().unwrap().deadline,
        w.now + 7 * 86_400
    );
    w.run(
        UserCommand::SetRequirement {
            required: false,
            enrollment_days: None,
        },
        false,
    )
    .unwrap();
    assert!(w.record.requirement.is_none());
    for days in [0, 366] {
        assert!(matches!(
            w.run(
                UserCommand::SetRequirement {
                    required: true,
                    enrollment_days: Some(days),
                },
                false,
            ),
            Err(CoreError::InvalidRequest(_))
        ));
    }
}

#[test]
fn a_vouched_email_is_logged_as_enrolled() {
    use edge_mfa_core::audit::EventType;
    let w = World::new(Policy {
        allowed_methods: vec![Method::Totp, Method::Email, Method::BackupCode],
        ..Policy::default()
    });
    let enroll = UserCommand::EnrollCode {
        method: Method::Email,
        name: None,
        destination: edge_mfa_core::NewDestination {
            to: "jane@acme.test".to_string().into(),
            masked: "j•••@acme.test".into(),
            calling_code: None,
        },
        vouched: true,
    };
    let applied = apply_at(&w, None, enroll, T0);
    assert!(
        matches!(applied.reply, Ok(Outcome::Confirmed { .. })),
        "{:?}",
        applied.reply
    );
    let types: Vec<_> = applied.log.events.iter().map(|e| e.event).collect();
    assert_eq!(types, [EventType::FactorEnrolled]);
    let json = serde_json::to_string(&applied.log).unwrap();
    assert!(!json.contains("jane@acme.test"), "never the address itself");
}
