//! The Key Uri Format that authenticator apps scan:
//! `otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&algorithm=..&digits=..&period=..`
//! (Google Authenticator's "Key Uri Format"; the de-facto standard).

use std::fmt::Write;

use crate::totp::Totp;

pub struct KeyUri<'a> {
    pub issuer: &'a str,
    pub account: &'a str,
    pub secret: &'a [u8],
    pub totp: Totp,
}

/// Everything but the secret.
impl std::fmt::Debug for KeyUri<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyUri")
            .field("issuer", &self.issuer)
            .field("account", &self.account)
            .field("totp", &self.totp)
            .finish_non_exhaustive()
    }
}

impl KeyUri<'_> {
    /// The secret as unpadded RFC 4648 base32, for manual entry.
    pub fn secret_base32(&self) -> String {
        data_encoding::BASE32_NOPAD.encode(self.secret)
    }

    /// The issuer as the URI carries it: [`label_part`] of [`KeyUri::issuer`].
    pub fn issuer_shown(&self) -> String {
        label_part(self.issuer, "edge-mfa")
    }

    /// The account name as the URI carries it: [`label_part`] of [`KeyUri::account`].
    pub fn account_shown(&self) -> String {
        label_part(self.account, "account")
    }

    /// `otpauth://totp/ISSUER:ACCOUNT?secret=..&issuer=ISSUER&algorithm=..&digits=..&period=..`
    /// with the label's issuer prefix equal to the `issuer` parameter, and every
    /// part percent-encoded (RFC 3986: all but the unreserved characters).
    pub fn to_uri(&self) -> String {
        let issuer = percent_encode(&self.issuer_shown());
        let mut uri = String::from("otpauth://totp/");
        // The label's one colon separates issuer from account, so it stays literal.
        uri.push_str(&issuer);
        uri.push(':');
        uri.push_str(&percent_encode(&self.account_shown()));
        let _ = write!(
            uri,
            "?secret={}&issuer={}&algorithm={}&digits={}&period={}",
            self.secret_base32(),
            issuer,
            self.totp.algorithm.name(),
            self.totp.digits.count(),
            self.totp.period,
        );
        uri
    }
}

/// A name fit for the label. The Key Uri Format: "Neither issuer nor account name
/// may themselves contain a colon (represented as %3A if URL-encoded)" — apps split
/// the label at the first colon, encoded or not, so a colon inside either name
/// would show the wrong account. Each colon becomes a space; runs of white space
/// and control characters become one space; an empty result becomes `fallback`.
pub fn label_part(name: &str, fallback: &str) -> String {
    let spaced: String = name
        .chars()
        .map(|c| if c == ':' || c.is_control() { ' ' } else { c })
        .collect();
    let joined = spaced.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.is_empty() {
        fallback.to_string()
    } else {
        joined
    }
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Algorithm, Digits};

    #[test]
    fn uri_has_every_parameter() {
        let uri = KeyUri {
            issuer: "ACME Co",
            account: "jane@example.com",
            secret: b"12345678901234567890",
            totp: Totp {
                algorithm: Algorithm::Sha256,
                digits: Digits::Eight,
                period: 60,
                skew: 1,
            },
        }
        .to_uri();
        assert_eq!(
            uri,
            "otpauth://totp/ACME%20Co:jane%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=ACME%20Co&algorithm=SHA256&digits=8&period=60"
        );
    }

    #[test]
    fn label_colons_are_escaped() {
        assert_eq!(percent_encode("a:b/c?d&e"), "a%3Ab%2Fc%3Fd%26e");
        assert_eq!(percent_encode("é"), "%C3%A9");
    }

    #[test]
    fn no_colon_inside_issuer_or_account() {
        let uri = KeyUri {
            issuer: "Acme: Support",
            account: "urn:user:42",
            secret: b"12345678901234567890",
            totp: Totp::default(),
        }
        .to_uri();
        assert!(
            uri.starts_with("otpauth://totp/Acme%20Support:urn%20user%2042?"),
            "{uri}"
        );
        assert!(uri.contains("&issuer=Acme%20Support&"), "{uri}");
        assert_eq!(label_part(" a \t:\n b ", "x"), "a b");
        assert_eq!(label_part(":", "x"), "x");
        assert_eq!(label_part("A&B #1 + 50% off", "x"), "A&B #1 + 50% off");
    }
}
