//! RFC 8291 Appendix A's example, byte for byte, and the endpoint rules.

#![allow(clippy::unwrap_used)]

use edge_mfa_webpush::{PushServices, SubscriptionKeys, WebPushError, encrypt, vapid};

fn b64(text: &str) -> Vec<u8> {
    data_encoding::BASE64URL_NOPAD
        .decode(text.as_bytes())
        .unwrap()
}

#[test]
fn the_rfc_8291_example_encrypts_to_its_body() {
    let keys = SubscriptionKeys::from_base64url(
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
        "BTBZMqHH6r4Tts7J_aSIgg",
    )
    .unwrap();
    let as_secret: [u8; 32] = b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")
        .try_into()
        .unwrap();
    let salt: [u8; 16] = b64("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap();
    let body = encrypt(
        b"When I grow up, I want to be a watermelon",
        &keys,
        &as_secret,
        &salt,
    )
    .unwrap();
    assert_eq!(
        data_encoding::BASE64URL_NOPAD.encode(&body),
        "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
    );
}

#[test]
fn bad_keys_and_long_messages_are_refused() {
    let auth = "BTBZMqHH6r4Tts7J_aSIgg";
    // Compressed, truncated, off the curve.
    for p256dh in [
        "AyVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcx",
        "BCVx",
        &format!("BA{}", "A".repeat(85)),
    ] {
        assert_eq!(
            SubscriptionKeys::from_base64url(p256dh, auth).unwrap_err(),
            WebPushError::InvalidPublicKey
        );
    }
    let p256dh =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    for auth in ["", "BTBZ", "BTBZMqHH6r4Tts7J_aSIggAA", "!!!!"] {
        assert_eq!(
            SubscriptionKeys::from_base64url(p256dh, auth).unwrap_err(),
            WebPushError::InvalidAuthSecret
        );
    }
    let keys = SubscriptionKeys::from_base64url(p256dh, auth).unwrap();
    let long = vec![0u8; edge_mfa_webpush::MAX_PLAINTEXT + 1];
    assert_eq!(
        encrypt(&long, &keys, &[1; 32], &[0; 16]).unwrap_err(),
        WebPushError::TooLong
    );
    let fits = encrypt(&long[1..], &keys, &[1; 32], &[0; 16]).unwrap();
    assert_eq!(fits.len(), 4096);
    assert_eq!(
        encrypt(b"x", &keys, &[0; 32], &[0; 16]).unwrap_err(),
        WebPushError::InvalidEphemeralKey
    );
    assert_eq!(
        encrypt(b"x", &keys, &[0xff; 32], &[0; 16]).unwrap_err(),
        WebPushError::InvalidEphemeralKey
    );
}

#[test]
fn endpoints_are_held_to_the_push_services() {
    let services = PushServices::default();
    for ok in [
        "https://fcm.googleapis.com/fcm/send/abc:def",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAA",
        "https://wns2-par02p.notify.windows.com/w/?token=BQYAAA",
        "https://web.push.apple.com/QGuQyavXutnMH",
    ] {
        assert_eq!(services.check(ok), Ok(()), "{ok}");
    }
    for refused in [
        "http://fcm.googleapis.com/fcm/send/abc",
        "https://fcm.googleapis.com:8443/fcm/send/abc",
        "https://evil.example/fcm.googleapis.com",
        "https://fcm.googleapis.com.evil.example/x",
        "https://notify.windows.com/x",
        "https://user:pw@fcm.googleapis.com/x",
        "https://fcm.googleapis.com/x#frag",
        "https://10.0.0.1/x",
        "http://localhost:8090/notify/x",
        "http://127.0.0.1:8090/notify/x",
        "not a url",
    ] {
        assert!(
            matches!(
                services.check(refused),
                Err(WebPushError::EndpointRefused(_))
            ),
            "{refused}"
        );
    }
    let tests = PushServices {
        loopback: true,
        ..PushServices::default()
    };
    assert_eq!(tests.check("http://localhost:8090/notify/x"), Ok(()));
    assert_eq!(tests.check("http://[::1]:8090/notify/x"), Ok(()));
    assert!(tests.check("http://10.0.0.1:8090/notify/x").is_err());
}

#[test]
fn vapid_claims_name_the_push_services_origin() {
    let claims = vapid::VapidClaims::new(
        "https://fcm.googleapis.com/fcm/send/abc",
        "mailto:ops@example.com",
        1000,
    )
    .unwrap();
    assert_eq!(claims.aud, "https://fcm.googleapis.com");
    assert_eq!(claims.exp, 1000 + vapid::TOKEN_LIFETIME);
    let local = vapid::VapidClaims::new("http://localhost:8090/notify/x", "mailto:a@b", 0).unwrap();
    assert_eq!(local.aud, "http://localhost:8090");
    assert!(vapid::VapidClaims::new("data:text/plain,x", "mailto:a@b", 0).is_none());
    let header = vapid::authorization("a.b.c", &[4; 65]);
    assert!(header.starts_with("vapid t=a.b.c, k=BAQE"));
}
