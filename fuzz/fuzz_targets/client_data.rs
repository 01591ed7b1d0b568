//! clientDataJSON (§5.8.1, read after UTF-8 decode): any bytes, no panic.
#![no_main]
use edge_mfa_webauthn::{Ceremony, CollectedClientData};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let origins = vec!["https://example.org".to_string()];
    for ceremony in [Ceremony::Create, Ceremony::Get] {
        let _ = CollectedClientData::check(data, ceremony, "Y2hhbGxlbmdl", &origins);
    }
});
