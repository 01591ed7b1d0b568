//! Strict CBOR (`cbor.rs`): any bytes, no panic; whatever is accepted has no
//! repeated map key.
#![no_main]
use edge_mfa_webauthn::cbor;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cbor::decode_exact(data);
    if let Ok((_, rest)) = cbor::decode_prefix(data) {
        assert!(rest.len() <= data.len());
    }
});
