//! Message encryption for Web Push (RFC 8291 §3), in the `aes128gcm` content
//! coding (RFC 8188 §2): ECDH between an ephemeral application-server key and the
//! subscription's `p256dh`, keyed by its `auth` secret, one record.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::{NonZeroScalar, PublicKey};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::WebPushError;
use crate::subscription::SubscriptionKeys;

/// The record size written in the header (RFC 8188 §2.1): push services take
/// messages of up to 4096 bytes (RFC 8030 §7.2), header included.
pub const RECORD_SIZE: u32 = 4096;

/// The longest plaintext of a 4096-byte message: less the header (86 bytes: salt
/// 16, record size 4, key id length 1, key id 65), the AEAD tag (16) and the
/// padding delimiter (1) (RFC 8291 §4).
pub const MAX_PLAINTEXT: usize = 4096 - 86 - 16 - 1;

/// The body of a push message carrying `plaintext` to the subscription `keys`:
/// `salt || rs || idlen || keyid || ciphertext` (RFC 8188 §2.1), the key id being
/// the application server's ephemeral public key (RFC 8291 §4). `as_secret` is
/// that key's 32-byte scalar and `salt` 16 random bytes, both fresh per message.
///
/// # Errors
/// [`WebPushError::TooLong`] past [`MAX_PLAINTEXT`];
/// [`WebPushError::InvalidEphemeralKey`] for a scalar outside `[1, n)`.
pub fn encrypt(
    plaintext: &[u8],
    keys: &SubscriptionKeys,
    as_secret: &[u8; 32],
    salt: &[u8; 16],
) -> Result<Vec<u8>, WebPushError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(WebPushError::TooLong);
    }
    let scalar = Option::<NonZeroScalar>::from(NonZeroScalar::from_repr((*as_secret).into()))
        .ok_or(WebPushError::InvalidEphemeralKey)?;
    let as_public = PublicKey::from_secret_scalar(&scalar).to_sec1_point(false);
    let ua_public = keys.p256dh();
    let shared = p256::ecdh::diffie_hellman(scalar, ua_public.as_affine());

    // RFC 8291 §3.3–3.4: IKM = HKDF(auth, ecdh_secret, "WebPush: info" || 0x00 ||
    // ua_public || as_public, 32).
    let mut key_info = Vec::with_capacity(14 + 65 + 65);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(ua_public.to_sec1_point(false).as_bytes());
    key_info.extend_from_slice(as_public.as_bytes());
    let mut ikm = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(keys.auth()), shared.raw_secret_bytes().as_slice())
        .expand(&key_info, ikm.as_mut_slice())
        .map_err(|_| WebPushError::InvalidEphemeralKey)?;

    // RFC 8188 §2.2–2.3: the content-encryption key and the nonce, from the salt.
    let prk = Hkdf::<Sha256>::new(Some(salt), ikm.as_slice());
    let mut cek = Zeroizing::new([0u8; 16]);
    let mut nonce = [0u8; 12];
    prk.expand(b"Content-Encoding: aes128gcm\0", cek.as_mut_slice())
        .and_then(|()| prk.expand(b"Content-Encoding: nonce\0", &mut nonce))
        .map_err(|_| WebPushError::InvalidEphemeralKey)?;

    // One record, the last: the plaintext, then the delimiter 0x02 (RFC 8188 §2).
    let mut record = Zeroizing::new(Vec::with_capacity(plaintext.len() + 1));
    record.extend_from_slice(plaintext);
    record.push(0x02);
    let cipher =
        Aes128Gcm::new_from_slice(cek.as_slice()).map_err(|_| WebPushError::InvalidEphemeralKey)?;
    let ciphertext = cipher
        .encrypt(&Nonce::from(nonce), record.as_slice())
        .map_err(|_| WebPushError::TooLong)?;

    let mut body = Vec::with_capacity(86 + ciphertext.len());
    body.extend_from_slice(salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(as_public.as_bytes());
    body.extend_from_slice(&ciphertext);
    Ok(body)
}
