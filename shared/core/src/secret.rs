//! One wrapper for every secret value that passes through commands, outcomes and
//! request bodies: TOTP secrets and their otpauth URIs, submitted and issued codes,
//! backup codes, device tokens.
//!
//! - `Debug` prints `[redacted]`, so no log line, panic message or `{:?}` shows it.
//! - [`Secret::expose`] is the one way to the value; grep for it to find every use.
//! - The memory is zeroed on drop (`zeroize`).
//! - Serde is transparent: commands and outcomes still cross the Worker → Durable
//!   Object boundary as plain JSON, so the wrapper changes no wire format.
//!
//! Comparing two secrets with `==` is for tests; verification compares exposed
//! values in constant time (`subtle`).

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret<T: Zeroize>(T);

impl<T: Zeroize> Secret<T> {
    pub fn new(value: T) -> Secret<T> {
        Secret(value)
    }

    /// The secret value: only where it is used (verified, sent, shown once).
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: Zeroize> From<T> for Secret<T> {
    fn from(value: T) -> Secret<T> {
        Secret(value)
    }
}

impl From<&str> for Secret<String> {
    fn from(value: &str) -> Secret<String> {
        Secret(value.to_string())
    }
}

/// On the wire a secret is the value it wraps (serde is transparent).
#[cfg(feature = "schema")]
impl<T: Zeroize + schemars::JsonSchema> schemars::JsonSchema for Secret<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

impl<T: Zeroize> std::fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_and_serde_is_transparent() {
        let s = Secret::new("123456".to_string());
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(&s)), "Some([redacted])");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"123456\"");
        let back: Secret<String> = serde_json::from_str("\"123456\"").unwrap();
        assert_eq!(back.expose(), "123456");
    }
}
