//! The WebAuthn Level 3 specification's own test vectors (section "Test Vectors",
//! copied unchanged into `fixtures/w3c/test-vectors.bs`), run through §7.1 and §7.2
//! as a relying party for `example.org`. Each vector is expected to verify, or to
//! be refused with a named error; the table below says which and why.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::type_complexity
)]

use edge_mfa_webauthn::crypto::RustCrypto;
use std::collections::BTreeMap;

use edge_mfa_webauthn::cose::SUPPORTED_ALGORITHMS;
use edge_mfa_webauthn::json::{
    AssertionResponseJson, AttestationResponseJson, AuthenticationResponseJson,
    RegistrationResponseJson, b64url,
};
use edge_mfa_webauthn::{
    AuthenticationCeremony, RegistrationCeremony, StoredCredential, WebauthnError,
    verify_authentication, verify_registration,
};

const VECTORS: &str = include_str!("fixtures/w3c/test-vectors.bs");

/// One example: its section id and the byte strings of each ceremony.
#[derive(Debug, Default)]
struct Vector {
    id: String,
    registration: BTreeMap<String, Vec<u8>>,
    authentication: BTreeMap<String, Vec<u8>>,
}

fn parse() -> Vec<Vector> {
    let mut vectors: Vec<Vector> = Vec::new();
    let mut in_authentication = false;
    for line in VECTORS.lines() {
        if let Some(rest) = line.strip_prefix("## ") {
            let id = rest
                .split("{#sctn-test-vectors-")
                .nth(1)
                .and_then(|s| s.strip_suffix('}'))
                .expect("section id");
            vectors.push(Vector {
                id: id.to_string(),
                ..Vector::default()
            });
            in_authentication = false;
        } else if line.starts_with("[=authentication ceremony") {
            in_authentication = true;
        } else if let Some((name, rest)) = line.split_once(" = h'")
            && let Some(vector) = vectors.last_mut()
        {
            let hex = rest.split('\'').next().unwrap();
            let bytes = data_encoding::HEXLOWER_PERMISSIVE
                .decode(hex.as_bytes())
                .unwrap();
            let map = if in_authentication {
                &mut vector.authentication
            } else {
                &mut vector.registration
            };
            map.insert(name.trim().to_string(), bytes);
        }
    }
    vectors
}

/// What this build does with each vector of the spec.
fn expected(id: &str) -> Result<(), WebauthnError> {
    match id {
        "none-es256"
        | "packed-self-es256"
        | "none-es256-long-credential-id"
        | "packed-es256"
        | "packed-rs256"
        | "packed-eddsa"
        | "fido-u2f-es256"
        | "apple-es256"
        | "tpm-es256" => Ok(()),
        // The informative vector's KeyDescription carries empty authorization lists;
        // §8.4 requires origin = KM_ORIGIN_GENERATED and purpose = KM_PURPOSE_SIGN,
        // which every real device in fixtures/peers states.
        "android-key-es256" => Err(WebauthnError::Attestation(
            "android-key: the key was not generated in the keystore",
        )),
        // The client ran inside a cross-origin iframe: refused (docs/WEBAUTHN.md).
        "none-es256-crossOrigin" | "none-es256-topOrigin" => Err(WebauthnError::CrossOrigin),
        // Algorithms no peer offers by default and this build does not verify.
        "packed-es384" => Err(WebauthnError::AlgorithmNotAllowed(-35)),
        "packed-es512" => Err(WebauthnError::AlgorithmNotAllowed(-36)),
        "packed-ed448" => Err(WebauthnError::AlgorithmNotAllowed(-53)),
        other => panic!("a vector this test does not know: {other}"),
    }
}

const RP_ID: &str = "example.org";

fn origins() -> Vec<String> {
    vec!["https://example.org".to_string()]
}

/// The RegistrationResponseJSON of a vector's registration, with `attestation_object`.
fn registration_response(
    r: &BTreeMap<String, Vec<u8>>,
    attestation_object: &[u8],
) -> RegistrationResponseJson {
    let id = r.get("credential_id").expect("credential_id");
    RegistrationResponseJson {
        id: b64url(id),
        raw_id: b64url(id),
        response: AttestationResponseJson {
            client_data_json: b64url(&r["clientDataJSON"]),
            attestation_object: b64url(attestation_object),
            transports: vec![],
        },
        authenticator_attachment: None,
        client_extension_results: serde_json::json!({}),
        type_: edge_mfa_webauthn::json::PublicKeyCredentialType::PublicKey,
    }
}

