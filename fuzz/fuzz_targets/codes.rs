//! Codes as typed: separators and backup-code normalisation, any text, no panic;
//! a normalised backup code is always 12 symbols.
#![no_main]
use edge_mfa_core::backup_codes::normalise;
use edge_mfa_core::codes::strip_separators;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let stripped = strip_separators(text);
    assert!(!stripped.contains(' ') && !stripped.contains('-'));
    if let Some(code) = normalise(text) {
        assert_eq!(code.len(), 12);
    }
});
