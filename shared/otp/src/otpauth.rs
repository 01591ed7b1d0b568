//! The Key Uri Format that authenticator apps scan:
//! `otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&algorithm=..&digits=..&period=..`
//! (Google Authenticator's "Key Uri Format"; the de-facto standard).

use std::fmt::Write;

use crate::totp::Totp;

#[derive(Debug)]
pub struct KeyUri<'a> {
    pub issuer: &'a str,
    pub account: &'a str,
    pub secret: &'a [u8],
    pub totp: Totp,
}

impl KeyUri<'_> {
    /// The secret as unpadded RFC 4648 base32, for manual entry.
    pub fn secret_base32(&self) -> String {
        data_encoding::BASE32_NOPAD.encode(self.secret)
    }

    pub fn to_uri(&self) -> String {
        let mut uri = String::from("otpauth://totp/");
        // The label's colon separates issuer from account, so it stays literal.
        uri.push_str(&percent_encode(self.issuer));
        uri.push(':');
        uri.push_str(&percent_encode(self.account));
        let _ = write!(
            uri,
            "?secret={}&issuer={}&algorithm={}&digits={}&period={}",
            self.secret_base32(),
            percent_encode(self.issuer),
            self.totp.algorithm.name(),
            self.totp.digits.count(),
            self.totp.period,
        );
        uri
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
}
