//! One negative test per check of WebAuthn Level 3 §7.1 (registration) and §7.2
//! (authentication), each named after its step, with a software authenticator.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::expect_used
)]

mod soft_authenticator;

use edge_mfa_webauthn::crypto::RustCrypto;
use edge_mfa_webauthn::json::from_b64url;
use edge_mfa_webauthn::{
    AuthenticationCeremony, RegisteredCredential, RegistrationCeremony, StoredCredential,
    WebauthnError, verify_authentication, verify_registration,
};
use soft_authenticator::{AT, BE, BS, Params, Soft, UP, UV};

const CHALLENGE: &[u8] = b"0123456789abcdef0123456789abcdef";
const HANDLE: &[u8] = b"user-handle-of-jane";

fn origins() -> Vec<String> {
    vec!["https://app.acme.test".to_string()]
}

fn register_with(
    soft: &Soft,
    p: &Params,
    uv_required: bool,
    algorithms: &[i64],
    existing: &[Vec<u8>],
) -> Result<RegisteredCredential, WebauthnError> {
    register_response(&soft.register(p), uv_required, algorithms, existing)
}

fn register_response(
    response: &edge_mfa_webauthn::json::RegistrationResponseJson,
    uv_required: bool,
    algorithms: &[i64],
    existing: &[Vec<u8>],
) -> Result<RegisteredCredential, WebauthnError> {
    let origins = origins();
    verify_registration(
        &RustCrypto,
        &RegistrationCeremony {
            challenge: CHALLENGE,
            rp_id: "acme.test",
            origins: &origins,
            user_verification_required: uv_required,
            algorithms,
            existing,
            trust_anchors: None,
        },
        response,
    )
}

fn register(p: &Params) -> Result<RegisteredCredential, WebauthnError> {
    register_with(&Soft::new(1), p, true, &[-7], &[])
}

fn registered(soft: &Soft, flags: u8, sign_count: u32) -> RegisteredCredential {
    let p = Params {
        flags: flags | AT,
        sign_count,
        ..Params::create(CHALLENGE)
    };
    register_with(soft, &p, false, &[-7], &[]).unwrap()
}

fn authenticate(
    soft: &Soft,
    credential: &RegisteredCredential,
    stored_count: u32,
    p: &Params,
    uv_required: bool,
) -> Result<edge_mfa_webauthn::Assertion, WebauthnError> {
    authenticate_response(credential, stored_count, &soft.assert(p), uv_required, &[])
}

fn authenticate_response(
    credential: &RegisteredCredential,
    stored_count: u32,
    response: &edge_mfa_webauthn::json::AuthenticationResponseJson,
    uv_required: bool,
    allow: &[Vec<u8>],
) -> Result<edge_mfa_webauthn::Assertion, WebauthnError> {
    let origins = origins();
    let stored = StoredCredential {
        id: &credential.id,
        public_key: &credential.public_key,
        sign_count: stored_count,
        backup_eligible: credential.backup_eligible,
    };
    verify_authentication(
        &RustCrypto,
        &AuthenticationCeremony {
            challenge: CHALLENGE,
            rp_id: "acme.test",
            origins: &origins,
            user_verification_required: uv_required,
            allow_credentials: allow,
            user_handle: HANDLE,
        },
        &[stored],
        response,
    )
}

fn create() -> Params {
    Params::create(CHALLENGE)
}

fn get(count: u32) -> Params {
    Params::get(CHALLENGE, count)
}

// ---- §7.1 registration ----

#[test]
fn reg_accepts_a_good_registration() {
    let c = register(&create()).unwrap();
    assert_eq!(
        (
            c.algorithm,
            c.sign_count,
            c.user_verified,
            c.backup_eligible
        ),
        (-7, 0, true, false)
    );
    assert_eq!(c.transports, vec!["internal"]);
}

