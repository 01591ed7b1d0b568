//! Real registrations and assertions (Chromium 156's virtual authenticator, and two
//! signed offline by a software authenticator): each registers and authenticates,
//! and flipping any one byte of authenticatorData, clientDataJSON or the signature
//! makes it fail.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::expect_used
)]

use edge_mfa_webauthn::crypto::RustCrypto;
use edge_mfa_webauthn::json::{
    AuthenticationResponseJson, RegistrationResponseJson, b64url, from_b64url,
};
use edge_mfa_webauthn::{
    AttestationType, AuthenticationCeremony, RegisteredCredential, RegistrationCeremony,
    StoredCredential, WebauthnError, verify_authentication, verify_registration,
};
use serde_json::Value;

const FIXTURES: &[&str] = &[
    "ctap2-internal-direct-packed",
    "ctap2-internal-none-discoverable",
    "ctap2-usb-none-nonresident",
    "synthetic-resign-chromium-key",
    "synthetic-softauthn",
    "u2f-usb-direct-fido-u2f",
];

fn load(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// One recorded authentication: (challenge, UV required, allowCredentials, response).
type Auth = (Vec<u8>, bool, Vec<Vec<u8>>, AuthenticationResponseJson);

struct Fixture {
    value: Value,
    origins: Vec<String>,
}

impl Fixture {
    fn new(name: &str) -> Fixture {
        let value = load(name);
        let origins = vec![value["origin"].as_str().unwrap().to_string()];
        Fixture { value, origins }
    }

    fn rp_id(&self) -> &str {
        self.value["rp_id"].as_str().unwrap()
    }

    fn register(
        &self,
        response: &RegistrationResponseJson,
    ) -> Result<RegisteredCredential, WebauthnError> {
        let options = &self.value["registration"]["options"];
        let challenge = from_b64url(options["challenge"].as_str().unwrap(), "challenge").unwrap();
        let uv = options["authenticatorSelection"]["userVerification"] == "required";
        verify_registration(
            &RustCrypto,
            &RegistrationCeremony {
                challenge: &challenge,
                rp_id: self.rp_id(),
                origins: &self.origins,
                user_verification_required: uv,
                algorithms: &[-7],
                existing: &[],
                trust_anchors: None,
            },
            response,
        )
    }

    fn registration(&self) -> RegistrationResponseJson {
        serde_json::from_value(self.value["registration"]["response"].clone()).unwrap()
    }

    fn authentications(&self) -> Vec<Auth> {
        self.value["authentications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let o = &a["options"];
                let challenge = from_b64url(o["challenge"].as_str().unwrap(), "challenge").unwrap();
                let uv = o["userVerification"] == "required";
                let allow = o["allowCredentials"]
                    .as_array()
                    .map(|l| {
                        l.iter()
                            .map(|c| from_b64url(c["id"].as_str().unwrap(), "id").unwrap())
                            .collect()
                    })
                    .unwrap_or_default();
                (
                    challenge,
                    uv,
                    allow,
                    serde_json::from_value(a["response"].clone()).unwrap(),
                )
            })
            .collect()
    }

    fn user_handle(&self) -> Vec<u8> {
        from_b64url(
            self.value["registration"]["options"]["user"]["id"]
                .as_str()
                .unwrap(),
            "user.id",
        )
        .unwrap()
    }

    fn authenticate(
        &self,
        credential: &RegisteredCredential,
        sign_count: u32,
        (challenge, uv, allow, response): &(
            Vec<u8>,
            bool,
            Vec<Vec<u8>>,
            AuthenticationResponseJson,
        ),
    ) -> Result<edge_mfa_webauthn::Assertion, WebauthnError> {
        let stored = StoredCredential {
            id: &credential.id,
            public_key: &credential.public_key,
            sign_count,
            backup_eligible: credential.backup_eligible,
        };
        let handle = self.user_handle();
        verify_authentication(
            &RustCrypto,
            &AuthenticationCeremony {
                challenge,
                rp_id: self.rp_id(),
                origins: &self.origins,
                user_verification_required: *uv,
                allow_credentials: allow,
                user_handle: &handle,
            },
            &[stored],
            response,
        )
    }
}

#[test]
fn every_fixture_registers_and_authenticates() {
    for name in FIXTURES {
        let f = Fixture::new(name);
        let credential = f
            .register(&f.registration())
            .unwrap_or_else(|e| panic!("{name}: registration: {e}"));
        assert_eq!(credential.algorithm, -7, "{name}");
        let mut count = credential.sign_count;
        for (i, auth) in f.authentications().iter().enumerate() {
            let assertion = f
                .authenticate(&credential, count, auth)
                .unwrap_or_else(|e| panic!("{name}: authentication {i}: {e}"));
            count = assertion.sign_count;
        }
    }
}

