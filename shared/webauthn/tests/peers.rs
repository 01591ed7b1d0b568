//! Real-device registrations and assertions from peers' published test suites
//! (Yubico's java-webauthn-server `RealExamples`, py_webauthn, SimpleWebAuthn),
//! copied into `fixtures/peers/` with their source and licence (its README). Each
//! one with a supported algorithm and format verifies, and so does its assertion;
//! each one refused is refused with a named error, never a panic.

#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use edge_mfa_webauthn::cose::SUPPORTED_ALGORITHMS;
use edge_mfa_webauthn::crypto::RustCrypto;
use edge_mfa_webauthn::json::{AuthenticationResponseJson, RegistrationResponseJson, from_b64url};
use edge_mfa_webauthn::{
    AuthenticationCeremony, RegistrationCeremony, StoredCredential, WebauthnError,
    verify_authentication, verify_registration,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    device: String,
    rp_id: String,
    origin: String,
    registration: Registration,
    authentication: Option<Authentication>,
}

#[derive(Deserialize)]
struct Registration {
    challenge: String,
    credential: RegistrationResponseJson,
    fmt: String,
    alg: i64,
}

#[derive(Deserialize)]
struct Authentication {
    challenge: String,
    credential: AuthenticationResponseJson,
    user_verified: bool,
}

/// What this build does with an attestation format.
fn expected(fmt: &str) -> Result<(), WebauthnError> {
    match fmt {
        "none" | "packed" | "fido-u2f" | "apple" | "tpm" | "android-key" => Ok(()),
        other => Err(WebauthnError::UnsupportedAttestationFormat(other.into())),
    }
}

#[test]
fn every_peer_fixture_verifies_or_is_refused_by_name() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/peers");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 14, "the peers' fixtures are there");
    let mut verified = 0;
    for path in &paths {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let f: Fixture = serde_json::from_slice(&std::fs::read(path).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let origins = vec![f.origin.clone()];
        let challenge = from_b64url(&f.registration.challenge, "challenge").unwrap();
        let result = verify_registration(
            &RustCrypto,
            &RegistrationCeremony {
                challenge: &challenge,
                rp_id: &f.rp_id,
                origins: &origins,
                user_verification_required: false,
                algorithms: SUPPORTED_ALGORITHMS,
                existing: &[],
                trust_anchors: None,
            },
            &f.registration.credential,
        );
        let want = expected(&f.registration.fmt);
        assert_eq!(
            result.as_ref().map(|_| ()).map_err(Clone::clone),
            want,
            "{name} ({}, {}, alg {})",
            f.device,
            f.registration.fmt,
            f.registration.alg
        );
        let Ok(registered) = result else { continue };
        verified += 1;
        assert_eq!(registered.algorithm, f.registration.alg, "{name}");
        assert_eq!(registered.attestation_format, f.registration.fmt, "{name}");
        let Some(auth) = &f.authentication else {
            continue;
        };
        let challenge = from_b64url(&auth.challenge, "challenge").unwrap();
        let stored = [StoredCredential {
            id: &registered.id,
            public_key: &registered.public_key,
            sign_count: registered.sign_count,
            backup_eligible: registered.backup_eligible,
        }];
        let handle = auth
            .credential
            .response
            .user_handle
            .as_deref()
            .map(|h| from_b64url(h, "userHandle").unwrap())
            .unwrap_or_default();
        let assertion = verify_authentication(
            &RustCrypto,
            &AuthenticationCeremony {
                challenge: &challenge,
                rp_id: &f.rp_id,
                origins: &origins,
                user_verification_required: auth.user_verified,
                allow_credentials: &[],
                user_handle: &handle,
            },
            &stored,
            &auth.credential,
        )
        .unwrap_or_else(|e| panic!("{name}: assertion refused: {e:?}"));
        assert_eq!(assertion.user_verified, auth.user_verified, "{name}");
    }
    assert!(verified >= 10, "only {verified} fixtures verified");
}
