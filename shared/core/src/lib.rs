//! The edge-mfa state machine.
//!
//! Every operation is a function of a user's record, the tenant, an input, the
//! current time and a random source — no clock reads, no storage, no network.
//! Runtime adapters load the record, call [`apply`] atomically (inside a Durable
//! Object, or a database transaction), persist what it returns and answer.

// A Spin component's build runs only its own operations (Cargo.toml): the others'
// code is unused there. The full build (clippy, the tests) holds it to the lints.
#![cfg_attr(
    not(every_operation),
    allow(dead_code, unused_imports, unused_variables)
)]

pub mod assess;
pub mod audit;
pub mod backup_codes;
pub mod cidr;
pub mod codes;
pub mod command;
pub mod devices;
pub mod env;
mod error;
pub mod help;
pub mod ids;
pub mod lockout;
pub mod notify;
mod ops;
pub mod patterns;
pub mod policy;
pub mod seal;
pub mod secret;
pub mod tenant;
pub mod user;
pub mod webhook;

pub use command::{
    Applied, FactorView, LogBatch, Outcome, UserCommand, UserRequest, UserRow, UserStatus,
    Verified, Write, apply, execute, summarize,
};
/// The signature port (`Env::crypto`): pure Rust by default, the runtime's own where it has one.
pub use edge_mfa_webauthn::crypto;
pub use env::{Env, OsRandom, Random};
pub use error::CoreError;
pub use ops::{MAX_SENDS_PER_USER_PER_HOUR, NewDestination};
pub use secret::Secret;
pub use user::{UserEntry, UserSummary};
