//! Property tests over the parsers that take attacker bytes: the CBOR attestation
//! object, authenticator data, COSE keys, client data JSON and the DER certificate
//! reader. Any input yields `Ok` or `Err`, never a panic or a runaway allocation.
//! (A bounded run; `cargo test` runs it on every test command.)

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod soft_authenticator;

use edge_mfa_webauthn::cose::CoseKey;
use edge_mfa_webauthn::crypto::RustCrypto;
use edge_mfa_webauthn::json::from_b64url;
use edge_mfa_webauthn::{AttestationObject, AuthenticatorData, Ceremony, CollectedClientData};
use proptest::prelude::*;
use soft_authenticator::{Params, Soft};

fn real_attestation_object() -> Vec<u8> {
    let r = Soft::new(1).register(&Params::create(b"challenge"));
    from_b64url(&r.response.attestation_object, "x").unwrap()
}

/// Chromium's packed attestation with an x5c certificate: mutations reach the DER reader.
fn packed_x5c_attestation_object() -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/ctap2-internal-direct-packed.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let fixture: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    from_b64url(
        fixture["registration"]["response"]["response"]["attestationObject"]
            .as_str()
            .unwrap(),
        "x",
    )
    .unwrap()
}

fn real_auth_data() -> Vec<u8> {
    AttestationObject::parse(&real_attestation_object())
        .unwrap()
        .auth_data
}

/// Mutates a valid input: flips, truncations and insertions keep it near the
/// grammar, so the parsers' deeper branches are reached.
fn mutated(seed: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = seed.len();
    prop::collection::vec((0..len.max(1), any::<u8>(), 0u8..4), 1..8).prop_map(move |edits| {
        let mut bytes = seed.clone();
        for (at, byte, kind) in edits {
            let at = at.min(bytes.len().saturating_sub(1));
            match kind {
                0 if !bytes.is_empty() => bytes[at] = byte,
                1 => bytes.truncate(at),
                2 => bytes.insert(at.min(bytes.len()), byte),
                _ if !bytes.is_empty() => {
                    bytes.remove(at);
                }
                _ => {}
            }
        }
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn attestation_object_random(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = AttestationObject::parse(&bytes);
    }

    #[test]
    fn attestation_object_mutated(bytes in mutated(real_attestation_object())) {
        if let Ok(object) = AttestationObject::parse(&bytes)
            && let Ok(auth_data) = AuthenticatorData::parse(&object.auth_data)
        {
            let _ = object.verify(&RustCrypto, &auth_data, &[0; 32]);
        }
    }

    #[test]
    fn x5c_attestation_object_mutated(bytes in mutated(packed_x5c_attestation_object())) {
        if let Ok(object) = AttestationObject::parse(&bytes)
            && let Ok(auth_data) = AuthenticatorData::parse(&object.auth_data)
        {
            let _ = object.verify(&RustCrypto, &auth_data, &[0; 32]);
        }
    }

    #[test]
    fn authenticator_data_random(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = AuthenticatorData::parse(&bytes);
    }

    #[test]
    fn authenticator_data_mutated(bytes in mutated(real_auth_data())) {
        let _ = AuthenticatorData::parse(&bytes);
    }

    #[test]
    fn cose_key_random(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = CoseKey::from_bytes(&bytes);
    }

    #[test]
    fn client_data_random(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = CollectedClientData::check(&bytes, Ceremony::Get, "abc", &["https://a.test".to_string()]);
    }

    #[test]
    fn client_data_text(text in r#"\{("[a-zA-Z]{0,12}":("[ -~]{0,20}"|true|false|null|[0-9]{1,5}),?){0,6}\}"#) {
        let _ = CollectedClientData::check(text.as_bytes(), Ceremony::Create, "abc", &["https://a.test".to_string()]);
    }
}

#[test]
fn huge_declared_lengths_do_not_allocate() {
    // A byte string claiming 2^63 bytes, an array claiming 2^32 items, deep nesting.
    for bytes in [
        vec![0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        vec![0x9a, 0xff, 0xff, 0xff, 0xff],
        vec![0x81; 10_000],
        vec![0xa1; 10_000],
    ] {
        assert!(AttestationObject::parse(&bytes).is_err());
        assert!(CoseKey::from_bytes(&bytes).is_err());
    }
}
