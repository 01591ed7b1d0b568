//! TOTP, RFC 6238: HOTP over the number of time steps since the Unix epoch (T0 = 0).

use subtle::{Choice, ConstantTimeEq};

use crate::hotp::{Algorithm, Digits, HotpKey, hotp};

/// The parameters of one TOTP factor (everything but the secret).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Totp {
    pub algorithm: Algorithm,
    pub digits: Digits,
    /// Seconds per step (RFC 6238 `X`): 30 or 60 here.
    pub period: u64,
    /// How many steps either side of now are accepted (RFC 6238 §5.2 network delay).
    pub skew: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TotpError {
    /// Not `digits` ASCII digits.
    Malformed,
    /// No step in the window produced this code.
    Mismatch,
    /// The code matched a step at or before the last accepted one (RFC 6238 §5.2).
    Replayed,
}

impl Default for Totp {
    fn default() -> Self {
        Totp {
            algorithm: Algorithm::Sha1,
            digits: Digits::Six,
            period: 30,
            skew: 1,
        }
    }
}

impl Totp {
    /// The time step containing `now` (RFC 6238 §4.2, T0 = 0).
    pub fn step(&self, now: u64) -> u64 {
        now / self.period.max(1)
    }

    /// The code for the step containing `now`.
    pub fn code_at(&self, secret: &[u8], now: u64) -> String {
        hotp(self.algorithm, secret, self.step(now), self.digits)
    }

