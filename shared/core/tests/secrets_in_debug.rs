//! docs/SECURITY.md promises that `Debug` prints no secret. This runs the
//! operations that handle one — TOTP enrollment (secret, otpauth URI), codes typed
//! by the user, backup codes, remember-device tokens, tenant credentials — and
//! formats every command, outcome, record and tenant with `{:?}`, looking for each
//! secret it saw.

#![allow(clippy::unwrap_used, clippy::panic)]

use edge_mfa_core::command::{ConfirmWith, RequestContext};
use edge_mfa_core::env::SeededRandom;
use edge_mfa_core::ids::{TenantId, UserId};
use edge_mfa_core::policy::{Method, Policy};
use edge_mfa_core::seal::MasterKey;
use edge_mfa_core::tenant::{NewTenant, Tenant};
use edge_mfa_core::webhook::Webhook;
use edge_mfa_core::{Env, Outcome, Secret, UserCommand, UserRequest, execute};
use edge_mfa_otp::Totp;

#[test]
fn no_secret_in_any_debug_output() {
    let master = MasterKey::from_bytes(&[9u8; 32]).unwrap();
    let mut rng = SeededRandom::new(3);
    let mut now = 1_800_000_000;
    let mut env = Env::new(now, &mut rng);
    let (tenant, credentials) = Tenant::create(
        NewTenant {
            id: TenantId::try_from("acme".to_string()).unwrap(),
            name: "ACME".into(),
            rp_id: "acme.test".into(),
            origins: vec!["https://app.acme.test".into()],
            policy: Some(Policy::default()),
        },
        edge_mfa_core::policy::Capabilities {
            country: true,
            webhook: false,
        },
        &master,
        &mut env,
    )
    .unwrap();
    let mut tenant = tenant;
    tenant.webhook = Some(Webhook::new(
        &tenant.id,
        "https://hooks.acme.test/mfa".into(),
        vec![],
        &Secret::new("whsec_c2VjcmV0LXdlYmhvb2stc2VjcmV0".to_string()),
        &master,
        &mut env,
    ));
    let user = UserId::try_from("jane".to_string()).unwrap();
    let mut record = Default::default();
    let mut secrets: Vec<String> = vec![
        credentials.admin_key.clone(),
        credentials.ticket_secret.clone(),
        "whsec_c2VjcmV0LXdlYmhvb2stc2VjcmV0".into(),
    ];
    let mut shown: Vec<String> = vec![
        format!("{credentials:?}"),
        format!("{tenant:?}"),
        format!("{master:?}"),
        format!("{:?}", tenant.signer(&master).unwrap()),
    ];
    let mut run = |command: UserCommand, step_up: bool, remember: bool, now: u64| {
        let request = UserRequest {
            command,
            step_up,
            context: RequestContext {
                country: None,
                remember_device: remember.then(|| "Firefox".into()),
                ..Default::default()
            },
        };
        let before = format!("{request:?}");
        let mut env = Env::new(now, &mut rng);
        let outcome = execute(&mut record, &tenant, &master, &user, request, &mut env).unwrap();
        (before, outcome)
    };

    let (c, enrolled) = run(
        UserCommand::EnrollTotp {
            name: None,
            account: "jane".into(),
        },
        false,
        false,
        now,
    );
    shown.extend([c, format!("{enrolled:?}")]);
    let Outcome::TotpEnrollment {
        enrollment_id,
        secret,
        otpauth_uri,
        ..
    } = enrolled
    else {
        panic!()
    };
    let key = data_encoding::BASE32_NOPAD
        .decode(secret.expose().as_bytes())
        .unwrap();
    secrets.extend([secret.expose().clone(), otpauth_uri.expose().clone()]);

    let code = Totp::default().code_at(&key, now);
    secrets.push(code.clone());
    let (c, confirmed) = run(
        UserCommand::Confirm {
            enrollment_id,
            with: ConfirmWith::Code(Secret::new(code)),
        },
        false,
        false,
        now,
    );
    shown.extend([c, format!("{confirmed:?}")]);
    let Outcome::Confirmed {
        backup_codes: Some(codes),
        ..
    } = confirmed
    else {
        panic!()
    };
    secrets.extend(codes.expose().iter().cloned());

    now += 30;
    let code = Totp::default().code_at(&key, now);
    secrets.push(code.clone());
    let (c, verified) = run(
        UserCommand::VerifyCode {
            challenge_id: None,
            method: Some(Method::Totp),
            code: Secret::new(code),
        },
        false,
        true,
        now,
    );
    shown.extend([c, format!("{verified:?}")]);
    let Outcome::Verified(verified) = verified else {
        panic!()
    };
    let device = verified.device_token.as_ref().unwrap().expose().clone();
    secrets.push(device.clone());

    let (c, assessed) = run(
        UserCommand::Assess {
            groups: vec![],
            ip: None,
            device_token: Some(Secret::new(device)),
        },
        false,
        false,
        now,
    );
    shown.extend([c, format!("{assessed:?}")]);
    let (c, redeemed) = run(
        UserCommand::RedeemBackupCode {
            code: Secret::new(codes.expose()[0].clone()),
        },
        false,
        false,
        now,
    );
    shown.extend([c, format!("{redeemed:?}")]);
    let (c, fresh) = run(UserCommand::RegenerateBackupCodes, true, false, now);
    shown.extend([c, format!("{fresh:?}")]);
    let Outcome::BackupCodes { codes: fresh } = fresh else {
        panic!()
    };
    secrets.extend(fresh.expose().iter().cloned());
    shown.push(format!("{record:?}"));

    for text in &shown {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "a secret in Debug output: {text}"
            );
        }
    }
    assert!(secrets.len() > 25, "the test saw the secrets it looks for");
}
