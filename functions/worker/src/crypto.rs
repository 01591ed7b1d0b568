//! The signature port on Workers: workerd's `node:crypto` (BoringSSL, native
//! code), through `js/node-crypto.mjs`. Keys are imported once per isolate; a
//! token key's scalar is opened only when the isolate does not hold it yet.
//! Without `node:crypto` (a deployment without the `nodejs_compat` flag) it is
//! [`RustCrypto`]: the same answers, in wasm.

use std::sync::OnceLock;

use edge_mfa_core::crypto::{Algorithm, Crypto, PublicKey, RustCrypto, SigningKey};
use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(module = "/js/node-crypto.mjs")]
extern "C" {
    fn available() -> bool;
    fn verify(kind: u8, hash: &str, a: &[u8], b: &[u8], message: &[u8], signature: &[u8]) -> bool;
    fn has_private_key(id: &str) -> bool;
    fn import_private_key(id: &str, d: &[u8]) -> bool;
    fn sign_es256(id: &str, message: &[u8]) -> Vec<u8>;
}

/// workerd's `node:crypto` where the isolate has it, else [`RustCrypto`].
#[derive(Clone, Copy, Debug, Default)]
pub struct NodeCrypto;

impl NodeCrypto {
    /// Whether this isolate signs and verifies natively: `"node"` or `"rust"`.
    pub fn implementation() -> &'static str {
        if native() { "node" } else { "rust" }
    }
}

fn native() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(available)
}

impl Crypto for NodeCrypto {
    fn verify(&self, alg: Algorithm, key: PublicKey<'_>, message: &[u8], signature: &[u8]) -> bool {
        if !native() {
            return RustCrypto.verify(alg, key, message, signature);
        }
        let (kind, a, b, hash): (u8, &[u8], &[u8], &str) = match (alg, key) {
            (Algorithm::Es256, PublicKey::P256 { x, y }) => (0, x, y, "sha256"),
            (Algorithm::EdDsa, PublicKey::Ed25519(x)) => (1, x, &[], ""),
            (Algorithm::Rs256, PublicKey::Rsa { n, e }) => (2, n, e, "sha256"),
            (Algorithm::Rs1, PublicKey::Rsa { n, e }) => (2, n, e, "sha1"),
            _ => return false,
        };
        // What BoringSSL does not check and RustCrypto does, so both answer alike.
        edge_mfa_core::crypto::boringssl_precheck(key, signature)
            && verify(kind, hash, a, b, message, signature)
    }

    fn sign_es256(&self, key: &SigningKey<'_>, message: &[u8]) -> Option<[u8; 64]> {
        if !native() {
            return RustCrypto.sign_es256(key, message);
        }
        if !has_private_key(key.id) {
            let d = (key.open)()?;
            if !import_private_key(key.id, d.as_slice()) {
                return None;
            }
        }
        edge_mfa_core::crypto::es256_raw_from_der(&sign_es256(key.id, message))
    }
}