#[test]
fn reg_id_and_raw_id_must_agree() {
    let mut r = Soft::new(1).register(&create());
    r.id = "AAAA".into();
    let origins = origins();
    let ceremony = RegistrationCeremony {
        challenge: CHALLENGE,
        rp_id: "acme.test",
        origins: &origins,
        user_verification_required: false,
        algorithms: &[-7],
        existing: &[],
        trust_anchors: None,
    };
    assert_eq!(
        verify_registration(&RustCrypto, &ceremony, &r),
        Err(WebauthnError::CredentialJson("id and rawId differ"))
    );
    // A type other than public-key is refused as the JSON is read.
    let mut json = serde_json::to_value(Soft::new(1).register(&create())).unwrap();
    json["type"] = "password".into();
    assert!(
        serde_json::from_value::<edge_mfa_webauthn::json::RegistrationResponseJson>(json).is_err()
    );
    let mut r = Soft::new(1).register(&create());
    r.response.client_data_json = "not base64!".into();
    assert_eq!(
        verify_registration(&RustCrypto, &ceremony, &r),
        Err(WebauthnError::Base64("clientDataJSON"))
    );
}

#[test]
fn reg_step_5_6_client_data_must_be_json() {
    let mut r = Soft::new(1).register(&create());
    r.response.client_data_json = edge_mfa_webauthn::json::b64url(b"{not json");
    let origins = origins();
    let ceremony = RegistrationCeremony {
        challenge: CHALLENGE,
        rp_id: "acme.test",
        origins: &origins,
        user_verification_required: false,
        algorithms: &[-7],
        existing: &[],
        trust_anchors: None,
    };
    assert_eq!(
        verify_registration(&RustCrypto, &ceremony, &r),
        Err(WebauthnError::ClientDataMalformed)
    );
}

#[test]
fn reg_step_7_type_must_be_webauthn_create() {
    assert_eq!(
        register(&Params {
            type_: "webauthn.get".into(),
            ..create()
        }),
        Err(WebauthnError::ClientDataType)
    );
}

#[test]
fn reg_step_8_challenge_must_match() {
    assert_eq!(
        register(&Params {
            challenge: b"another challenge of 32 bytes!!!".to_vec(),
            ..create()
        }),
        Err(WebauthnError::Challenge)
    );
}

#[test]
fn reg_step_9_origin_must_match_exactly() {
    for origin in [
        "https://evil.test",
        "https://app.acme.test:443",
        "http://app.acme.test",
        "https://app.acme.test/",
        "https://APP.acme.test",
    ] {
        assert_eq!(
            register(&Params {
                origin: origin.into(),
                ..create()
            }),
            Err(WebauthnError::Origin),
            "{origin}"
        );
    }
}

#[test]
fn reg_step_10_cross_origin_is_refused() {
    assert_eq!(
        register(&Params {
            extra_client_data: r#","crossOrigin":true"#.into(),
            ..create()
        }),
        Err(WebauthnError::CrossOrigin)
    );
    assert_eq!(
        register(&Params {
            extra_client_data: r#","topOrigin":"https://evil.test""#.into(),
            ..create()
        }),
        Err(WebauthnError::CrossOrigin)
    );
    // Extra members are allowed (Chromium adds one), and crossOrigin false is fine.
    assert!(
        register(&Params {
            extra_client_data: r#","crossOrigin":false,"other_keys_can_be_added_here":"x""#.into(),
            ..create()
        })
        .is_ok()
    );
}

#[test]
fn reg_step_13_rp_id_hash_must_match() {
    assert_eq!(
        register(&Params {
            rp_id: "evil.test".into(),
            ..create()
        }),
        Err(WebauthnError::RpIdHash)
    );
}

#[test]
fn reg_step_14_user_must_be_present() {
    assert_eq!(
        register(&Params {
            flags: UV | AT,
            ..create()
        }),
        Err(WebauthnError::UserNotPresent)
    );
}

#[test]
fn reg_step_15_user_verification_when_required() {
    assert_eq!(
        register(&Params {
            flags: UP | AT,
            ..create()
        }),
        Err(WebauthnError::UserNotVerified)
    );
    assert!(
        register_with(
            &Soft::new(1),
            &Params {
                flags: UP | AT,
                ..create()
            },
            false,
            &[-7],
            &[]
        )
        .is_ok()
    );
}

#[test]
fn reg_step_16_backup_state_needs_eligibility() {
    assert_eq!(
        register(&Params {
            flags: UP | UV | AT | BS,
            ..create()
        }),
        Err(WebauthnError::BackupStateWithoutEligibility)
    );
    let synced = register(&Params {
        flags: UP | UV | AT | BE | BS,
        ..create()
    })
    .unwrap();
    assert!(synced.backup_eligible && synced.backup_state);
}