    /// Checks `code` against every step in `now ± skew` newer than `last_step`
    /// and returns the matched step, which the caller must store as the new
    /// `last_step` so the same code cannot be used twice.
    ///
    /// Every step in the window is computed and compared in constant time, so the
    /// time taken does not say which step (if any) matched.
    pub fn verify(
        &self,
        secret: &[u8],
        code: &str,
        now: u64,
        last_step: Option<u64>,
    ) -> Result<u64, TotpError> {
        if code.len() != self.digits.count() || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TotpError::Malformed);
        }
        // At most 8 digits: the number fits, and leading zeros are kept by the
        // length check above. Compared as numbers, nothing is allocated per step.
        let wanted = code.bytes().fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
        let key = HotpKey::new(self.algorithm, secret);
        let current = self.step(now);
        let skew = u64::from(self.skew);
        let mut fresh: Option<u64> = None;
        let mut replayed = Choice::from(0);
        for step in current.saturating_sub(skew)..=current.saturating_add(skew) {
            let matches = key.value(step, self.digits).ct_eq(&wanted);
            let is_new = last_step.is_none_or(|last| step > last);
            if bool::from(matches) {
                if is_new {
                    // Prefer the latest matching step; codes of adjacent steps differ
                    // except by chance, and the later one advances the replay guard more.
                    fresh = Some(step);
                } else {
                    replayed |= Choice::from(1);
                }
            }
        }
        match fresh {
            Some(step) => Ok(step),
            None if bool::from(replayed) => Err(TotpError::Replayed),
            None => Err(TotpError::Mismatch),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_SHA1: &[u8] = b"12345678901234567890";
    const SEED_SHA256: &[u8] = b"12345678901234567890123456789012";
    const SEED_SHA512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    /// RFC 6238 Appendix B, as a table: (time, algorithm, expected 8-digit TOTP).
    /// The SHA-256 and SHA-512 seeds are 32 and 64 bytes (the errata to the RFC's
    /// reference code, which the table itself was computed with).
    const RFC6238_VECTORS: &[(u64, Algorithm, &str)] = &[
        (59, Algorithm::Sha1, "94287082"),
        (59, Algorithm::Sha256, "46119246"),
        (59, Algorithm::Sha512, "90693936"),
        (1111111109, Algorithm::Sha1, "07081804"),
        (1111111109, Algorithm::Sha256, "68084774"),
        (1111111109, Algorithm::Sha512, "25091201"),
        (1111111111, Algorithm::Sha1, "14050471"),
        (1111111111, Algorithm::Sha256, "67062674"),
        (1111111111, Algorithm::Sha512, "99943326"),
        (1234567890, Algorithm::Sha1, "89005924"),
        (1234567890, Algorithm::Sha256, "91819424"),
        (1234567890, Algorithm::Sha512, "93441116"),
        (2000000000, Algorithm::Sha1, "69279037"),
        (2000000000, Algorithm::Sha256, "90698825"),
        (2000000000, Algorithm::Sha512, "38618901"),
        (20000000000, Algorithm::Sha1, "65353130"),
        (20000000000, Algorithm::Sha256, "77737706"),
        (20000000000, Algorithm::Sha512, "47863826"),
    ];

    fn seed(algorithm: Algorithm) -> &'static [u8] {
        match algorithm {
            Algorithm::Sha1 => SEED_SHA1,
            Algorithm::Sha256 => SEED_SHA256,
            Algorithm::Sha512 => SEED_SHA512,
        }
    }

    fn eight(algorithm: Algorithm) -> Totp {
        Totp {
            algorithm,
            digits: Digits::Eight,
            period: 30,
            skew: 0,
        }
    }

    #[test]
    fn rfc6238_appendix_b() {
        for &(time, algorithm, want) in RFC6238_VECTORS {
            let totp = eight(algorithm);
            assert_eq!(
                totp.code_at(seed(algorithm), time),
                want,
                "T={time} {algorithm:?}"
            );
            assert_eq!(
                totp.verify(seed(algorithm), want, time, None),
                Ok(totp.step(time))
            );
        }
    }

    #[test]
    fn rfc6238_steps_are_hex_counters() {
        // Appendix B's "Value of T (hex)" column.
        let totp = Totp::default();
        assert_eq!(totp.step(59), 0x1);
        assert_eq!(totp.step(1111111109), 0x23523EC);
        assert_eq!(totp.step(1111111111), 0x23523ED);
        assert_eq!(totp.step(20000000000), 0x27BC86AA);
    }

    #[test]
    fn replay_of_same_step_is_refused() {
        let totp = eight(Algorithm::Sha1);
        let step = totp.verify(SEED_SHA1, "94287082", 59, None).unwrap();
        assert_eq!(
            totp.verify(SEED_SHA1, "94287082", 59, Some(step)),
            Err(TotpError::Replayed)
        );
    }

    #[test]
    fn older_step_after_newer_is_refused() {
        let totp = Totp {
            skew: 1,
            ..eight(Algorithm::Sha1)
        };
        let now = 1111111111;
        let newer = totp.code_at(SEED_SHA1, now + 30);
        let older = totp.code_at(SEED_SHA1, now);
        let last = totp.verify(SEED_SHA1, &newer, now, None).unwrap();
        assert_eq!(last, totp.step(now) + 1);
        assert_eq!(
            totp.verify(SEED_SHA1, &older, now, Some(last)),
            Err(TotpError::Replayed)
        );
    }

    #[test]
    fn skew_edges() {
        for skew in 0..=2u8 {
            let totp = Totp {
                skew,
                ..Totp::default()
            };
            let now = 1_700_000_015;
            for offset in -3i64..=3 {
                let at = (now as i64 + offset * 30) as u64;
                let code = totp.code_at(SEED_SHA1, at);
                let accepted = totp.verify(SEED_SHA1, &code, now, None).is_ok();
                assert_eq!(
                    accepted,
                    offset.unsigned_abs() <= u64::from(skew),
                    "skew {skew} offset {offset}"
                );
            }
        }
    }

    #[test]
    fn step_boundaries() {
        let totp = Totp {
            skew: 0,
            ..Totp::default()
        };
        // 59 and 60 are different steps; 60 and 89 are the same one.
        let at60 = totp.code_at(SEED_SHA1, 60);
        assert!(totp.verify(SEED_SHA1, &at60, 89, None).is_ok());
        assert_eq!(
            totp.verify(SEED_SHA1, &at60, 90, None),
            Err(TotpError::Mismatch)
        );
        let at59 = totp.code_at(SEED_SHA1, 59);
        assert_eq!(
            totp.verify(SEED_SHA1, &at59, 60, None).is_ok(),
            at59 == at60
        );
    }

    #[test]
    fn period_sixty() {
        let totp = Totp {
            period: 60,
            skew: 0,
            ..Totp::default()
        };
        assert_eq!(totp.step(119), 1);
        assert_eq!(
            totp.code_at(SEED_SHA1, 119),
            hotp(Algorithm::Sha1, SEED_SHA1, 1, Digits::Six)
        );
    }

    #[test]
    fn malformed_codes() {
        let totp = Totp::default();
        for code in [
            "",
            "12345",
            "1234567",
            "12345a",
            "１２３４５６",
            " 12345",
            "12 456",
        ] {
            assert_eq!(
                totp.verify(SEED_SHA1, code, 59, None),
                Err(TotpError::Malformed),
                "{code:?}"
            );
        }
    }

    #[test]
    fn wrong_code_mismatches() {
        let totp = Totp::default();
        let good = totp.code_at(SEED_SHA1, 1000);
        let bad = format!("{:06}", (good.parse::<u32>().unwrap() + 1) % 1_000_000);
        assert_eq!(
            totp.verify(SEED_SHA1, &bad, 1000, None),
            Err(TotpError::Mismatch)
        );
    }

    #[test]
    fn window_at_epoch_does_not_underflow() {
        let totp = Totp {
            skew: 2,
            ..Totp::default()
        };
        let code = totp.code_at(SEED_SHA1, 0);
        assert_eq!(totp.verify(SEED_SHA1, &code, 0, None), Ok(0));
    }
}
