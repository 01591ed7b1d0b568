//! Backup codes: one-time recovery codes.
//!
//! Each code is 12 symbols of Crockford's base32 (60 bits), shown as
//! `xxxx-xxxx-xxxx`. Users retype them from paper, so input is normalised: case,
//! spaces and hyphens do not matter, and the letters Crockford excludes because
//! they look like digits (`o`, `i`, `l`) read as `0`, `1`, `1`.
//!
//! Stored only as HMAC-SHA-256 under the tenant's pepper, bound to the user: with
//! 60 bits of entropy per code a fast keyed hash is enough (a slow KDF would not fit
//! the edge's CPU budget, see docs/SECURITY.md), and a stolen database alone yields
//! nothing to brute-force without the pepper.

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::env::Env;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const SYMBOLS: usize = 12;
const GROUP: usize = 4;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupCodeSet {
    pub generated_at: u64,
    pub codes: Vec<StoredCode>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCode {
    /// base64url(HMAC-SHA-256(pepper, user || 0x00 || normalised code)).
    pub mac: String,
    pub used_at: Option<u64>,
}

impl BackupCodeSet {
    /// A fresh set of `count` codes: the set to store and the codes to show once.
    pub fn generate(
        count: u8,
        pepper: &[u8],
        user: &str,
        env: &mut Env<'_>,
    ) -> (BackupCodeSet, Vec<String>) {
        let mut shown = Vec::with_capacity(usize::from(count));
        let mut codes = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let code = random_code(env);
            codes.push(StoredCode {
                mac: mac(pepper, user, &normalise(&code).unwrap_or_default()),
                used_at: None,
            });
            shown.push(code);
        }
        (
            BackupCodeSet {
                generated_at: env.now,
                codes,
            },
            shown,
        )
    }

    pub fn remaining(&self) -> usize {
        self.codes.iter().filter(|c| c.used_at.is_none()).count()
    }

    /// Marks the matching unused code as used at `now`. Every unused code is
    /// compared, in constant time, so timing says nothing about which matched.
    pub fn redeem(&mut self, pepper: &[u8], user: &str, input: &str, now: u64) -> bool {
        let Some(normalised) = normalise(input) else {
            return false;
        };
        let candidate = mac(pepper, user, &normalised);
        let mut hit = None;
        for (i, stored) in self.codes.iter().enumerate() {
            let equal = bool::from(stored.mac.as_bytes().ct_eq(candidate.as_bytes()));
            if equal && stored.used_at.is_none() {
                hit = Some(i);
            }
        }
        match hit.and_then(|i| self.codes.get_mut(i)) {
            Some(code) => {
                code.used_at = Some(now);
                true
            }
            None => false,
        }
    }
}

fn random_code(env: &mut Env<'_>) -> String {
    let bytes = env.bytes::<SYMBOLS>();
    let mut out = String::with_capacity(SYMBOLS + SYMBOLS / GROUP);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % GROUP == 0 {
            out.push('-');
        }
        // 256 is a multiple of 32: the low five bits are uniform, and index the
        // 32-symbol alphabet.
        if let Some(&symbol) = ALPHABET.get(usize::from(b & 0x1f)) {
            out.push(char::from(symbol));
        }
    }
    out
}

/// The canonical form of a typed code, or `None` if it cannot be one.
pub fn normalise(input: &str) -> Option<String> {
    let mut out = String::with_capacity(SYMBOLS);
    for c in input.chars() {
        let c = match c.to_ascii_lowercase() {
            c if crate::codes::is_separator(c) => continue,
            'o' => '0',
            'i' | 'l' => '1',
            c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => c,
            _ => return None,
        };
        if out.len() == SYMBOLS {
            return None;
        }
        out.push(c);
    }
    (out.len() == SYMBOLS).then_some(out)
}

fn mac(pepper: &[u8], user: &str, normalised: &str) -> String {
    // HMAC takes keys of any length; `new_from_slice` cannot fail here.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(pepper) else {
        return String::new();
    };
    mac.update(user.as_bytes());
    mac.update(&[0]);
    mac.update(normalised.as_bytes());
    edge_mfa_jose::b64url_encode(&mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::SeededRandom;

    const PEPPER: &[u8] = &[9u8; 32];

    fn set(count: u8) -> (BackupCodeSet, Vec<String>) {
        let mut rng = SeededRandom::new(3);
        let mut env = Env::new(100, &mut rng);
        BackupCodeSet::generate(count, PEPPER, "user-1", &mut env)
    }

    #[test]
    fn format_and_entropy() {
        let (stored, codes) = set(10);
        assert_eq!(codes.len(), 10);
        assert_eq!(stored.remaining(), 10);
        for code in &codes {
            assert_eq!(code.len(), 14, "{code}");
            assert_eq!(code.matches('-').count(), 2);
            // 12 symbols × 5 bits = 60 bits ≥ 50.
            assert_eq!(normalise(code).unwrap().len() * 5, 60);
        }
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), codes.len());
        // Nothing of a code is stored in clear.
        let json = serde_json::to_string(&stored).unwrap();
        for code in &codes {
            assert!(!json.contains(&normalise(code).unwrap()));
        }
    }

    #[test]
    fn normalisation_survives_case_spaces_hyphens_and_lookalikes() {
        assert_eq!(normalise("abcd-efgh-jkmn").as_deref(), Some("abcdefghjkmn"));
        assert_eq!(
            normalise(" ABCD EFGH JKMN ").as_deref(),
            Some("abcdefghjkmn")
        );
        assert_eq!(normalise("abcdefghjkmn").as_deref(), Some("abcdefghjkmn"));
        assert_eq!(normalise("O0Il-1111-1111").as_deref(), Some("001111111111"));
        assert_eq!(normalise("abcd-efgh-jkm"), None, "too short");
        assert_eq!(normalise("abcd-efgh-jkmnp"), None, "too long");
        assert_eq!(
            normalise("abcd-efgh-jkmu"),
            None,
            "u is not in the alphabet"
        );
        assert_eq!(normalise("abcd-efgh-jkmé"), None);
        assert_eq!(normalise(""), None);
    }

    #[test]
    fn each_code_redeems_once() {
        let (mut stored, codes) = set(4);
        let typed = codes[1].to_uppercase().replace('-', " ");
        assert!(stored.redeem(PEPPER, "user-1", &typed, 200));
        assert_eq!(stored.remaining(), 3);
        assert!(!stored.redeem(PEPPER, "user-1", &codes[1], 201));
        assert_eq!(stored.remaining(), 3);
        assert!(stored.redeem(PEPPER, "user-1", &codes[0], 202));
    }

    #[test]
    fn codes_are_bound_to_user_and_pepper() {
        let (mut stored, codes) = set(4);
        assert!(!stored.redeem(PEPPER, "user-2", &codes[0], 200));
        assert!(!stored.redeem(&[8u8; 32], "user-1", &codes[0], 200));
        assert!(!stored.redeem(PEPPER, "user-1", "0000-0000-0000", 200));
        assert_eq!(stored.remaining(), 4);
    }
}