#[test]
fn reg_attested_credential_data_is_required() {
    assert_eq!(
        register(&Params {
            flags: UP | UV,
            fmt: "none".into(),
            ..create()
        }),
        Err(WebauthnError::NoAttestedCredential)
    );
}

#[test]
fn reg_credential_id_must_match_authenticator_data() {
    assert_eq!(
        register(&Params {
            id_override: Some(vec![9; 32]),
            ..create()
        }),
        Err(WebauthnError::CredentialIdMismatch)
    );
}

#[test]
fn reg_step_19_algorithm_must_be_one_offered() {
    assert_eq!(
        register_with(&Soft::new(1), &create(), true, &[-257], &[]),
        Err(WebauthnError::AlgorithmNotAllowed(-7))
    );
    // A key that claims another algorithm (EdDSA label on an EC2 key) is refused.
    assert_eq!(
        register(&Params {
            key_alg: -8,
            ..create()
        }),
        Err(WebauthnError::CoseKey("EdDSA needs an OKP key"))
    );
    // An algorithm this build does not verify at all (ES384).
    assert_eq!(
        register(&Params {
            key_alg: -35,
            ..create()
        }),
        Err(WebauthnError::AlgorithmNotAllowed(-35))
    );
}

#[test]
fn reg_step_21_unknown_formats_are_refused() {
    assert_eq!(
        register(&Params {
            fmt: "android-safetynet".into(),
            ..create()
        }),
        Err(WebauthnError::UnsupportedAttestationFormat(
            "android-safetynet".into()
        ))
    );
    assert_eq!(
        register(&Params {
            fmt: "Packed".into(),
            ..create()
        }),
        Err(WebauthnError::UnsupportedAttestationFormat("Packed".into()))
    );
}

#[test]
fn reg_step_22_attestation_statement_must_verify() {
    assert!(
        register(&Params {
            fmt: "none".into(),
            ..create()
        })
        .is_ok()
    );
    assert!(matches!(
        register(&Params {
            stmt_alg: -257,
            ..create()
        }),
        Err(WebauthnError::Attestation(_))
    ));
    // A packed self-attestation signed by another key.
    let soft = Soft::new(1);
    let mut r = soft.register(&create());
    let other = Soft::new(2).register(&create());
    let mut object = edge_mfa_webauthn::AttestationObject::parse(
        &from_b64url(&r.response.attestation_object, "x").unwrap(),
    )
    .unwrap();
    let other_object = edge_mfa_webauthn::AttestationObject::parse(
        &from_b64url(&other.response.attestation_object, "x").unwrap(),
    )
    .unwrap();
    object.att_stmt = other_object.att_stmt;
    let value = ciborium::Value::Map(vec![
        (
            ciborium::Value::Text("fmt".into()),
            ciborium::Value::Text(object.fmt),
        ),
        (ciborium::Value::Text("attStmt".into()), object.att_stmt),
        (
            ciborium::Value::Text("authData".into()),
            ciborium::Value::Bytes(object.auth_data),
        ),
    ]);
    r.response.attestation_object =
        edge_mfa_webauthn::json::b64url(&soft_authenticator::cbor(&value));
    let origins = origins();
    let ceremony = RegistrationCeremony {
        challenge: CHALLENGE,
        rp_id: "acme.test",
        origins: &origins,
        user_verification_required: true,
        algorithms: &[-7],
        existing: &[],
        trust_anchors: None,
    };
    assert!(matches!(
        verify_registration(&RustCrypto, &ceremony, &r),
        Err(WebauthnError::Attestation(_))
    ));
}

#[test]
fn reg_step_26_a_registered_credential_is_refused() {
    let soft = Soft::new(1);
    let c = register(&create()).unwrap();
    assert_eq!(
        register_with(&soft, &create(), true, &[-7], &[c.id]),
        Err(WebauthnError::CredentialAlreadyRegistered)
    );
}

// ---- §7.2 authentication ----

#[test]
fn auth_accepts_a_good_assertion_and_reports_flags() {
    let soft = Soft::new(3);
    let c = registered(&soft, UP | UV, 1);
    let a = authenticate(&soft, &c, 1, &get(2), true).unwrap();
    assert_eq!(
        (a.sign_count, a.user_verified, a.backup_state),
        (2, true, false)
    );
}