/// §7.1 for a vector's registration, offering `algorithms`, with `trust_anchors`.
fn register_trusting(
    r: &BTreeMap<String, Vec<u8>>,
    response: &RegistrationResponseJson,
    algorithms: &[i64],
    trust_anchors: Option<edge_mfa_webauthn::TrustAnchors<'_>>,
) -> Result<edge_mfa_webauthn::RegisteredCredential, WebauthnError> {
    let origins = origins();
    verify_registration(
        &RustCrypto,
        &RegistrationCeremony {
            challenge: &r["challenge"],
            rp_id: RP_ID,
            origins: &origins,
            user_verification_required: false,
            algorithms,
            existing: &[],
            trust_anchors,
        },
        response,
    )
}

/// §7.1 for a vector's registration, offering `algorithms`, without trust anchors.
fn register(
    r: &BTreeMap<String, Vec<u8>>,
    response: &RegistrationResponseJson,
    algorithms: &[i64],
) -> Result<edge_mfa_webauthn::RegisteredCredential, WebauthnError> {
    register_trusting(r, response, algorithms, None)
}

#[test]
fn every_spec_vector_verifies_or_is_refused_by_name() {
    let vectors: Vec<Vector> = parse()
        .into_iter()
        .filter(|v| v.id != "attestation-root-cert")
        .collect();
    assert_eq!(vectors.len(), 15, "the spec's 15 ceremony pairs");
    for v in &vectors {
        let r = &v.registration;
        let id = r.get("credential_id").expect("credential_id");
        // The relying party offers what peers offer by default, plus the vector's
        // own algorithm, so an unsupported one is refused for what it is.
        let mut algorithms = SUPPORTED_ALGORITHMS.to_vec();
        algorithms.extend([-35, -36, -53]);
        let registered = register(
            r,
            &registration_response(r, &r["attestationObject"]),
            &algorithms,
        );
        let want = expected(&v.id);
        assert_eq!(
            registered.as_ref().map(|_| ()).map_err(Clone::clone),
            want,
            "registration of {}",
            v.id
        );
        let Ok(registered) = registered else { continue };

        let a = &v.authentication;
        let assertion = AuthenticationResponseJson {
            id: b64url(id),
            raw_id: b64url(id),
            response: AssertionResponseJson {
                client_data_json: b64url(&a["clientDataJSON"]),
                authenticator_data: b64url(&a["authenticatorData"]),
                signature: b64url(&a["signature"]),
                user_handle: None,
            },
            authenticator_attachment: None,
            client_extension_results: serde_json::json!({}),
            type_: edge_mfa_webauthn::json::PublicKeyCredentialType::PublicKey,
        };
        let stored = [StoredCredential {
            id: &registered.id,
            public_key: &registered.public_key,
            sign_count: registered.sign_count,
            backup_eligible: registered.backup_eligible,
        }];
        let verified = verify_authentication(
            &RustCrypto,
            &AuthenticationCeremony {
                challenge: &a["challenge"],
                rp_id: RP_ID,
                origins: &origins(),
                user_verification_required: false,
                allow_credentials: &[],
                user_handle: b"unused",
            },
            &stored,
            &assertion,
        );
        assert!(verified.is_ok(), "authentication of {}: {verified:?}", v.id);
    }
}

#[test]
fn apple_nonce_must_cover_the_authenticator_data() {
    assert_eq!(register_mutated("apple-es256", |_| {}), Ok(()));
    let flip_sign_count = |entries: &mut Vec<(ciborium::Value, ciborium::Value)>| {
        for (k, value) in entries.iter_mut() {
            if let (Some("authData"), ciborium::Value::Bytes(bytes)) = (k.as_text(), value) {
                // The signature counter: covered by nothing but the nonce.
                bytes[36] ^= 1;
            }
        }
    };
    assert_eq!(
        register_mutated("apple-es256", flip_sign_count),
        Err(WebauthnError::Attestation(
            "apple nonce does not match authenticatorData and clientDataHash"
        ))
    );
}

/// Registers the vector `id` after `mutate` changed its attestation object.
fn register_mutated(
    id: &str,
    mutate: impl Fn(&mut Vec<(ciborium::Value, ciborium::Value)>),
) -> Result<(), WebauthnError> {
    use ciborium::Value;
    let v = parse().into_iter().find(|v| v.id == id).unwrap();
    let r = &v.registration;
    let Value::Map(mut entries) =
        ciborium::de::from_reader(r["attestationObject"].as_slice()).unwrap()
    else {
        panic!()
    };
    mutate(&mut entries);
    let mut object = Vec::new();
    ciborium::ser::into_writer(&Value::Map(entries), &mut object).unwrap();
    register(r, &registration_response(r, &object), SUPPORTED_ALGORITHMS).map(|_| ())
}

