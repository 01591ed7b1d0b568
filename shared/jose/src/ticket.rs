//! Tickets: the tenant backend's proof that the user passed the first factor.

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Deserializer};
use sha2::Sha256;

use crate::JoseError;
use crate::jws::Compact;

/// The `aud` every ticket must carry.
pub const TICKET_AUDIENCE: &str = "edge-mfa";
/// Longest `exp - iat` accepted (API.md: 15 minutes).
pub const TICKET_MAX_LIFETIME: u64 = 900;
/// How far in the future `iat` may lie, for clock drift between tenant and edge.
pub const TICKET_CLOCK_SKEW: u64 = 60;
const MAX_SUBJECT_LEN: usize = 256;

/// The verified claims of a ticket.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct TicketClaims {
    pub iss: String,
    pub sub: String,
    #[serde(deserialize_with = "audience")]
    pub aud: Vec<String>,
    pub iat: u64,
    pub exp: u64,
    /// RFC 7519 §4.1.5: not to be accepted before this time.
    #[serde(default)]
    pub nbf: Option<u64>,
    #[serde(default)]
    pub email: Option<String>,
    /// The tenant vouches that `email` is the user's (OpenID Connect Core §5.1):
    /// an email factor for it is made without a code.
    #[serde(default)]
    pub email_verified: Option<bool>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub jti: Option<String>,
}

/// RFC 7519 §4.1.3: `aud` is a string or an array of strings.
fn audience<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Aud {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Aud::deserialize(d)? {
        Aud::One(a) => vec![a],
        Aud::Many(a) => a,
    })
}

/// Verifies a ticket for `tenant` at time `now`: HS256 only, signature first, then
/// `iss`, `aud`, `sub`, `iat`, `nbf`, `exp` and the 15-minute lifetime cap.
pub fn verify_ticket(
    token: &str,
    secret: &[u8],
    tenant: &str,
    now: u64,
) -> Result<TicketClaims, JoseError> {
    let jws = Compact::parse(token)?;
    if jws.header.alg != "HS256" {
        return Err(JoseError::UnsupportedAlgorithm);
    }
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret).map_err(|_| JoseError::BadSignature)?;
    mac.update(jws.signing_input);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&jws.signature)
        .map_err(|_| JoseError::BadSignature)?;

    let claims: TicketClaims = jws.claims()?;
    if claims.iss != tenant {
        return Err(JoseError::WrongIssuer);
    }
    if !claims.aud.iter().any(|a| a == TICKET_AUDIENCE) {
        return Err(JoseError::WrongAudience);
    }
    if claims.sub.is_empty() || claims.sub.chars().count() > MAX_SUBJECT_LEN {
        return Err(JoseError::InvalidSubject);
    }
    if claims.iat > now.saturating_add(TICKET_CLOCK_SKEW) {
        return Err(JoseError::IssuedInFuture);
    }
    if claims
        .nbf
        .is_some_and(|nbf| nbf > now.saturating_add(TICKET_CLOCK_SKEW))
    {
        return Err(JoseError::NotYetValid);
    }
    if claims.exp <= now {
        return Err(JoseError::Expired);
    }
    if claims.exp.saturating_sub(claims.iat) > TICKET_MAX_LIFETIME {
        return Err(JoseError::LifetimeTooLong);
    }
    Ok(claims)
}