#[test]
fn auth_step_5_credential_must_be_allowed() {
    let soft = Soft::new(3);
    let c = registered(&soft, UP, 0);
    let r = soft.assert(&get(0));
    assert_eq!(
        authenticate_response(&c, 0, &r, false, &[vec![1, 2, 3]]),
        Err(WebauthnError::CredentialNotAllowed)
    );
    assert!(authenticate_response(&c, 0, &r, false, std::slice::from_ref(&c.id)).is_ok());
}

#[test]
fn auth_step_6_credential_must_be_the_users() {
    // User A's credential presented where only user B's is stored.
    let a = Soft::new(3);
    let b = Soft::new(4);
    let b_credential = registered(&b, UP, 0);
    let r = a.assert(&get(1));
    assert_eq!(
        authenticate_response(&b_credential, 0, &r, false, &[]),
        Err(WebauthnError::UnknownCredential)
    );
}

#[test]
fn auth_step_6_user_handle_must_be_the_users() {
    let soft = Soft::new(3);
    let c = registered(&soft, UP, 0);
    assert_eq!(
        authenticate(
            &soft,
            &c,
            0,
            &Params {
                user_handle: Some(b"someone-else".to_vec()),
                ..get(1)
            },
            false
        ),
        Err(WebauthnError::UserHandleMismatch)
    );
    assert!(
        authenticate(
            &soft,
            &c,
            0,
            &Params {
                user_handle: Some(HANDLE.to_vec()),
                ..get(1)
            },
            false
        )
        .is_ok()
    );
}

#[test]
fn auth_step_11_type_must_be_webauthn_get() {
    let soft = Soft::new(3);
    let c = registered(&soft, UP, 0);
    assert_eq!(
        authenticate(
            &soft,
            &c,
            0,
            &Params {
                type_: "webauthn.create".into(),
                ..get(1)
            },
            false
        ),
        Err(WebauthnError::ClientDataType)
    );
}

#[test]
fn auth_step_12_challenge_must_match() {
    let soft = Soft::new(3);
    let c = registered(&soft, UP, 0);
    assert_eq!(
        authenticate(
            &soft,
            &c,
            0,
            &Params {
                challenge: b"stale".to_vec(),
                ..get(1)
            },
            false
        ),
        Err(WebauthnError::Challenge)
    );
}

#[test]
fn auth_step_13_origin_must_match() {
    let soft = Soft::new(3);
    let c = registered(&soft, UP, 0);
    assert_eq!(
        authenticate(
            &soft,
            &c,
            0,
            &Params {
                origin: "https://evil.test".into(),
                ..get(1)
            },
            false
        ),
        Err(WebauthnError::Origin)
    );
}

#[test]
fn auth_step_14_cross_origin_is_refused() {
    let soft = Soft::new(3);
    let c = registered(&soft, UP, 0);
    assert_eq!(
        authenticate(
            &soft,
            &c,
            0,
            &Params {
                extra_client_data: r#","crossOrigin":true"#.into(),
                ..get(1)
            },
            false
        ),
        Err(WebauthnError::CrossOrigin)
    );
}

#[test]
fn auth_step_15_rp_id_hash_must_match() {
    let soft = Soft::new(3);
    let c = registered(&soft, UP, 0);
    assert_eq!(
        authenticate(
            &soft,
            &c,
            0,
            &Params {
                rp_id: "evil.test".into(),
                ..get(1)
            },
            false
        ),
        Err(WebauthnError::RpIdHash)
    );
}

#[test]
fn auth_step_16_user_must_be_present() {
    let soft = Soft::new(3);
    let c = registered(&soft, UP, 0);
    assert_eq!(
        authenticate(
            &soft,
            &c,
            0,
            &Params {
                flags: UV,
                ..get(1)
            },
            false
        ),
        Err(WebauthnError::UserNotPresent)
    );
}

