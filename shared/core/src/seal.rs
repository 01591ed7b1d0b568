//! Secrets at rest: AES-256-GCM under the deployment's master key.
//!
//! Every sealed value is bound by its associated data to where it belongs
//! (purpose, tenant, user, factor), so a ciphertext copied into another record
//! does not open there. Format: `v1.` + base64url(nonce (12) || ciphertext || tag (16)).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use serde::{Deserialize, Serialize};

use crate::env::Env;

const VERSION: &str = "v1.";
const NONCE_LEN: usize = 12;

/// The deployment's master key (a Worker secret / Spin variable, 32 bytes).
/// `Debug` never shows it.
#[derive(Clone)]
pub struct MasterKey(Aes256Gcm);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealError {
    /// The master key is not 32 bytes of base64url / base64.
    BadKey,
    /// Not our format, or the tag does not verify under this key and context.
    Unopenable,
}

impl MasterKey {
    pub fn from_bytes(key: &[u8]) -> Result<MasterKey, SealError> {
        Aes256Gcm::new_from_slice(key)
            .map(MasterKey)
            .map_err(|_| SealError::BadKey)
    }

    /// Parses the key as it is configured: 32 bytes in base64url or standard base64.
    pub fn from_config(text: &str) -> Result<MasterKey, SealError> {
        let text = text.trim();
        let bytes = edge_mfa_jose::b64url_decode(text.trim_end_matches('='))
            .or_else(|| data_encoding::BASE64.decode(text.as_bytes()).ok())
            .ok_or(SealError::BadKey)?;
        MasterKey::from_bytes(&bytes)
    }

    pub fn seal(&self, context: &str, plaintext: &[u8], env: &mut Env<'_>) -> Sealed {
        let nonce_bytes = env.bytes::<NONCE_LEN>();
        let nonce = Nonce::from(nonce_bytes);
        // Encryption fails only for inputs over 64 GiB.
        let ciphertext = self
            .0
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut blob = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        blob.extend_from_slice(&nonce_bytes);
        blob.extend_from_slice(&ciphertext);
        Sealed(format!("{VERSION}{}", edge_mfa_jose::b64url_encode(&blob)))
    }

    pub fn open(&self, context: &str, sealed: &Sealed) -> Result<Vec<u8>, SealError> {
        let body = sealed
            .0
            .strip_prefix(VERSION)
            .ok_or(SealError::Unopenable)?;
        let blob = edge_mfa_jose::b64url_decode(body).ok_or(SealError::Unopenable)?;
        let (nonce, ciphertext) = blob
            .split_at_checked(NONCE_LEN)
            .ok_or(SealError::Unopenable)?;
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError::Unopenable)?;
        self.0
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SealError::Unopenable)
    }
}

/// A sealed secret as stored. `Debug` shows only that it is sealed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sealed(String);

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealed(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::SeededRandom;

    fn key() -> MasterKey {
        MasterKey::from_bytes(&[42u8; 32]).unwrap()
    }

    #[test]
    fn round_trip() {
        let mut rng = SeededRandom::new(1);
        let mut env = Env {
            now: 0,
            random: &mut rng,
        };
        let sealed = key().seal("totp|acme|u|f", b"secret bytes", &mut env);
        assert_eq!(
            key().open("totp|acme|u|f", &sealed).unwrap(),
            b"secret bytes"
        );
        assert!(!format!("{sealed:?}").contains("v1."));
    }

    #[test]
    fn nonces_differ() {
        let mut rng = SeededRandom::new(1);
        let mut env = Env {
            now: 0,
            random: &mut rng,
        };
        let a = key().seal("c", b"same", &mut env);
        let b = key().seal("c", b"same", &mut env);
        assert_ne!(a, b);
    }

    #[test]
    fn wrong_context_key_or_tamper_fails() {
        let mut rng = SeededRandom::new(1);
        let mut env = Env {
            now: 0,
            random: &mut rng,
        };
        let sealed = key().seal("totp|acme|u|f", b"secret", &mut env);
        assert_eq!(
            key().open("totp|acme|other|f", &sealed),
            Err(SealError::Unopenable)
        );
        let other = MasterKey::from_bytes(&[43u8; 32]).unwrap();
        assert_eq!(
            other.open("totp|acme|u|f", &sealed),
            Err(SealError::Unopenable)
        );
        // Flip every byte position of the blob in turn: each must fail.
        let blob = edge_mfa_jose::b64url_decode(sealed.0.strip_prefix(VERSION).unwrap()).unwrap();
        for i in 0..blob.len() {
            let mut evil = blob.clone();
            evil[i] ^= 0x01;
            let evil = Sealed(format!("{VERSION}{}", edge_mfa_jose::b64url_encode(&evil)));
            assert_eq!(
                key().open("totp|acme|u|f", &evil),
                Err(SealError::Unopenable),
                "byte {i}"
            );
        }
        for junk in ["", "v1.", "v2.AAAA", "v1.!!", "v1.AAAA"] {
            assert_eq!(
                key().open("c", &Sealed(junk.into())),
                Err(SealError::Unopenable),
                "{junk}"
            );
        }
    }

    #[test]
    fn master_key_config() {
        let b64url = edge_mfa_jose::b64url_encode(&[1u8; 32]);
        assert!(MasterKey::from_config(&b64url).is_ok());
        assert!(MasterKey::from_config(&data_encoding::BASE64.encode(&[250u8; 32])).is_ok());
        assert_eq!(
            MasterKey::from_config("short").err(),
            Some(SealError::BadKey)
        );
        assert_eq!(
            MasterKey::from_config(&edge_mfa_jose::b64url_encode(&[1u8; 16])).err(),
            Some(SealError::BadKey)
        );
    }
}
