//! What a tenant or a user types as a destination: webhook URLs (WHATWG parsing,
//! then our rules), SMS numbers (E.164 through `phonenumber`, the Spin build's phone-number port) and email addresses.
//! Any text: no panic, and what is accepted is what the rules say.
#![no_main]
use edge_mfa_api::codes::{LibPhoneNumber, email_destination, sms_destination};
use edge_mfa_core::webhook::{UrlRules, validate_url};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for rules in [
        UrlRules::default(),
        UrlRules {
            allow_loopback_http: true,
        },
    ] {
        if let Ok(url) = validate_url(text, rules) {
            assert!(
                url.starts_with("https://")
                    || (rules.allow_loopback_http && url.starts_with("http://"))
            );
            assert_eq!(
                validate_url(&url, rules).as_deref(),
                Ok(url.as_str()),
                "stable"
            );
        }
    }
    if let Ok(sms) = sms_destination(&LibPhoneNumber, text) {
        let to = sms.to.expose();
        assert!(to.starts_with('+') && to[1..].bytes().all(|b| b.is_ascii_digit()));
        // The masked form shows the calling code and the last three digits, no more.
        let shown = sms.masked.bytes().filter(u8::is_ascii_digit).count();
        let code = sms.calling_code.as_deref().unwrap_or_default();
        assert_eq!(shown, code.len() + 3, "{}", sms.masked);
    }
    let _ = email_destination(text);
});