#[test]
fn auth_step_17_user_verification_when_required() {
    let soft = Soft::new(3);
    let c = registered(&soft, UP | UV, 0);
    assert_eq!(
        authenticate(
            &soft,
            &c,
            0,
            &Params {
                flags: UP,
                ..get(1)
            },
            true
        ),
        Err(WebauthnError::UserNotVerified)
    );
    assert!(
        authenticate(
            &soft,
            &c,
            0,
            &Params {
                flags: UP,
                ..get(1)
            },
            false
        )
        .is_ok()
    );
}

#[test]
fn auth_step_18_backup_state_needs_eligibility() {
    let soft = Soft::new(3);
    let c = registered(&soft, UP, 0);
    assert_eq!(
        authenticate(
            &soft,
            &c,
            0,
            &Params {
                flags: UP | BS,
                ..get(1)
            },
            false
        ),
        Err(WebauthnError::BackupStateWithoutEligibility)
    );
}

#[test]
fn auth_step_19_backup_eligibility_must_not_change() {
    let soft = Soft::new(3);
    let device_bound = registered(&soft, UP, 0);
    assert_eq!(
        authenticate(
            &soft,
            &device_bound,
            0,
            &Params {
                flags: UP | BE,
                ..get(1)
            },
            false
        ),
        Err(WebauthnError::BackupEligibilityChanged)
    );
    let synced = registered(&soft, UP | BE, 0);
    assert_eq!(
        authenticate(
            &soft,
            &synced,
            0,
            &Params {
                flags: UP,
                ..get(1)
            },
            false
        ),
        Err(WebauthnError::BackupEligibilityChanged)
    );
    // BS may change: a passkey gets backed up later.
    assert!(
        authenticate(
            &soft,
            &synced,
            0,
            &Params {
                flags: UP | BE | BS,
                ..get(1)
            },
            false
        )
        .unwrap()
        .backup_state
    );
}

#[test]
fn auth_step_22_signature_must_verify() {
    let soft = Soft::new(3);
    let c = registered(&soft, UP, 0);
    let other = Soft::new(9);
    let forged = soft.assert_with(&get(1), |m| other.sign(m));
    assert_eq!(
        authenticate_response(&c, 0, &forged, false, &[]),
        Err(WebauthnError::Signature)
    );
    let not_der = soft.assert_with(&get(1), |m| {
        let s: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(&soft.key, m);
        s.to_bytes().to_vec() // raw r||s, not DER
    });
    assert_eq!(
        authenticate_response(&c, 0, &not_der, false, &[]),
        Err(WebauthnError::Signature)
    );
    let empty = soft.assert_with(&get(1), |_| Vec::new());
    assert_eq!(
        authenticate_response(&c, 0, &empty, false, &[]),
        Err(WebauthnError::Signature)
    );
}

#[test]
fn auth_step_22_short_r_and_s_in_der_verify() {
    // DER integers are minimal: r or s below 2^248 encode in 31 bytes or fewer. Find
    // a challenge whose signature has one and check it verifies.
    let soft = Soft::new(3);
    let c = registered(&soft, UP, 0);
    let origins = origins();
    let mut found = false;
    for i in 0u32..4000 {
        let challenge = format!("challenge-{i:08}").into_bytes();
        let r = soft.assert(&Params {
            challenge: challenge.clone(),
            ..get(1)
        });
        let sig = from_b64url(&r.response.signature, "sig").unwrap();
        let r_len = usize::from(sig[3]);
        let s_len = usize::from(sig[5 + r_len]);
        if r_len < 32 || s_len < 32 {
            let stored = StoredCredential {
                id: &c.id,
                public_key: &c.public_key,
                sign_count: 0,
                backup_eligible: false,
            };
            let ceremony = AuthenticationCeremony {
                challenge: &challenge,
                rp_id: "acme.test",
                origins: &origins,
                user_verification_required: false,
                allow_credentials: &[],
                user_handle: HANDLE,
            };
            verify_authentication(&RustCrypto, &ceremony, &[stored], &r)
                .unwrap_or_else(|e| panic!("short r/s ({r_len}, {s_len}) refused: {e}"));
            found = true;
            break;
        }
    }
    assert!(found, "no short r or s in 4000 signatures");
}

