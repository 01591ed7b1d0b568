//! What the HTTP layer decodes before any handler: path segments, chunked bodies
//! against the 64 KiB limit, and the policy object (JSON, then validation).
#![no_main]
use edge_mfa_api::{BodyReader, MAX_BODY_BYTES, percent_decode};
use edge_mfa_core::policy::Policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = percent_decode(text);
    }
    let mut reader = BodyReader::default();
    for chunk in data.chunks(7) {
        if !reader.push(chunk) {
            break;
        }
    }
    if let Ok(body) = reader.finish() {
        assert!(body.len() <= MAX_BODY_BYTES);
    }
    if let Ok(policy) = serde_json::from_slice::<Policy>(data) {
        let _ = policy.validate();
    }
});
