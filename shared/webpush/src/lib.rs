//! Web Push as a browser's push service expects it, with no vendor SDK:
//!
//! - [`encrypt`]: the message, encrypted for one subscription (RFC 8291 §3.4) in
//!   the `aes128gcm` content coding (RFC 8188 §2), one record;
//! - [`vapid`]: the application server's claims and `Authorization: vapid t=, k=`
//!   header (RFC 8292 §2–3), signed by the caller's ES256 signer;
//! - [`PushSubscription`]: what `PushSubscription.toJSON()` gives (W3C Push API
//!   §3.4), checked, with the endpoint held to the push services a deployment
//!   allows.
//!
//! No I/O and no randomness of its own: the caller supplies the ephemeral key and
//! the salt, so the RFC's test vector is a test.

mod encryption;
mod error;
mod subscription;
pub mod vapid;

pub use encryption::{MAX_PLAINTEXT, RECORD_SIZE, encrypt};
pub use error::WebPushError;
pub use subscription::{DEFAULT_PUSH_SERVICES, PushServices, PushSubscription, SubscriptionKeys};
