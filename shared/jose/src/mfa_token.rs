//! `mfa_token`: ES256 JWTs that prove the second factor to the tenant backend.

use edge_mfa_crypto::{Algorithm, Crypto, PublicKey, SigningKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

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

/// Opens a signing key's 32-byte private scalar; `None` if it cannot be opened.
pub type OpenScalar<'a> = dyn Fn() -> Option<Zeroizing<[u8; 32]>> + 'a;

/// A tenant's signing key: its published JWK and a way to open its private
/// scalar, which the signature port calls only when it does not hold the key
/// already. Its `Debug` shows the `kid` only.
pub struct TokenSigner<'a> {
    jwk: Jwk,
    x: [u8; 32],
    y: [u8; 32],
    id: String,
    open: Box<OpenScalar<'a>>,
}

impl std::fmt::Debug for TokenSigner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner")
            .field("kid", &self.jwk.kid)
            .finish_non_exhaustive()
    }
}

impl<'a> TokenSigner<'a> {
    /// The key published as `jwk`, whose scalar `open` gives. `id` names it for the
    /// port's cache and must name no other key (tenant scope and `kid`). `None`
    /// unless the JWK's coordinates are 32 bytes each.
    pub fn new(
        jwk: Jwk,
        id: String,
        open: impl Fn() -> Option<Zeroizing<[u8; 32]>> + 'a,
    ) -> Option<TokenSigner<'a>> {
        let (x, y) = coordinates(&jwk)?;
        Some(TokenSigner {
            jwk,
            x,
            y,
            id,
            open: Box::new(open),
        })
    }

    /// From a 32-byte scalar, for tests and tools (a tenant's key comes from
    /// `Tenant::signer`); `None` if it is zero or not below the group order. Its
    /// cache id is its `kid`.
    pub fn from_secret_bytes(bytes: &[u8]) -> Option<TokenSigner<'static>> {
        let jwk = public_jwk(bytes)?;
        let scalar = Zeroizing::new(<[u8; 32]>::try_from(bytes).ok()?);
        let id = jwk.kid.clone();
        TokenSigner::new(jwk, id, move || Some(scalar.clone()))
    }

    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// The public key as an uncompressed SEC 1 point: `0x04 || x || y` (65 bytes),
    /// as Web Push's `applicationServerKey` and VAPID's `k` carry it.
    pub fn uncompressed_point(&self) -> [u8; 65] {
        let mut point = [4u8; 65];
        point[1..33].copy_from_slice(&self.x);
        point[33..].copy_from_slice(&self.y);
        point
    }

    pub fn verifier(&self) -> TokenVerifier {
        TokenVerifier {
            x: self.x,
            y: self.y,
            kid: self.jwk.kid.clone(),
        }
    }

    /// JWS compact with header `{"alg":"ES256","typ":"JWT","kid":..}`; the signature
    /// is the 64-byte `r || s` of RFC 7518 §3.4, made by `crypto`.
    /// [`JoseError::KeyUnopenable`] if the key did not open,
    /// [`JoseError::SigningFailed`] if the port could not sign with it.
    pub fn sign(&self, crypto: &dyn Crypto, claims: &MfaTokenClaims) -> Result<String, JoseError> {
        self.sign_claims(crypto, claims)
    }

    /// As [`TokenSigner::sign`], for any JWT claims (a VAPID token, RFC 8292 §2).
    ///
    /// # Errors
    /// As [`TokenSigner::sign`].
    pub fn sign_claims(
        &self,
        crypto: &dyn Crypto,
        claims: &impl serde::Serialize,
    ) -> Result<String, JoseError> {
        let header =
            serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": self.jwk.kid}).to_string();
        let payload = serde_json::to_string(claims).map_err(|_| JoseError::SigningFailed)?;
        let input = encode_compact(&header, &payload);
        // Which failed, when signing does: opening the key, or the port.
        let unopenable = std::cell::Cell::new(false);
        let open = || {
            let scalar = (self.open)();
            unopenable.set(scalar.is_none());
            scalar
        };
        let key = SigningKey {
            id: &self.id,
            open: &open,
        };
        let signature = crypto.sign_es256(&key, input.as_bytes()).ok_or_else(|| {
            if unopenable.get() {
                JoseError::KeyUnopenable
            } else {
                JoseError::SigningFailed
            }
        })?;
        Ok(format!("{input}.{}", base64url::encode(&signature)))
    }
}

/// The public JWK of a 32-byte P-256 scalar; `None` if it is zero or not below
/// the group order.
pub fn public_jwk(scalar: &[u8]) -> Option<Jwk> {
    // `SigningKey::from_slice` zero-pads short input; a key is exactly 32 bytes.
    if scalar.len() != 32 {
        return None;
    }
    let key = p256::ecdsa::SigningKey::from_slice(scalar).ok()?;
    Some(Jwk::from_verifying_key(key.verifying_key()))
}

/// A P-256 JWK's `x` and `y`, if each is 32 bytes of base64url.
fn coordinates(jwk: &Jwk) -> Option<([u8; 32], [u8; 32])> {
    let coordinate = |c: &str| base64url::decode(c).and_then(|b| <[u8; 32]>::try_from(b).ok());
    Some((coordinate(&jwk.x)?, coordinate(&jwk.y)?))
}

