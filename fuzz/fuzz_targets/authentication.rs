//! A whole assertion (§7.2) from an AuthenticationResponseJSON body: any bytes, no
//! panic. The ceremony takes its challenge, origin and credential id from the input
//! itself, so the fuzzer gets past those comparisons into authenticator data and
//! the signature check.
#![no_main]

#[path = "common/mod.rs"]
mod common;
use edge_mfa_webauthn::crypto::RustCrypto;
use edge_mfa_webauthn::json::{AuthenticationResponseJson, from_b64url};
use edge_mfa_webauthn::{AuthenticationCeremony, StoredCredential, verify_authentication};
use libfuzzer_sys::fuzz_target;

/// An ES256 COSE key (the W3C test vector "none-es256").
const ES256_KEY: &str = "a5010203262001215820afefa16f97ca9b2d23eb86ccb64098d20db90856062eb249c33a9b672f26df61225820930a56b87a2fca66334b03458abf879717c12cc68ed73290af2e2664796b9220";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .filter_map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(response) = serde_json::from_slice::<AuthenticationResponseJson>(data) else {
        return;
    };
    let (challenge, origins) = common::ceremony_of(&response.response.client_data_json);
    let id = from_b64url(&response.raw_id, "id").unwrap_or_default();
    let key = hex(ES256_KEY);
    let stored = [StoredCredential {
        id: &id,
        public_key: &key,
        sign_count: 0,
        backup_eligible: false,
    }];
    let _ = verify_authentication(
        &RustCrypto,
        &AuthenticationCeremony {
            challenge: &challenge,
            rp_id: "localhost",
            origins: &origins,
            user_verification_required: false,
            allow_credentials: &[],
            user_handle: b"user",
        },
        &stored,
        &response,
    );
});
