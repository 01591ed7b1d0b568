//! COSE_Key (ES256, EdDSA, RS256): any bytes, no panic; a parsed key verifies (or
//! refuses) any signature without panicking.
#![no_main]
use edge_mfa_webauthn::cose::CoseKey;
use edge_mfa_webauthn::crypto::RustCrypto;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = CoseKey::from_bytes(data) {
        let _ = key.verify(&RustCrypto, b"message", data);
        let _ = key.sec1_uncompressed();
    }
});
