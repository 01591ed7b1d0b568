//! HOTP, RFC 4226 §5: HMAC over the 8-byte big-endian counter, then dynamic truncation.

use hmac::{EagerHash, Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};

/// The HMAC hash. RFC 6238 §1.2 adds SHA-256 and SHA-512 to RFC 4226's SHA-1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Algorithm {
    #[default]
    #[serde(rename = "SHA1")]
    Sha1,
    #[serde(rename = "SHA256")]
    Sha256,
    #[serde(rename = "SHA512")]
    Sha512,
}

impl Algorithm {
    /// The name used in `otpauth://` URIs and in the policy.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha512 => "SHA512",
        }
    }
}

/// Code length. RFC 4226 requires at least 6; authenticator apps support 6 and 8.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(try_from = "u8", into = "u8")]
pub enum Digits {
    #[default]
    Six,
    Eight,
}

impl Digits {
    pub fn count(self) -> usize {
        match self {
            Digits::Six => 6,
            Digits::Eight => 8,
        }
    }

    pub(crate) fn modulus(self) -> u32 {
        match self {
            Digits::Six => 1_000_000,
            Digits::Eight => 100_000_000,
        }
    }
}

/// `6` or `8`, as the policy and `otpauth://` URIs write it.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for Digits {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Digits".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "enum": [6, 8] })
    }
}

impl TryFrom<u8> for Digits {
    type Error = &'static str;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        match value {
            6 => Ok(Digits::Six),
            8 => Ok(Digits::Eight),
            _ => Err("digits must be 6 or 8"),
        }
    }
}

impl From<Digits> for u8 {
    fn from(d: Digits) -> u8 {
        d.count() as u8
    }
}

/// A HOTP key with its HMAC key schedule (RFC 2104's inner and outer pads, each a
/// hash block) computed once: each counter then costs two compressions for SHA-1
/// and SHA-256 instead of four, and allocates nothing. TOTP checks several steps
/// per code; this is its hot path.
#[derive(Clone)]
pub struct HotpKey(KeyState);

#[derive(Clone)]
enum KeyState {
    Sha1(Hmac<sha1::Sha1>),
    Sha256(Hmac<sha2::Sha256>),
    Sha512(Hmac<sha2::Sha512>),
}

impl std::fmt::Debug for HotpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key schedule is the secret, hashed: never shown.
        f.write_str("HotpKey(..)")
    }
}

fn keyed<D: EagerHash>(key: &[u8]) -> Hmac<D> {
    // HMAC accepts keys of any length (RFC 2104 §2), so this cannot fail.
    match <Hmac<D> as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable_key_length(),
    }
}

impl HotpKey {
    pub fn new(algorithm: Algorithm, key: &[u8]) -> HotpKey {
        HotpKey(match algorithm {
            Algorithm::Sha1 => KeyState::Sha1(keyed(key)),
            Algorithm::Sha256 => KeyState::Sha256(keyed(key)),
            Algorithm::Sha512 => KeyState::Sha512(keyed(key)),
        })
    }

    /// The HOTP value of `counter` (RFC 4226 §5.3), below 10^`digits`.
    pub fn value(&self, counter: u64, digits: Digits) -> u32 {
        let counter = counter.to_be_bytes();
        let word = match &self.0 {
            KeyState::Sha1(mac) => {
                dynamic_truncation(&mac.clone().chain_update(counter).finalize().into_bytes())
            }
            KeyState::Sha256(mac) => {
                dynamic_truncation(&mac.clone().chain_update(counter).finalize().into_bytes())
            }
            KeyState::Sha512(mac) => {
                dynamic_truncation(&mac.clone().chain_update(counter).finalize().into_bytes())
            }
        };
        word % digits.modulus()
    }
}

#[cold]
fn unreachable_key_length() -> ! {
    // Invariant: `Hmac::new_from_slice` only errs for fixed-size-key MACs.
    #[allow(clippy::panic)]
    {
        panic!("HMAC rejected a key length")
    }
}

/// HOTP value of `counter` as a zero-padded decimal string of `digits` characters.
pub fn hotp(algorithm: Algorithm, key: &[u8], counter: u64, digits: Digits) -> String {
    let code = HotpKey::new(algorithm, key).value(counter, digits);
    format!("{code:0width$}", width = digits.count())
}

/// RFC 4226 §5.3: the low 4 bits of the last byte pick 4 bytes; drop the top bit.
fn dynamic_truncation(hs: &[u8]) -> u32 {
    let offset = hs.last().map_or(0, |b| usize::from(b & 0x0f));
    // Every HMAC output here is at least 20 bytes, and offset + 4 <= 19.
    let mut word = [0u8; 4];
    for (i, byte) in word.iter_mut().enumerate() {
        *byte = hs.get(offset + i).copied().unwrap_or(0);
    }
    u32::from_be_bytes(word) & 0x7fff_ffff
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4226 Appendix D: secret "12345678901234567890", counters 0..=9.
    #[test]
    fn rfc4226_appendix_d() {
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (counter, want) in expected.iter().enumerate() {
            let got = hotp(
                Algorithm::Sha1,
                b"12345678901234567890",
                counter as u64,
                Digits::Six,
            );
            assert_eq!(&got, want, "counter {counter}");
        }
    }

    /// RFC 4226 Appendix D also lists the truncated decimal values before the modulus.
    #[test]
    fn rfc4226_truncated_values() {
        let expected: [u32; 10] = [
            1284755224, 1094287082, 137359152, 1726969429, 1640338314, 868254676, 1918287922,
            82162583, 673399871, 645520489,
        ];
        for (counter, want) in expected.iter().enumerate() {
            let hs = keyed::<sha1::Sha1>(b"12345678901234567890")
                .chain_update((counter as u64).to_be_bytes())
                .finalize()
                .into_bytes();
            assert_eq!(dynamic_truncation(&hs), *want, "counter {counter}");
        }
    }

    /// One key schedule serves every counter: the same values as keying afresh.
    #[test]
    fn a_reused_key_gives_the_same_values() {
        for algorithm in [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512] {
            let key = HotpKey::new(algorithm, b"12345678901234567890");
            for counter in [0u64, 1, 59, u64::MAX] {
                for digits in [Digits::Six, Digits::Eight] {
                    let fresh =
                        HotpKey::new(algorithm, b"12345678901234567890").value(counter, digits);
                    assert_eq!(key.value(counter, digits), fresh);
                    assert_eq!(
                        format!("{fresh:0width$}", width = digits.count()),
                        hotp(algorithm, b"12345678901234567890", counter, digits)
                    );
                }
            }
        }
        assert_eq!(
            format!("{:?}", HotpKey::new(Algorithm::Sha1, b"k")),
            "HotpKey(..)"
        );
    }

    #[test]
    fn digits_parse() {
        assert_eq!(Digits::try_from(6), Ok(Digits::Six));
        assert_eq!(Digits::try_from(8), Ok(Digits::Eight));
        assert!(Digits::try_from(7).is_err());
    }
}
