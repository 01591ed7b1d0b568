//! The core's operations end to end, with a fixed clock and seeded randomness.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use edge_mfa_core::command::ConfirmWith;
use edge_mfa_core::env::SeededRandom;
use edge_mfa_core::ids::{TenantId, UserId};
use edge_mfa_core::policy::{Method, Policy};
use edge_mfa_core::seal::MasterKey;
use edge_mfa_core::tenant::{NewTenant, Tenant};
use edge_mfa_core::{
    CoreError, Env, Outcome, UserCommand, UserRequest, apply, execute, user::UserRecord,
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
        let mut env = Env {
            now: T0,
            random: &mut rng,
        };
        let new = NewTenant {
            id: TenantId::try_from("acme".to_string()).unwrap(),
            name: "ACME".into(),
            rp_id: "acme.test".into(),
            origins: vec!["https://app.acme.test".into()],
            policy: Some(policy),
        };
        let (tenant, _) = Tenant::create(new, &master, &mut env).unwrap();
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
        let mut env = Env {
            now: self.now,
            random: &mut self.rng,
        };
        execute(
            &mut self.record,
            &self.tenant,
            &self.master,
            &self.user,
            UserRequest {
                command,
                step_up,
                context: Default::default(),
            },
            &mut env,
        )
    }

    /// Enrolls and confirms TOTP; returns (factor id, secret, backup codes).
    fn enroll(&mut self, step_up: bool) -> (String, Vec<u8>, Option<Vec<String>>) {
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
        assert!(otpauth_uri.contains(&format!("secret={secret}")));
        let secret = data_encoding::BASE32_NOPAD
            .decode(secret.as_bytes())
            .unwrap();
        assert_eq!(secret.len(), 20, "160-bit secret");
        let code = Totp::default().code_at(&secret, self.now);
        let Outcome::Confirmed {
            factor,
            backup_codes,
        } = self
            .run(
                UserCommand::Confirm {
                    enrollment_id,
                    with: ConfirmWith::Code(code),
                },
                false,
            )
            .unwrap()
        else {
            panic!("not confirmed")
        };
        (factor.id, secret, backup_codes)
    }

    fn verify_totp(&mut self, code: String) -> Result<Outcome, CoreError> {
        self.run(
            UserCommand::VerifyCode {
                challenge_id: None,
                method: Some(Method::Totp),
                code,
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
    // The confirming code's step is used: the same code cannot verify.
    let same = Totp::default().code_at(&secret, w.now);
    assert!(matches!(
        w.verify_totp(same),
        Err(CoreError::VerificationFailed(_))
    ));
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
}

#[test]
fn enrollment_expires_and_is_single_use() {
    let mut w = World::new(Policy::default());
    let Outcome::TotpEnrollment {
        enrollment_id,
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
    let secret = data_encoding::BASE32_NOPAD
        .decode(secret.as_bytes())
        .unwrap();
    w.now += 601;
    let code = Totp::default().code_at(&secret, w.now);
    assert!(matches!(
        w.run(
            UserCommand::Confirm {
                enrollment_id,
                with: ConfirmWith::Code(code)
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
        Err(CoreError::VerificationFailed(_))
    ));
    let Ok(Outcome::BackupCodes { codes: fresh }) = w.run(UserCommand::RegenerateBackupCodes, true)
    else {
        panic!()
    };
    assert!(matches!(
        redeem(&mut w, &codes[1]),
        Err(CoreError::VerificationFailed(_))
    ));
    let Ok(Outcome::Verified(v)) = redeem(&mut w, &fresh[3]) else {
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
            Err(CoreError::VerificationFailed(_))
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
    w.enroll(false);
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
    assert!(w.verify_totp("12345".into()).is_err());
    assert_eq!(w.record.failures.count(&w.tenant.policy.lockout, w.now), 1);
    let mut after = w.record.clone();
    after.failures = before.failures.clone();
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
                code,
            },
            false,
        )
    };
    assert!(matches!(
        verify(&mut w, "000000".into()),
        Err(CoreError::VerificationFailed(_))
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
    let mut env = Env {
        now: T0,
        random: &mut rng,
    };
    let list = || UserRequest {
        command: UserCommand::ListFactors,
        step_up: false,
        context: Default::default(),
    };
    let first = apply(None, &w.tenant, &w.master, &w.user, list(), &mut env);
    let stored = first.store.expect("first contact records first_seen");
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
        .decode(secret.as_bytes())
        .unwrap();
    let code = Totp::default().code_at(&secret, w.now);
    let late = w.run(
        UserCommand::Confirm {
            enrollment_id: attackers,
            with: ConfirmWith::Code(code),
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
            code,
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
            code: codes.unwrap()[0].clone(),
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
