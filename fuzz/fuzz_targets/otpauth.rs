//! otpauth:// URIs from any issuer and account: no panic, and the label holds
//! exactly one colon, between an issuer equal to the `issuer` parameter and the
//! account (Key Uri Format).
#![no_main]
use edge_mfa_otp::{KeyUri, Totp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (issuer, account) = text.split_once('\u{0}').unwrap_or((text, "account"));
    let uri = KeyUri {
        issuer,
        account,
        secret: b"12345678901234567890",
        totp: Totp::default(),
    }
    .to_uri();
    let rest = uri.strip_prefix("otpauth://totp/").unwrap_or_default();
    let (label, query) = rest.split_once('?').unwrap_or_default();
    assert_eq!(label.matches(':').count(), 1, "{uri}");
    let label_issuer = label.split(':').next().unwrap_or_default();
    assert!(query.contains(&format!("&issuer={label_issuer}&")), "{uri}");
    assert!(!uri.contains(' ') && !uri.contains('#'), "{uri}");
});
