//! HOTP, RFC 4226 §5: HMAC over the 8-byte big-endian counter, then dynamic truncation.

use hmac::{EagerHash, Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};

/// The HMAC hash. RFC 6238 §1.2 adds SHA-256 and SHA-512 to RFC 4226's SHA-1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
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

    fn modulus(self) -> u32 {
        match self {
            Digits::Six => 1_000_000,
            Digits::Eight => 100_000_000,
        }
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

fn mac<D: EagerHash>(key: &[u8], counter: u64) -> Vec<u8> {
    // HMAC accepts keys of any length (RFC 2104 §2), so this cannot fail.
    let mut mac = match <Hmac<D> as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable_key_length(),
    };
    mac.update(&counter.to_be_bytes());
    mac.finalize().into_bytes().to_vec()
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
    let hs = match algorithm {
        Algorithm::Sha1 => mac::<sha1::Sha1>(key, counter),
        Algorithm::Sha256 => mac::<sha2::Sha256>(key, counter),
        Algorithm::Sha512 => mac::<sha2::Sha512>(key, counter),
    };
    let code = dynamic_truncation(&hs) % digits.modulus();
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
            let hs = mac::<sha1::Sha1>(b"12345678901234567890", counter as u64);
            assert_eq!(dynamic_truncation(&hs), *want, "counter {counter}");
        }
    }

    #[test]
    fn digits_parse() {
        assert_eq!(Digits::try_from(6), Ok(Digits::Six));
        assert_eq!(Digits::try_from(8), Ok(Digits::Eight));
        assert!(Digits::try_from(7).is_err());
    }
}
