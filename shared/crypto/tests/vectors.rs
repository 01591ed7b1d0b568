//! `RustCrypto` against `vectors.json`: signatures from an independent
//! implementation (Node's OpenSSL) and mutations no implementation may accept. The
//! Worker's port is checked against the same file (tests/crypto/).

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use data_encoding::BASE64URL_NOPAD;
use edge_mfa_crypto::{Algorithm, Crypto, PublicKey, RustCrypto, SigningKey};
use zeroize::Zeroizing;

#[derive(serde::Deserialize)]
struct Vectors {
    vectors: Vec<Vector>,
}

#[derive(serde::Deserialize)]
struct Vector {
    name: String,
    alg: String,
    key: serde_json::Map<String, serde_json::Value>,
    message: String,
    signature: String,
    valid: bool,
    #[serde(default)]
    precheck: bool,
}

fn bytes(s: &str) -> Vec<u8> {
    BASE64URL_NOPAD.decode(s.as_bytes()).unwrap()
}

fn member(key: &serde_json::Map<String, serde_json::Value>, name: &str) -> Vec<u8> {
    bytes(key[name].as_str().unwrap())
}

fn array(v: &[u8]) -> [u8; 32] {
    v.try_into().unwrap()
}

/// Every vector, with its algorithm and key as the port takes them.
fn each_vector(check: impl Fn(&Vector, Algorithm, PublicKey<'_>)) {
    let file: Vectors = serde_json::from_str(include_str!("vectors.json")).unwrap();
    assert!(file.vectors.len() >= 20);
    for v in &file.vectors {
        let alg = match v.alg.as_str() {
            "ES256" => Algorithm::Es256,
            "EdDSA" => Algorithm::EdDsa,
            "RS256" => Algorithm::Rs256,
            "RS1" => Algorithm::Rs1,
            other => panic!("{other}"),
        };
        let (x, y, n, e);
        let key = match v.key["kty"].as_str().unwrap() {
            "EC" => {
                (x, y) = (array(&member(&v.key, "x")), array(&member(&v.key, "y")));
                PublicKey::P256 { x: &x, y: &y }
            }
            "OKP" => {
                x = array(&member(&v.key, "x"));
                PublicKey::Ed25519(&x)
            }
            "RSA" => {
                (n, e) = (member(&v.key, "n"), member(&v.key, "e"));
                PublicKey::Rsa { n: &n, e: &e }
            }
            other => panic!("{other}"),
        };
        check(v, alg, key);
    }
}

#[test]
fn rust_crypto_answers_every_vector() {
    each_vector(|v, alg, key| {
        let got = RustCrypto.verify(alg, key, &bytes(&v.message), &bytes(&v.signature));
        assert_eq!(got, v.valid, "{}", v.name);
    });
}

/// The Worker's port answers `precheck` vectors (which BoringSSL accepts) with
/// this check; it must refuse every one and pass every valid signature.
#[test]
fn the_boringssl_precheck_refuses_what_boringssl_would_accept() {
    let prechecked = std::cell::Cell::new(0);
    each_vector(|v, _, key| {
        let passes = edge_mfa_crypto::boringssl_precheck(key, &bytes(&v.signature));
        if v.precheck {
            assert!(!passes, "{}", v.name);
            prechecked.set(prechecked.get() + 1);
        }
        if v.valid {
            assert!(passes, "{}", v.name);
        }
    });
    // Two Ed25519 signatures whose equation holds, and a 1024-bit RSA key.
    assert!(prechecked.get() >= 3);
}

#[test]
fn rust_crypto_signs_what_it_verifies() {
    let scalar = [7u8; 32];
    let public = p256::ecdsa::SigningKey::from_slice(&scalar)
        .unwrap()
        .verifying_key()
        .to_sec1_point(false);
    let (x, y) = (
        array(&public.as_bytes()[1..33]),
        array(&public.as_bytes()[33..]),
    );
    let open = || Some(Zeroizing::new(scalar));
    let key = SigningKey {
        id: "k",
        open: &open,
    };
    let raw = RustCrypto.sign_es256(&key, b"input").unwrap();
    // RFC 6979: the same signature `ecdsa::SigningKey` makes for this key and input.
    let reference: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(
        &p256::ecdsa::SigningKey::from_slice(&scalar).unwrap(),
        b"input",
    );
    assert_eq!(raw, <[u8; 64]>::from(reference.to_bytes()));
    // Zero and n are no keys.
    for bad in [[0u8; 32], [0xffu8; 32]] {
        let open = || Some(Zeroizing::new(bad));
        let key = SigningKey {
            id: "bad",
            open: &open,
        };
        assert!(RustCrypto.sign_es256(&key, b"input").is_none());
    }
    let der = edge_mfa_crypto::es256_der_from_raw(&raw).unwrap();
    let public = PublicKey::P256 { x: &x, y: &y };
    assert!(RustCrypto.verify(Algorithm::Es256, public, b"input", &der));
    assert!(!RustCrypto.verify(Algorithm::Es256, public, b"other", &der));
    // A key that does not open signs nothing.
    let closed = || None;
    let key = SigningKey {
        id: "k",
        open: &closed,
    };
    assert!(RustCrypto.sign_es256(&key, b"input").is_none());
    assert_eq!(format!("{key:?}"), "SigningKey { id: \"k\", .. }");
}
