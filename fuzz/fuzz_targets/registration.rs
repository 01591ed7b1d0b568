//! A whole registration (§7.1) from a RegistrationResponseJSON body: any bytes, no
//! panic. The ceremony takes its challenge and origin from the input itself, so the
//! fuzzer gets past those comparisons into the attestation object.
#![no_main]

#[path = "common/mod.rs"]
mod common;
use edge_mfa_webauthn::crypto::RustCrypto;
use edge_mfa_webauthn::json::RegistrationResponseJson;
use edge_mfa_webauthn::{RegistrationCeremony, verify_registration};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(response) = serde_json::from_slice::<RegistrationResponseJson>(data) else {
        return;
    };
    let (challenge, origins) = common::ceremony_of(&response.response.client_data_json);
    let _ = verify_registration(
        &RustCrypto,
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
