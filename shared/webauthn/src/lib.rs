//! WebAuthn Level 3 relying-party verification, by hand.
//!
//! CBOR is decoded with `ciborium` (strictly: `cbor.rs`), authenticator data is
//! parsed with every length checked, signatures are verified through the port of
//! [`crypto`] (ES256, EdDSA, RS256: pure Rust by default, native code where the
//! runtime has it; certificate paths in Rust). [`verify_registration`] follows §7.1 and
//! [`verify_authentication`] §7.2 step by step; each check has its own
//! [`WebauthnError`] variant. No I/O, no clock: challenges are issued and kept by
//! the caller.

mod android_key;
mod attestation;
mod authentication;
mod authenticator_data;
pub mod cbor;
pub mod chain;
mod client_data;
pub mod cose;
pub mod der;
mod error;
mod flags;
pub mod json;
mod registration;
mod tpm;

pub use attestation::{AttestationObject, AttestationType};
pub use authentication::{
    Assertion, AuthenticationCeremony, StoredCredential, verify_authentication,
};
pub use authenticator_data::{AttestedCredentialData, AuthenticatorData};
pub use chain::TrustAnchors;
pub use client_data::{Ceremony, CollectedClientData};
/// The signature port the ceremonies verify through (`RustCrypto` by default).
pub use edge_mfa_crypto as crypto;
pub use error::WebauthnError;
pub use flags::Flags;
pub use registration::{RegisteredCredential, RegistrationCeremony, verify_registration};