/// Flips the byte at `at(bytes)` of the attestation statement's byte string `field`.
fn flip_in_statement(
    field: &'static str,
    at: fn(&[u8]) -> usize,
) -> impl Fn(&mut Vec<(ciborium::Value, ciborium::Value)>) {
    move |entries| {
        for (k, v) in entries.iter_mut() {
            let (Some("attStmt"), ciborium::Value::Map(stmt)) = (k.as_text(), v) else {
                continue;
            };
            for (sk, sv) in stmt.iter_mut() {
                if let (Some(name), ciborium::Value::Bytes(b)) = (sk.as_text(), sv)
                    && name == field
                {
                    let i = at(b);
                    b[i] ^= 1;
                }
            }
        }
    }
}

fn last(b: &[u8]) -> usize {
    b.len() - 1
}

/// certInfo: magic (4) | type (2) | qualifiedSigner (2 + n) | extraData (2 + m) | ...
fn first_byte_of_extra_data(b: &[u8]) -> usize {
    6 + 2 + usize::from(u16::from_be_bytes([b[6], b[7]])) + 2
}

fn first(_: &[u8]) -> usize {
    0
}

#[test]
fn tpm_statements_are_checked_part_by_part() {
    assert_eq!(register_mutated("tpm-es256", |_| {}), Ok(()));
    let cases: [(&str, fn(&[u8]) -> usize, &str); 4] = [
        (
            "pubArea",
            last,
            "tpm: pubArea is not the credential public key",
        ),
        (
            "certInfo",
            first_byte_of_extra_data,
            "tpm: extraData is not the hash of authData || clientDataHash",
        ),
        (
            "certInfo",
            first,
            "tpm: certInfo magic is not TPM_GENERATED_VALUE",
        ),
        (
            "sig",
            last,
            "tpm: the AIK signature over certInfo does not verify",
        ),
    ];
    for (field, at, why) in cases {
        assert_eq!(
            register_mutated("tpm-es256", flip_in_statement(field, at)),
            Err(WebauthnError::Attestation(why)),
            "{field}"
        );
    }
}

#[test]
fn with_trust_anchors_only_paths_to_a_root_register() {
    use edge_mfa_webauthn::TrustAnchors;
    let vectors = parse();
    let ca = vectors
        .iter()
        .find(|v| v.id == "attestation-root-cert")
        .unwrap()
        .registration["attestation_ca_cert"]
        .clone();
    let other_ca = {
        // Another root: the spec's CA with its public key changed (one byte of the
        // point's x coordinate, after `03 42 00 04`).
        let mut c = ca.clone();
        let at = c
            .windows(4)
            .position(|w| w == [0x03, 0x42, 0x00, 0x04])
            .unwrap()
            + 4;
        c[at] ^= 1;
        c
    };
    let now = 1_800_000_000;
    let register_with = |id: &str, roots: &[Vec<u8>], now: u64| {
        let r = &vectors.iter().find(|v| v.id == id).unwrap().registration;
        let response = registration_response(r, &r["attestationObject"]);
        register_trusting(
            r,
            &response,
            SUPPORTED_ALGORITHMS,
            Some(TrustAnchors { roots, now }),
        )
        .map(|_| ())
    };
    let roots = [ca];
    for id in [
        "packed-es256",
        "packed-rs256",
        "packed-eddsa",
        "tpm-es256",
        "fido-u2f-es256",
        "apple-es256",
    ] {
        assert_eq!(register_with(id, &roots, now), Ok(()), "{id}");
        assert_eq!(
            register_with(id, std::slice::from_ref(&other_ca), now),
            Err(WebauthnError::AttestationNotTrusted(
                "the certificate path leads to none of the tenant's roots"
            )),
            "{id} with another root"
        );
    }
    for id in ["none-es256", "packed-self-es256"] {
        assert_eq!(
            register_with(id, &roots, now),
            Err(WebauthnError::AttestationNotTrusted(
                "the tenant accepts only attested authenticators"
            )),
            "{id}"
        );
    }
    // Long after the certificates expire (the vectors' run to 3024; this is 3237),
    // and before they begin.
    assert_eq!(
        register_with("packed-es256", &roots, 40_000_000_000),
        Err(WebauthnError::AttestationNotTrusted(
            "a certificate is not valid now"
        ))
    );
    assert_eq!(
        register_with("packed-es256", &roots, 1_000_000_000),
        Err(WebauthnError::AttestationNotTrusted(
            "a certificate is not valid now"
        ))
    );
}
