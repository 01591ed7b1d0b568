//! A whole registration (§7.1) from a RegistrationResponseJSON body: any bytes, no
//! panic. The ceremony takes its challenge and origin from the input itself, so the
//! fuzzer gets past those comparisons into the attestation object.
#![no_main]
use edge_mfa_webauthn::json::{RegistrationResponseJson, from_b64url};
use edge_mfa_webauthn::{RegistrationCeremony, verify_registration};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(response) = serde_json::from_slice::<RegistrationResponseJson>(data) else {
        return;
    };
    let client_data = from_b64url(&response.response.client_data_json, "c").unwrap_or_default();
    let client_data: serde_json::Value = serde_json::from_slice(&client_data).unwrap_or_default();
    let challenge = client_data["challenge"].as_str().unwrap_or_default();
    let challenge = from_b64url(challenge, "c").unwrap_or_default();
    let origins = vec![
        client_data["origin"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    ];
    let _ = verify_registration(
        &RegistrationCeremony {
            challenge: &challenge,
            rp_id: "localhost",
            origins: &origins,
            user_verification_required: false,
            algorithms: &[-8, -7, -257],
            existing: &[],
            trust_anchors: None,
        },
        &response,
    );
});