#[test]
fn attestation_types_are_recognised() {
    let expect = [
        (
            "ctap2-internal-direct-packed",
            "packed",
            AttestationType::Certificate,
        ),
        (
            "ctap2-internal-none-discoverable",
            "none",
            AttestationType::None,
        ),
        (
            "u2f-usb-direct-fido-u2f",
            "fido-u2f",
            AttestationType::Certificate,
        ),
    ];
    for (name, fmt, kind) in expect {
        let f = Fixture::new(name);
        let c = f.register(&f.registration()).unwrap();
        assert_eq!(
            (c.attestation_format.as_str(), c.attestation_type),
            (fmt, kind),
            "{name}"
        );
    }
}

#[test]
fn sign_counts_rise_across_ctap2_assertions() {
    let f = Fixture::new("ctap2-internal-none-discoverable");
    let credential = f.register(&f.registration()).unwrap();
    let auths = f.authentications();
    let first = f
        .authenticate(&credential, credential.sign_count, &auths[0])
        .unwrap();
    assert!(first.sign_count > credential.sign_count);
    // Replaying the first assertion against the updated counter is a regression.
    assert!(matches!(
        f.authenticate(&credential, first.sign_count, &auths[0]),
        Err(WebauthnError::SignCountRegression { .. })
    ));
}

fn flip(b64: &str, index: usize) -> String {
    let mut bytes = from_b64url(b64, "x").unwrap();
    bytes[index] ^= 0x01;
    b64url(&bytes)
}

#[test]
fn one_flipped_byte_anywhere_fails_authentication() {
    for name in FIXTURES {
        let f = Fixture::new(name);
        let credential = f.register(&f.registration()).unwrap();
        let auth = &f.authentications()[0];
        let response = &auth.3;
        for field in ["authenticatorData", "clientDataJSON", "signature"] {
            let original = match field {
                "authenticatorData" => &response.response.authenticator_data,
                "clientDataJSON" => &response.response.client_data_json,
                _ => &response.response.signature,
            };
            let len = from_b64url(original, "x").unwrap().len();
            for i in 0..len {
                let mut evil = response.clone();
                let flipped = flip(original, i);
                match field {
                    "authenticatorData" => evil.response.authenticator_data = flipped,
                    "clientDataJSON" => evil.response.client_data_json = flipped,
                    _ => evil.response.signature = flipped,
                }
                let tampered = (auth.0.clone(), auth.1, auth.2.clone(), evil);
                assert!(
                    f.authenticate(&credential, credential.sign_count, &tampered)
                        .is_err(),
                    "{name}: {field} byte {i} flipped still verifies"
                );
            }
        }
    }
}

#[test]
fn one_flipped_byte_in_what_the_attestation_signs_fails_registration() {
    // packed and fido-u2f sign authenticatorData and the client data hash; flips in
    // the certificate's own fields are not covered (no trust anchors are configured).
    for name in ["ctap2-internal-direct-packed", "u2f-usb-direct-fido-u2f"] {
        let f = Fixture::new(name);
        let reg = f.registration();
        assert!(f.register(&reg).is_ok());
        let object = from_b64url(&reg.response.attestation_object, "x").unwrap();
        let auth_data = edge_mfa_webauthn::AttestationObject::parse(&object)
            .unwrap()
            .auth_data;
        let at = object
            .windows(auth_data.len())
            .position(|w| w == auth_data.as_slice())
            .unwrap();
        // §8.6: fido-u2f's signature covers rpIdHash, credentialId and the key, not
        // the flags (byte 32), the counter (33..37) or the AAGUID (37..53).
        let uncovered = |offset: usize| name.contains("fido-u2f") && (32..53).contains(&offset);
        for i in at..at + auth_data.len() {
            if uncovered(i - at) {
                continue;
            }
            let mut evil = reg.clone();
            evil.response.attestation_object = flip(&reg.response.attestation_object, i);
            assert!(
                f.register(&evil).is_err(),
                "{name}: authData byte {} flipped still registers",
                i - at
            );
        }
        let cd_len = from_b64url(&reg.response.client_data_json, "x")
            .unwrap()
            .len();
        for i in 0..cd_len {
            let mut evil = reg.clone();
            evil.response.client_data_json = flip(&reg.response.client_data_json, i);
            assert!(
                f.register(&evil).is_err(),
                "{name}: clientDataJSON byte {i}"
            );
        }
    }
}
