//! Secrets at rest: AES-256-GCM under the deployment's master key.
//!
//! Every sealed value is bound by its associated data to where it belongs
//! (purpose, tenant, user, factor), so a ciphertext copied into another record
//! does not open there, and it names the master key that sealed it, so the master
//! key can be rotated: a deployment holds the current key and, during a rotation,
//! earlier ones (`MASTER_KEY_PREVIOUS`); values open under whichever key sealed
//! them and are re-sealed under the current one when their record is written
//! (docs/SECURITY.md "Rotating MASTER_KEY").
//!
//! Format: `v2.` + key id + `.` + base64url(nonce (12) || ciphertext || tag (16)).
//! The key id is the first 8 bytes of SHA-256("edge-mfa master key id" || key),
//! base64url: it identifies the key without revealing anything usable about it.
//! Values sealed before key ids (`v1.`, no id) open under any configured key.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::env::Env;

const VERSION: &str = "v2.";
const LEGACY_VERSION: &str = "v1.";
const NONCE_LEN: usize = 12;

/// One AES-256-GCM key and its id.
#[derive(Clone)]
struct Key {
    id: String,
    cipher: Aes256Gcm,
}

/// The deployment's master keys (Worker secrets / Spin variables, 32 bytes each):
/// the current one seals, every one opens what it sealed. `Debug` shows only ids.
#[derive(Clone)]
pub struct MasterKey {
    current: Key,
    previous: Vec<Key>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey")
            .field("current", &self.current.id)
            .field(
                "previous",
                &self.previous.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealError {
    /// The master key is not 32 bytes of base64url / base64.
    BadKey,
    /// Not our format, sealed under a key this deployment does not hold, or the
    /// tag does not verify under that key and context.
    Unopenable,
}

fn key(bytes: &[u8]) -> Result<Key, SealError> {
    let cipher = Aes256Gcm::new_from_slice(bytes).map_err(|_| SealError::BadKey)?;
    let mut hash = Sha256::new();
    hash.update(b"edge-mfa master key id");
    hash.update(bytes);
    let digest = hash.finalize();
    let id = edge_mfa_jose::b64url_encode(digest.get(..8).unwrap_or_default());
    Ok(Key { id, cipher })
}

/// A configured key: 64 hex digits (`openssl rand -hex 32`), or base64url or
/// standard base64 (`openssl rand -base64 32`). Hex is tried first: 64 characters
/// of base64 would be 48 bytes, never a key.
fn decode_config(text: &str) -> Result<Vec<u8>, SealError> {
    let text = text.trim();
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return data_encoding::HEXLOWER_PERMISSIVE
            .decode(text.as_bytes())
            .map_err(|_| SealError::BadKey);
    }
    edge_mfa_jose::b64url_decode(text.trim_end_matches('='))
        .or_else(|| data_encoding::BASE64.decode(text.as_bytes()).ok())
        .ok_or(SealError::BadKey)
}

impl MasterKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<MasterKey, SealError> {
        Ok(MasterKey {
            current: key(bytes)?,
            previous: Vec::new(),
        })
    }

    /// Parses the key as it is configured: 32 bytes in base64url or standard base64.
    pub fn from_config(text: &str) -> Result<MasterKey, SealError> {
        MasterKey::from_bytes(&decode_config(text)?)
    }

    /// Adds earlier keys, still opened but never used to seal: `texts` is the
    /// configured `MASTER_KEY_PREVIOUS`, keys separated by commas or white space.
    pub fn with_previous(mut self, texts: &str) -> Result<MasterKey, SealError> {
        for text in texts
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty())
        {
            let previous = key(&decode_config(text)?)?;
            if previous.id != self.current.id {
                self.previous.push(previous);
            }
        }
        Ok(self)
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    /// Why `sealed` does not open here, for the operator's log: the key id it was
    /// sealed under beside this deployment's, and what to do. Never holds a secret.
    pub fn explain_unopenable(&self, what: &str, sealed: &Sealed) -> String {
        let sealed_under = match sealed.parts() {
            Some((Some(id), _)) => format!("key id {id}"),
            Some((None, _)) => "a key without an id (v1)".to_string(),
            None => "no key (it is not a sealed value)".to_string(),
        };
        let held: Vec<&str> = self.keys().map(|k| k.id.as_str()).collect();
        format!(
            "MASTER_KEY does not open {what}: it was sealed under {sealed_under}, this deployment holds key id(s) {}; restore the MASTER_KEY it was sealed under, or give it as MASTER_KEY_PREVIOUS during a rotation (docs/SECURITY.md \"Rotating MASTER_KEY\")",
            held.join(", ")
        )
    }

