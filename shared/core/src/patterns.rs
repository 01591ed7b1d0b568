//! The checks of the wire values as JSON Schema `pattern`s (ECMA-262, and read
//! alike by Python's `re`: every one ends in `(?![\s\S])`, since `$` also matches
//! before a final newline there), for the generated OpenAPI document: each
//! mirrors the Rust check it names, and the tests below hold the text patterns to
//! those checks.

/// A name as sent: printable characters, with any whitespace around them that
/// `trim()` drops (Unicode `White_Space`), and something left after the trim
/// (tenant names, `tenant::validate_identity`; a factor's new name).
pub const NAME: &str = concat!(
    r"^[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*",
    r"[^\u0000-\u001f\u007f-\u009f\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
    r"(?:[^\u0000-\u001f\u007f-\u009f]*",
    r"[^\u0000-\u001f\u007f-\u009f\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?",
    r"[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?![\s\S])",
);

/// [`NAME`], or nothing but whitespace: a factor's name at enrollment, where
/// empty means the default (`ops::factor_name`).
pub const NAME_OR_EMPTY: &str = concat!(
    r"^[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*",
    r"(?:[^\u0000-\u001f\u007f-\u009f\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
    r"(?:[^\u0000-\u001f\u007f-\u009f]*",
    r"[^\u0000-\u001f\u007f-\u009f\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?)?",
    r"[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?![\s\S])",
);

/// [`NAME_OR_EMPTY`] with line breaks inside (help messages and notes,
/// `help::text`).
pub const TEXT: &str = concat!(
    r"^[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*",
    r"(?:[^\u0000-\u0009\u000b-\u001f\u007f-\u009f\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
    r"(?:[^\u0000-\u0009\u000b-\u001f\u007f-\u009f]*",
    r"[^\u0000-\u0009\u000b-\u001f\u007f-\u009f\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?)?",
    r"[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?![\s\S])",
);

/// `[a-z0-9-]{1,63}` and nothing after it (`ids::TenantId`).
pub const TENANT_ID: &str = r"^[a-z0-9-]{1,63}(?![\s\S])";

/// A lowercase domain name, the WebAuthn RP ID (`tenant::validate_rp_id`).
pub const RP_ID: &str =
    r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?![\s\S])";

/// A backup code as printed or typed: 12 Crockford base32 symbols (U is not one),
/// with any whitespace and hyphens around them (`backup_codes::normalise`).
pub const BACKUP_CODE: &str = r"^[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u2010\u2011-]*(?:[0-9A-TV-Za-tv-z][\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u2010\u2011-]*){12}(?![\s\S])";

/// ISO 3166-1 alpha-2, and Cloudflare's `T1` (Tor) and `XX` (unknown).
pub const COUNTRY: &str = r"^(?:[A-Z]{2}|T1|XX)(?![\s\S])";

/// An ITU-T E.164 country calling code.
pub const CALLING_CODE: &str = r"^[1-9][0-9]{0,2}(?![\s\S])";

#[cfg(test)]
mod tests {
    use super::*;

    /// Every string of up to `len` characters of `alphabet`.
    fn strings(alphabet: &[char], len: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut layer = vec![String::new()];
        for _ in 0..len {
            layer = layer
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            all.extend(layer.iter().cloned());
        }
        all
    }

    /// Whitespace `trim()` drops, of both kinds (control and not), a control
    /// character that is not whitespace, a line break, and two printable ones.
    const ALPHABET: &[char] = &[
        'a', ' ', '\u{85}', '\t', '\u{a0}', '\u{7}', '\n', '\u{3000}', 'é',
    ];

    fn agree(pattern: &str, bound: usize, check: impl Fn(&str) -> bool) {
        let regex = fancy_regex::Regex::new(pattern).unwrap();
        for s in strings(ALPHABET, 4) {
            let by_pattern = regex.is_match(&s).unwrap() && s.chars().count() <= bound;
            assert_eq!(by_pattern, check(&s), "{pattern} on {s:?}");
        }
    }

    #[test]
    fn the_name_patterns_say_what_the_checks_take() {
        let origins = ["https://app.acme.test".to_string()];
        agree(NAME, 100, |name| {
            crate::tenant::validate_identity(name, "acme.test", &origins).is_ok()
        });
        agree(NAME_OR_EMPTY, 64, |name| {
            crate::ops::factor_name(Some(name.to_string()), "default").is_ok()
        });
        agree(NAME, 64, |name| {
            crate::ops::factor_name(Some(name.to_string()), "").is_ok_and(|n| !n.is_empty())
        });
        agree(TEXT, 500, |text| {
            crate::help::text(Some(text.to_string()), "message", 500).is_ok()
        });
    }

    #[test]
    fn no_pattern_takes_a_final_newline() {
        for (pattern, valid) in [
            (TENANT_ID, "acme"),
            (RP_ID, "acme.test"),
            (COUNTRY, "NL"),
            (CALLING_CODE, "44"),
            (BACKUP_CODE, "0000-0000-0000"),
        ] {
            let regex = fancy_regex::Regex::new(pattern).unwrap();
            assert!(regex.is_match(valid).unwrap(), "{pattern} on {valid}");
            assert!(!regex.is_match(&format!("{valid}\n")).unwrap() || pattern == BACKUP_CODE);
        }
    }
}
