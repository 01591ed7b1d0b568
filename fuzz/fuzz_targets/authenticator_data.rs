//! Authenticator data (§6.1): any bytes, no panic, every length checked.
#![no_main]
use edge_mfa_webauthn::AuthenticatorData;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = AuthenticatorData::parse(data) {
        assert_eq!(parsed.raw, data);
        let _ = parsed.check("example.org", true);
    }
});