/// Checks our own `mfa_token`s, for step-up.
#[derive(Clone, Debug)]
pub struct TokenVerifier {
    x: [u8; 32],
    y: [u8; 32],
    kid: String,
}

impl TokenVerifier {
    /// From a published key (`jwks.json`): no private key needed to check a token.
    /// `None` unless it is a P-256 point.
    pub fn from_jwk(jwk: &Jwk) -> Option<TokenVerifier> {
        let (x, y) = coordinates(jwk)?;
        edge_mfa_crypto::p256_key(&x, &y)?;
        Some(TokenVerifier {
            x,
            y,
            kid: jwk.kid.clone(),
        })
    }

    /// The `kid` of the key this verifier holds.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The token's claims if `crypto` finds its signature valid and the claims
    /// hold for `tenant` at `now` (Unix seconds).
    pub fn verify(
        &self,
        crypto: &dyn Crypto,
        token: &str,
        tenant: &str,
        now: u64,
    ) -> Result<MfaTokenClaims, JoseError> {
        let jws = Compact::parse(token)?;
        if jws.header.alg != "ES256" {
            return Err(JoseError::UnsupportedAlgorithm);
        }
        if jws.header.kid.as_deref() != Some(self.kid.as_str()) {
            return Err(JoseError::UnknownKey);
        }
        // RFC 7518 §3.4: exactly 64 bytes, r and s in [1, n); the port takes DER.
        let der =
            edge_mfa_crypto::es256_der_from_raw(&jws.signature).ok_or(JoseError::BadSignature)?;
        let key = PublicKey::P256 {
            x: &self.x,
            y: &self.y,
        };
        if !crypto.verify(Algorithm::Es256, key, jws.signing_input, &der) {
            return Err(JoseError::BadSignature);
        }
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
    use edge_mfa_crypto::RustCrypto;

    fn signer() -> TokenSigner<'static> {
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
        let token = s.sign(&RustCrypto, &claims(1000)).unwrap();
        assert_eq!(
            s.verifier()
                .verify(&RustCrypto, &token, "acme", 1100)
                .unwrap(),
            claims(1000)
        );
    }

    #[test]
    fn refuses_other_tenant_expired_and_tampered() {
        let s = signer();
        let token = s.sign(&RustCrypto, &claims(1000)).unwrap();
        assert_eq!(
            s.verifier().verify(&RustCrypto, &token, "globex", 1100),
            Err(JoseError::WrongIssuer)
        );
        assert_eq!(
            s.verifier().verify(&RustCrypto, &token, "acme", 1300),
            Err(JoseError::Expired)
        );
        let mut bytes = token.into_bytes();
        let i = bytes.len() - 5;
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(
            s.verifier()
                .verify(&RustCrypto, &tampered, "acme", 1100)
                .is_err()
        );
    }

    #[test]
    fn a_verifier_from_the_published_jwk_checks_the_token() {
        let s = signer();
        let token = s.sign(&RustCrypto, &claims(1000)).unwrap();
        let from_jwk = TokenVerifier::from_jwk(s.jwk()).unwrap();
        assert_eq!(from_jwk.kid(), s.jwk().kid);
        assert_eq!(
            from_jwk.verify(&RustCrypto, &token, "acme", 1100).unwrap(),
            claims(1000)
        );
        let mut bad = s.jwk().clone();
        bad.x = "AAAA".into();
        assert!(TokenVerifier::from_jwk(&bad).is_none());
    }

    #[test]
    fn refuses_another_key() {
        let other = TokenSigner::from_secret_bytes(&[9u8; 32]).unwrap();
        let token = other.sign(&RustCrypto, &claims(1000)).unwrap();
        assert_eq!(
            signer()
                .verifier()
                .verify(&RustCrypto, &token, "acme", 1100),
            Err(JoseError::UnknownKey)
        );
    }

    #[test]
    fn refuses_invalid_scalars() {
        assert!(TokenSigner::from_secret_bytes(&[0u8; 32]).is_none());
        assert!(TokenSigner::from_secret_bytes(&[0xffu8; 32]).is_none());
        assert!(TokenSigner::from_secret_bytes(&[1u8; 31]).is_none());
    }

    #[test]
    fn a_key_that_does_not_open_signs_nothing() {
        let jwk = signer().jwk().clone();
        let closed = TokenSigner::new(jwk, "k".into(), || None).unwrap();
        assert_eq!(
            closed.sign(&RustCrypto, &claims(1000)),
            Err(JoseError::KeyUnopenable)
        );
        // A key that opens to a scalar the port cannot use is the port's failure.
        let zero = TokenSigner::new(signer().jwk().clone(), "z".into(), || {
            Some(Zeroizing::new([0u8; 32]))
        })
        .unwrap();
        assert_eq!(
            zero.sign(&RustCrypto, &claims(1000)),
            Err(JoseError::SigningFailed)
        );
        assert_eq!(
            format!("{closed:?}"),
            format!("TokenSigner {{ kid: {:?}, .. }}", closed.jwk().kid)
        );
    }
}
