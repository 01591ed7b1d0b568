//! What a phone sends as its push subscription (W3C Push API
//! `PushSubscription.toJSON()`): any bytes as JSON, any text as an endpoint. No
//! panic; an endpoint accepted is https on an allowed host (or loopback where
//! allowed); keys accepted encrypt a message that fits one record.
#![no_main]
use edge_mfa_webpush::{MAX_PLAINTEXT, PushServices, PushSubscription, encrypt};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let services = [
        PushServices::default(),
        PushServices {
            loopback: true,
            ..PushServices::default()
        },
    ];
    if let Ok(text) = std::str::from_utf8(data) {
        for rules in &services {
            if rules.check(text).is_ok() {
                let url = url::Url::parse(text).expect("accepted endpoints parse");
                assert!(url.scheme() == "https" || (rules.loopback && url.scheme() == "http"));
                assert!(url.username().is_empty() && url.password().is_none());
            }
        }
    }
    let Ok(subscription) = serde_json::from_slice::<PushSubscription>(data) else {
        return;
    };
    for rules in &services {
        if let Ok(keys) = subscription.check(rules) {
            let body = encrypt(&[0x41; 64], &keys, &[7; 32], &[9; 16]).unwrap_or_default();
            assert!(body.len() <= 4096);
            assert!(encrypt(&vec![0; MAX_PLAINTEXT + 1], &keys, &[7; 32], &[9; 16]).is_err());
        }
    }
});