#[test]
fn auth_step_23_sign_count_must_rise() {
    let soft = Soft::new(3);
    let c = registered(&soft, UP, 5);
    assert_eq!(
        authenticate(&soft, &c, 5, &get(5), false),
        Err(WebauthnError::SignCountRegression {
            stored: 5,
            received: 5
        })
    );
    assert_eq!(
        authenticate(&soft, &c, 5, &get(4), false),
        Err(WebauthnError::SignCountRegression {
            stored: 5,
            received: 4
        })
    );
    assert_eq!(
        authenticate(&soft, &c, 5, &get(0), false),
        Err(WebauthnError::SignCountRegression {
            stored: 5,
            received: 0
        })
    );
    assert_eq!(
        authenticate(&soft, &c, 5, &get(6), false)
            .unwrap()
            .sign_count,
        6
    );
    // Authenticators without a counter send 0 every time: allowed.
    let zero = registered(&soft, UP, 0);
    assert_eq!(
        authenticate(&soft, &zero, 0, &get(0), false)
            .unwrap()
            .sign_count,
        0
    );
}

/// The attestation object of `response`, rebuilt with `extra` entries in front.
fn with_entries_before(
    response: &edge_mfa_webauthn::json::RegistrationResponseJson,
    extra: Vec<(ciborium::Value, ciborium::Value)>,
) -> edge_mfa_webauthn::json::RegistrationResponseJson {
    let bytes = from_b64url(&response.response.attestation_object, "test").unwrap();
    let ciborium::Value::Map(entries) = ciborium::de::from_reader(bytes.as_slice()).unwrap() else {
        panic!("not a map")
    };
    let mut response = response.clone();
    let object = ciborium::Value::Map(extra.into_iter().chain(entries).collect());
    response.response.attestation_object =
        edge_mfa_webauthn::json::b64url(&soft_authenticator::cbor(&object));
    response
}

fn verify_registration_response(
    response: &edge_mfa_webauthn::json::RegistrationResponseJson,
) -> Result<RegisteredCredential, WebauthnError> {
    register_response(response, false, &[-7], &[])
}

#[test]
fn step_12_an_attestation_object_with_a_repeated_key_is_refused() {
    use ciborium::Value;
    use edge_mfa_webauthn::cbor::CborError;
    let good = Soft::new(1).register(&Params {
        fmt: "none".into(),
        ..Params::create(CHALLENGE)
    });
    assert!(verify_registration_response(&good).is_ok());
    // Peers' bug reports: `fmt` first as an integer, then "none"; `authData` first as
    // a text string. A reader that skips what it cannot use would accept both.
    for (key, first) in [
        ("fmt", Value::Integer(1.into())),
        ("authData", Value::Text("x".into())),
        ("attStmt", Value::Null),
    ] {
        let twice = with_entries_before(&good, vec![(Value::Text(key.into()), first)]);
        assert_eq!(
            verify_registration_response(&twice).err(),
            Some(WebauthnError::Cbor(
                "the attestation object",
                CborError::DuplicateKey
            )),
            "{key} twice"
        );
    }
    // A value of the wrong type, not repeated, is malformed too.
    let bytes = from_b64url(&good.response.attestation_object, "test").unwrap();
    let Value::Map(mut entries) = ciborium::de::from_reader(bytes.as_slice()).unwrap() else {
        panic!()
    };
    entries[0].1 = Value::Integer(1.into());
    let mut wrong_type = good.clone();
    wrong_type.response.attestation_object =
        edge_mfa_webauthn::json::b64url(&soft_authenticator::cbor(&Value::Map(entries)));
    assert_eq!(
        verify_registration_response(&wrong_type).err(),
        Some(WebauthnError::AttestationObjectMalformed)
    );
}

#[test]
fn a_zero_length_credential_id_is_refused() {
    let mut soft = Soft::new(1);
    soft.credential_id = Vec::new();
    // rawId empty.
    let empty = soft.register(&Params {
        fmt: "none".into(),
        ..Params::create(CHALLENGE)
    });
    assert_eq!(
        verify_registration_response(&empty).err(),
        Some(WebauthnError::CredentialIdTooShort)
    );
    // rawId present, but authenticator data carries a credential id of 0 bytes.
    let inner = soft.register(&Params {
        fmt: "none".into(),
        id_override: Some(vec![1; 16]),
        ..Params::create(CHALLENGE)
    });
    assert_eq!(
        verify_registration_response(&inner).err(),
        Some(WebauthnError::CredentialIdTooShort)
    );
}