    fn keys(&self) -> impl Iterator<Item = &Key> {
        std::iter::once(&self.current).chain(&self.previous)
    }

    pub fn seal(&self, context: &str, plaintext: &[u8], env: &mut Env<'_>) -> Sealed {
        let nonce_bytes = env.bytes::<NONCE_LEN>();
        let nonce = Nonce::from(nonce_bytes);
        // Encryption fails only for inputs over 64 GiB.
        let ciphertext = self
            .current
            .cipher
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
        Sealed(format!(
            "{VERSION}{}.{}",
            self.current.id,
            edge_mfa_jose::b64url_encode(&blob)
        ))
    }

    pub fn open(&self, context: &str, sealed: &Sealed) -> Result<Vec<u8>, SealError> {
        let (key_id, body) = sealed.parts().ok_or(SealError::Unopenable)?;
        let blob = edge_mfa_jose::b64url_decode(body).ok_or(SealError::Unopenable)?;
        let (nonce, ciphertext) = blob
            .split_at_checked(NONCE_LEN)
            .ok_or(SealError::Unopenable)?;
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError::Unopenable)?;
        let payload = || Payload {
            msg: ciphertext,
            aad: context.as_bytes(),
        };
        self.keys()
            .filter(|k| key_id.is_none_or(|id| id == k.id))
            .find_map(|k| k.cipher.decrypt(&Nonce::from(nonce), payload()).ok())
            .ok_or(SealError::Unopenable)
    }

    /// `sealed` opened and sealed again under the current key, if another key
    /// sealed it; `None` if it is current already (or does not open: the caller's
    /// `open` reports that where the value is used).
    pub fn reseal(&self, context: &str, sealed: &Sealed, env: &mut Env<'_>) -> Option<Sealed> {
        if sealed.parts()?.0 == Some(self.current.id.as_str()) {
            return None;
        }
        let plaintext = self.open(context, sealed).ok()?;
        Some(self.seal(context, &plaintext, env))
    }
}

/// A sealed secret as stored. `Debug` shows only that it is sealed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sealed(String);

impl Sealed {
    /// A value as a store gave it back (the text [`Sealed::as_stored`] gave).
    pub fn from_stored(text: String) -> Sealed {
        Sealed(text)
    }

    /// The text to store.
    pub fn as_stored(&self) -> &str {
        &self.0
    }

