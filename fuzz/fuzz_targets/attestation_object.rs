//! The attestation object (§6.5) and its statement: any bytes, no panic.
#![no_main]
use edge_mfa_webauthn::crypto::RustCrypto;
use edge_mfa_webauthn::{AttestationObject, AuthenticatorData};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(object) = AttestationObject::parse(data)
        && let Ok(auth_data) = AuthenticatorData::parse(&object.auth_data)
    {
        let _ = object.verify(&RustCrypto, &auth_data, &[7; 32]);
    }
});
