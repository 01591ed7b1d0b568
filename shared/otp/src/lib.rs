//! One-time passwords: HOTP (RFC 4226), TOTP (RFC 6238), the `otpauth://` key URI
//! that authenticator apps scan, and its QR code as SVG.
//!
//! No clock and no storage here: callers pass the time and remember the last
//! accepted time step, which is what makes replay detection possible.

mod hotp;
mod otpauth;
mod qr;
mod totp;

pub use hotp::{Algorithm, Digits, HotpKey, hotp};
pub use otpauth::KeyUri;
pub use qr::qr_svg;
pub use totp::{Totp, TotpError};