    /// (key id — `None` for `v1` values — and the base64url body).
    fn parts(&self) -> Option<(Option<&str>, &str)> {
        if let Some(rest) = self.0.strip_prefix(VERSION) {
            let (id, body) = rest.split_once('.')?;
            Some((Some(id), body))
        } else {
            Some((None, self.0.strip_prefix(LEGACY_VERSION)?))
        }
    }
}

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
    fn keys_are_configured_in_base64_or_hex() {
        let bytes = [0xabu8; 32];
        let b64 = data_encoding::BASE64.encode(&bytes);
        let hex = data_encoding::HEXLOWER.encode(&bytes);
        let id = MasterKey::from_bytes(&bytes)
            .unwrap()
            .current_id()
            .to_string();
        for text in [
            b64.clone(),
            hex.clone(),
            hex.to_uppercase(),
            format!(" {b64}\n"),
        ] {
            let key = MasterKey::from_config(&text).unwrap();
            assert_eq!(key.current_id(), id, "{text}");
        }
        // 31 bytes, 33 bytes, not a key at all.
        for text in [
            "q".repeat(62),
            data_encoding::HEXLOWER.encode(&[1u8; 33]),
            "x".into(),
        ] {
            assert!(MasterKey::from_config(&text).is_err(), "{text}");
        }
    }

    #[test]
    fn an_unopenable_value_is_explained_without_secrets() {
        let mut rng = SeededRandom::new(1);
        let mut env = Env::new(0, &mut rng);
        let sealed = key().seal("ctx", b"secret", &mut env);
        let other = MasterKey::from_bytes(&[7u8; 32]).unwrap();
        let why = other.explain_unopenable("tenant acme's ticket secret", &sealed);
        assert!(why.contains(key().current_id()) && why.contains(other.current_id()));
        assert!(!why.contains("secret\"") && !why.contains(sealed.as_stored()));
    }

    #[test]
    fn round_trip() {
        let mut rng = SeededRandom::new(1);
        let mut env = Env::new(0, &mut rng);
        let sealed = key().seal("totp|acme|u|f", b"secret bytes", &mut env);
        assert_eq!(
            key().open("totp|acme|u|f", &sealed).unwrap(),
            b"secret bytes"
        );
        assert!(!format!("{sealed:?}").contains("v2."));
    }

    #[test]
    fn nonces_differ() {
        let mut rng = SeededRandom::new(1);
        let mut env = Env::new(0, &mut rng);
        let a = key().seal("c", b"same", &mut env);
        let b = key().seal("c", b"same", &mut env);
        assert_ne!(a, b);
    }

    #[test]
    fn wrong_context_key_or_tamper_fails() {
        let mut rng = SeededRandom::new(1);
        let mut env = Env::new(0, &mut rng);
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
        let (id, body) = sealed.parts().unwrap();
        let id = id.unwrap().to_string();
        let blob = edge_mfa_jose::b64url_decode(body).unwrap();
        for i in 0..blob.len() {
            let mut evil = blob.clone();
            evil[i] ^= 0x01;
            let evil = Sealed(format!(
                "{VERSION}{id}.{}",
                edge_mfa_jose::b64url_encode(&evil)
            ));
            assert_eq!(
                key().open("totp|acme|u|f", &evil),
                Err(SealError::Unopenable),
                "byte {i}"
            );
        }
        for junk in [
            "",
            "v1.",
            "v2.AAAA",
            "v1.!!",
            "v1.AAAA",
            "v2.x.AAAA",
            "v3.AAAA",
        ] {
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

    #[test]
    fn rotation_opens_old_values_and_reseals_them_under_the_new_key() {
        let mut rng = SeededRandom::new(2);
        let mut env = Env::new(0, &mut rng);
        let old = key();
        let sealed_old = old.seal("c", b"secret", &mut env);
        let new = MasterKey::from_bytes(&[7u8; 32]).unwrap();
        assert_eq!(new.open("c", &sealed_old), Err(SealError::Unopenable));
        let both = new
            .clone()
            .with_previous(&edge_mfa_jose::b64url_encode(&[42u8; 32]))
            .unwrap();
        assert_eq!(both.current_id(), new.current_id());
        assert_eq!(both.open("c", &sealed_old).unwrap(), b"secret");
        let resealed = both.reseal("c", &sealed_old, &mut env).unwrap();
        assert_eq!(
            new.open("c", &resealed).unwrap(),
            b"secret",
            "the new key alone opens it"
        );
        assert_eq!(
            both.reseal("c", &resealed, &mut env),
            None,
            "current already"
        );
        // A v1 value (no key id) from before ids existed opens under any held key.
        let (_, body) = sealed_old.parts().unwrap();
        let legacy = Sealed(format!("{LEGACY_VERSION}{body}"));
        assert_eq!(both.open("c", &legacy).unwrap(), b"secret");
        assert!(both.reseal("c", &legacy, &mut env).is_some());
        // Ids identify keys without showing them.
        assert_ne!(old.current_id(), new.current_id());
        assert!(!format!("{both:?}").contains(&edge_mfa_jose::b64url_encode(&[7u8; 32])));
    }
}
