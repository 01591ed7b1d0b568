//! `mfa_token`: ES256 JWTs that prove the second factor to the tenant backend.

use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::jws::{Compact, encode_compact};
use crate::{JoseError, Jwk, base64url};

/// Seconds an `mfa_token` is valid (API.md).
pub const MFA_TOKEN_LIFETIME: u64 = 300;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaTokenClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub iat: u64,
    pub exp: u64,
    pub auth_time: u64,
    pub jti: String,
    /// RFC 8176 Authentication Method Reference values; empty when no factor was
    /// presented.
    pub amr: Vec<String>,
    pub mfa_method: String,
    /// Authentication Context Class Reference (OpenID Connect Core §2): [`ACR_MFA`]
    /// when the user presented a second factor in this sign-in, [`ACR_NONE`] when
    /// the policy, a bypass or a remembered device let them through. A backend that
    /// requires MFA checks `acr == "mfa"`.
    pub acr: String,
}

/// `acr` of a token that proves a second factor presented now.
pub const ACR_MFA: &str = "mfa";
/// `acr` of a token issued without a second factor: OpenID Connect's level `0`,
/// the one it names for a long-lived browser cookie.
pub const ACR_NONE: &str = "0";

impl MfaTokenClaims {
    pub fn issuer_for(tenant: &str) -> String {
        format!("edge-mfa:{tenant}")
    }
}

/// A tenant's signing key. Its `Debug` shows the `kid` only.
pub struct TokenSigner {
    key: SigningKey,
    jwk: Jwk,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner")
            .field("kid", &self.jwk.kid)
            .finish_non_exhaustive()
    }
}

impl TokenSigner {
    /// From a 32-byte scalar; `None` if it is zero or not below the group order.
    pub fn from_secret_bytes(bytes: &[u8]) -> Option<TokenSigner> {
        // `SigningKey::from_slice` zero-pads short input; a key is exactly 32 bytes.
        if bytes.len() != 32 {
            return None;
        }
        let key = SigningKey::from_slice(bytes).ok()?;
        let jwk = Jwk::from_verifying_key(key.verifying_key());
        Some(TokenSigner { key, jwk })
    }

    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    pub fn verifier(&self) -> TokenVerifier {
        TokenVerifier {
            key: *self.key.verifying_key(),
            kid: self.jwk.kid.clone(),
        }
    }

    /// JWS compact with header `{"alg":"ES256","typ":"JWT","kid":..}`; the signature
    /// is the 64-byte `r || s` of RFC 7518 §3.4 (RFC 6979 deterministic nonce).
    pub fn sign(&self, claims: &MfaTokenClaims) -> String {
        let header =
            serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": self.jwk.kid}).to_string();
        let payload = serde_json::to_string(claims).unwrap_or_default();
        let input = encode_compact(&header, &payload);
        let signature: Signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", base64url::encode(&signature.to_bytes()))
    }
}

/// Checks our own `mfa_token`s, for step-up.
#[derive(Clone, Debug)]
pub struct TokenVerifier {
    key: VerifyingKey,
    kid: String,
}

impl TokenVerifier {
    /// From a published key (`jwks.json`): no private key needed to check a token.
    /// `None` unless it is a P-256 point.
    pub fn from_jwk(jwk: &Jwk) -> Option<TokenVerifier> {
        let coordinate = |c: &str| base64url::decode(c).filter(|b| b.len() == 32);
        let (x, y) = (coordinate(&jwk.x)?, coordinate(&jwk.y)?);
        let mut point = Vec::with_capacity(65);
        point.push(0x04);
        point.extend_from_slice(&x);
        point.extend_from_slice(&y);
        Some(TokenVerifier {
            key: VerifyingKey::from_sec1_bytes(&point).ok()?,
            kid: jwk.kid.clone(),
        })
    }

    /// The `kid` of the key this verifier holds.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn verify(&self, token: &str, tenant: &str, now: u64) -> Result<MfaTokenClaims, JoseError> {
        let jws = Compact::parse(token)?;
        if jws.header.alg != "ES256" {
            return Err(JoseError::UnsupportedAlgorithm);
        }
        if jws.header.kid.as_deref() != Some(self.kid.as_str()) {
            return Err(JoseError::UnknownKey);
        }
        let signature =
            Signature::from_slice(&jws.signature).map_err(|_| JoseError::BadSignature)?;
        self.key
            .verify(jws.signing_input, &signature)
            .map_err(|_| JoseError::BadSignature)?;
        let claims: MfaTokenClaims = jws.claims()?;
        if claims.iss != MfaTokenClaims::issuer_for(tenant) {
            return Err(JoseError::WrongIssuer);
        }
        if claims.aud != tenant {
            return Err(JoseError::WrongAudience);
        }
        if claims.exp <= now {
            return Err(JoseError::Expired);
        }
        if claims.iat > now.saturating_add(crate::TICKET_CLOCK_SKEW) {
            return Err(JoseError::IssuedInFuture);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> TokenSigner {
        TokenSigner::from_secret_bytes(&[7u8; 32]).unwrap()
    }

    fn claims(now: u64) -> MfaTokenClaims {
        MfaTokenClaims {
            iss: MfaTokenClaims::issuer_for("acme"),
            aud: "acme".into(),
            sub: "user-1".into(),
            iat: now,
            exp: now + MFA_TOKEN_LIFETIME,
            auth_time: now,
            jti: "j".into(),
            amr: vec!["otp".into()],
            mfa_method: "totp".into(),
            acr: ACR_MFA.into(),
        }
    }

    #[test]
    fn sign_then_verify() {
        let s = signer();
        let token = s.sign(&claims(1000));
        assert_eq!(
            s.verifier().verify(&token, "acme", 1100).unwrap(),
            claims(1000)
        );
    }

    #[test]
    fn refuses_other_tenant_expired_and_tampered() {
        let s = signer();
        let token = s.sign(&claims(1000));
        assert_eq!(
            s.verifier().verify(&token, "globex", 1100),
            Err(JoseError::WrongIssuer)
        );
        assert_eq!(
            s.verifier().verify(&token, "acme", 1300),
            Err(JoseError::Expired)
        );
        let mut bytes = token.into_bytes();
        let i = bytes.len() - 5;
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(s.verifier().verify(&tampered, "acme", 1100).is_err());
    }

    #[test]
    fn a_verifier_from_the_published_jwk_checks_the_token() {
        let s = signer();
        let token = s.sign(&claims(1000));
        let from_jwk = TokenVerifier::from_jwk(s.jwk()).unwrap();
        assert_eq!(from_jwk.kid(), s.jwk().kid);
        assert_eq!(from_jwk.verify(&token, "acme", 1100).unwrap(), claims(1000));
        let mut bad = s.jwk().clone();
        bad.x = "AAAA".into();
        assert!(TokenVerifier::from_jwk(&bad).is_none());
    }

    #[test]
    fn refuses_another_key() {
        let other = TokenSigner::from_secret_bytes(&[9u8; 32]).unwrap();
        let token = other.sign(&claims(1000));
        assert_eq!(
            signer().verifier().verify(&token, "acme", 1100),
            Err(JoseError::UnknownKey)
        );
    }

    #[test]
    fn refuses_invalid_scalars() {
        assert!(TokenSigner::from_secret_bytes(&[0u8; 32]).is_none());
        assert!(TokenSigner::from_secret_bytes(&[0xffu8; 32]).is_none());
        assert!(TokenSigner::from_secret_bytes(&[1u8; 31]).is_none());
    }
}
