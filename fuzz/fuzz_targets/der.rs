//! The DER reader for attestation certificates (x5c): any bytes, no panic.
#![no_main]
use edge_mfa_webauthn::der::Certificate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Certificate::parse(data);
});
