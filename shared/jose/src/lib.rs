//! The two JSON Web Tokens edge-mfa deals in.
//!
//! - A **ticket** comes in: HS256 (RFC 7518 §3.2) signed by the tenant's backend with
//!   the tenant's `ticket_secret`, proving the user passed the first factor.
//! - An **mfa_token** goes out: ES256 (RFC 7518 §3.4) with a per-tenant P-256 key
//!   whose public half is published as a JWK Set (RFC 7517), `kid` = RFC 7638
//!   thumbprint.
//!
//! Only these two algorithms exist here; every other `alg`, `none` above all, is
//! refused before any key is touched.

mod base64url;
mod error;
mod jwk;
mod jws;
mod mfa_token;
mod ticket;

pub use base64url::{decode as b64url_decode, encode as b64url_encode};
pub use error::JoseError;
pub use jwk::{Jwk, JwkSet};
pub use mfa_token::{
    ACR_MFA, ACR_NONE, MFA_TOKEN_LIFETIME, MfaTokenClaims, OpenScalar, TokenSigner, TokenVerifier,
    public_jwk,
};
pub use ticket::{
    TICKET_AUDIENCE, TICKET_CLOCK_SKEW, TICKET_MAX_LIFETIME, TicketClaims, sign_ticket,
    verify_ticket,
};