/// Mints a ticket; for tests and the local demo, where we play the tenant backend.
pub fn sign_ticket(claims_json: &str, secret: &[u8]) -> String {
    let input = crate::jws::encode_compact(r#"{"alg":"HS256","typ":"JWT"}"#, claims_json);
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => return input, // HMAC takes any key length; unreachable.
    };
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        crate::base64url::encode(&mac.finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base64url::encode;

    const SECRET: &[u8] = b"a-tenant-ticket-secret-of-32-bytes!!";
    const NOW: u64 = 1_800_000_000;

    fn claims(iss: &str, sub: &str, aud: &str, iat: u64, exp: u64) -> String {
        format!(r#"{{"iss":"{iss}","sub":"{sub}","aud":{aud},"iat":{iat},"exp":{exp}}}"#)
    }

    fn good() -> String {
        claims("acme", "user-1", r#""edge-mfa""#, NOW - 10, NOW + 290)
    }

    #[test]
    fn accepts_a_good_ticket() {
        let t = verify_ticket(&sign_ticket(&good(), SECRET), SECRET, "acme", NOW).unwrap();
        assert_eq!(t.sub, "user-1");
        assert_eq!(t.aud, vec!["edge-mfa"]);
        assert!(t.groups.is_empty());
    }

    #[test]
    fn accepts_audience_array_and_optional_claims() {
        let c = r#"{"iss":"acme","sub":"u","aud":["x","edge-mfa"],"iat":1799999990,"exp":1800000100,"email":"u@x","groups":["admins"],"jti":"j1","other":1}"#;
        let t = verify_ticket(&sign_ticket(c, SECRET), SECRET, "acme", NOW).unwrap();
        assert_eq!(t.groups, vec!["admins"]);
        assert_eq!(t.email.as_deref(), Some("u@x"));
    }

    #[test]
    fn refuses_alg_none() {
        let token = format!(
            "{}.{}.",
            encode(br#"{"alg":"none","typ":"JWT"}"#),
            encode(good().as_bytes())
        );
        assert_eq!(
            verify_ticket(&token, SECRET, "acme", NOW),
            Err(JoseError::UnsupportedAlgorithm)
        );
    }

    #[test]
    fn refuses_other_algorithms_even_with_a_valid_hmac() {
        // The classic confusion: an HS384/RS256 header over a valid HS256 MAC.
        let signed = sign_ticket(&good(), SECRET);
        let sig = signed.rsplit('.').next().unwrap();
        for alg in ["HS384", "HS512", "RS256", "ES256", "hs256", "None"] {
            let header = encode(format!(r#"{{"alg":"{alg}"}}"#).as_bytes());
            let token = format!("{header}.{}.{sig}", encode(good().as_bytes()));
            assert_eq!(
                verify_ticket(&token, SECRET, "acme", NOW),
                Err(JoseError::UnsupportedAlgorithm),
                "{alg}"
            );
        }
    }

    #[test]
    fn refuses_a_forged_signature() {
        let token = sign_ticket(&good(), b"some-other-secret");
        assert_eq!(
            verify_ticket(&token, SECRET, "acme", NOW),
            Err(JoseError::BadSignature)
        );
    }

    #[test]
    fn refuses_a_claims_set_or_header_that_is_not_an_object() {
        // RFC 7519 §7.2: a JSON object. serde alone reads a struct from an array
        // of its members, so this MAC-valid ticket would otherwise be accepted.
        let array = format!(r#"["acme","user-1","edge-mfa",{},{}]"#, NOW - 10, NOW + 290);
        assert_eq!(
            verify_ticket(&sign_ticket(&array, SECRET), SECRET, "acme", NOW),
            Err(JoseError::Malformed)
        );
        let input = crate::jws::encode_compact(r#"["HS256","JWT"]"#, &good());
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET).unwrap();
        mac.update(input.as_bytes());
        let token = format!("{input}.{}", encode(&mac.finalize().into_bytes()));
        assert_eq!(
            verify_ticket(&token, SECRET, "acme", NOW),
            Err(JoseError::Malformed)
        );
    }

    #[test]
    fn refuses_a_tampered_payload() {
        let token = sign_ticket(&good(), SECRET);
        let mut parts: Vec<&str> = token.split('.').collect();
        let evil = encode(claims("acme", "admin", r#""edge-mfa""#, NOW - 10, NOW + 290).as_bytes());
        parts[1] = &evil;
        assert_eq!(
            verify_ticket(&parts.join("."), SECRET, "acme", NOW),
            Err(JoseError::BadSignature)
        );
    }

    #[test]
    fn refuses_expired() {
        let token = sign_ticket(
            &claims("acme", "u", r#""edge-mfa""#, NOW - 300, NOW),
            SECRET,
        );
        assert_eq!(
            verify_ticket(&token, SECRET, "acme", NOW),
            Err(JoseError::Expired)
        );
    }

    #[test]
    fn iat_skew_boundary() {
        let at_limit = sign_ticket(
            &claims("acme", "u", r#""edge-mfa""#, NOW + 60, NOW + 120),
            SECRET,
        );
        assert!(verify_ticket(&at_limit, SECRET, "acme", NOW).is_ok());
        let beyond = sign_ticket(
            &claims("acme", "u", r#""edge-mfa""#, NOW + 61, NOW + 120),
            SECRET,
        );
        assert_eq!(
            verify_ticket(&beyond, SECRET, "acme", NOW),
            Err(JoseError::IssuedInFuture)
        );
    }

    #[test]
    fn refuses_a_ticket_not_valid_yet() {
        let with_nbf = |nbf: u64| {
            sign_ticket(
                &format!(
                    r#"{{"iss":"acme","sub":"u","aud":"edge-mfa","iat":{},"exp":{},"nbf":{nbf}}}"#,
                    NOW - 10,
                    NOW + 600
                ),
                SECRET,
            )
        };
        assert!(verify_ticket(&with_nbf(NOW), SECRET, "acme", NOW).is_ok());
        assert!(verify_ticket(&with_nbf(NOW + 60), SECRET, "acme", NOW).is_ok());
        assert_eq!(
            verify_ticket(&with_nbf(NOW + 61), SECRET, "acme", NOW),
            Err(JoseError::NotYetValid)
        );
        assert_eq!(
            verify_ticket(&with_nbf(NOW + 300), SECRET, "acme", NOW),
            Err(JoseError::NotYetValid)
        );
    }

    #[test]
    fn lifetime_cap() {
        let at_cap = sign_ticket(
            &claims("acme", "u", r#""edge-mfa""#, NOW - 100, NOW + 800),
            SECRET,
        );
        assert!(verify_ticket(&at_cap, SECRET, "acme", NOW).is_ok());
        let over = sign_ticket(
            &claims("acme", "u", r#""edge-mfa""#, NOW - 100, NOW + 801),
            SECRET,
        );
        assert_eq!(
            verify_ticket(&over, SECRET, "acme", NOW),
            Err(JoseError::LifetimeTooLong)
        );
    }

    #[test]
    fn refuses_wrong_issuer_and_audience() {
        let other_tenant = sign_ticket(
            &claims("globex", "u", r#""edge-mfa""#, NOW, NOW + 60),
            SECRET,
        );
        assert_eq!(
            verify_ticket(&other_tenant, SECRET, "acme", NOW),
            Err(JoseError::WrongIssuer)
        );
        let wrong_aud = sign_ticket(
            &claims("acme", "u", r#""someone-else""#, NOW, NOW + 60),
            SECRET,
        );
        assert_eq!(
            verify_ticket(&wrong_aud, SECRET, "acme", NOW),
            Err(JoseError::WrongAudience)
        );
    }

    #[test]
    fn refuses_bad_subjects() {
        let empty = sign_ticket(&claims("acme", "", r#""edge-mfa""#, NOW, NOW + 60), SECRET);
        assert_eq!(
            verify_ticket(&empty, SECRET, "acme", NOW),
            Err(JoseError::InvalidSubject)
        );
        let long = sign_ticket(
            &claims("acme", &"x".repeat(257), r#""edge-mfa""#, NOW, NOW + 60),
            SECRET,
        );
        assert_eq!(
            verify_ticket(&long, SECRET, "acme", NOW),
            Err(JoseError::InvalidSubject)
        );
    }

    #[test]
    fn refuses_malformed_tokens() {
        let good = sign_ticket(&good(), SECRET);
        let cases = [
            String::new(),
            "a.b".into(),
            format!("{good}.extra"),
            good.replace('.', "=."),
            format!("{good}="),
            "!!!.@@@.###".into(),
            format!("{}.{}.", encode(b"not json"), encode(b"{}")),
            "x".repeat(9000),
        ];
        for token in cases {
            assert!(
                verify_ticket(&token, SECRET, "acme", NOW).is_err(),
                "{token:.40}"
            );
        }
    }

    #[test]
    fn refuses_wrongly_typed_claims() {
        let c = r#"{"iss":"acme","sub":"u","aud":"edge-mfa","iat":"1800000000","exp":1800000100}"#;
        assert_eq!(
            verify_ticket(&sign_ticket(c, SECRET), SECRET, "acme", NOW),
            Err(JoseError::Malformed)
        );
        let no_exp = r#"{"iss":"acme","sub":"u","aud":"edge-mfa","iat":1800000000}"#;
        assert_eq!(
            verify_ticket(&sign_ticket(no_exp, SECRET), SECRET, "acme", NOW),
            Err(JoseError::Malformed)
        );
    }

    #[test]
    fn refuses_crit_headers() {
        let header = encode(br#"{"alg":"HS256","crit":["exp"]}"#);
        let input = format!("{header}.{}", encode(good().as_bytes()));
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET).unwrap();
        mac.update(input.as_bytes());
        let token = format!("{input}.{}", encode(&mac.finalize().into_bytes()));
        assert_eq!(
            verify_ticket(&token, SECRET, "acme", NOW),
            Err(JoseError::UnsupportedCritical)
        );
    }
}
