//! Identifiers, validated once at the edge so the rest of the code can trust them.

use serde::{Deserialize, Serialize};

use crate::env::Env;

/// `[a-z0-9-]{1,63}` (API.md).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl TryFrom<String> for TenantId {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let ok = (1..=63).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(TenantId(s))
        } else {
            Err("tenant id must match [a-z0-9-]{1,63}")
        }
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for TenantId {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TenantId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // `tenants` would name the operator's path `/v1/tenants`.
        schemars::json_schema!({
            "type": "string",
            "pattern": crate::patterns::TENANT_ID,
            "not": { "const": "tenants" }
        })
    }
}

impl From<TenantId> for String {
    fn from(id: TenantId) -> String {
        id.0
    }
}

impl TenantId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user id from a verified ticket: 1–256 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserId(String);

impl TryFrom<String> for UserId {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let n = s.chars().count();
        if (1..=256).contains(&n) && !s.chars().any(char::is_control) {
            Ok(UserId(s))
        } else {
            Err("user id must be 1-256 characters without control characters")
        }
    }
}

impl From<UserId> for String {
    fn from(id: UserId) -> String {
        id.0
    }
}

impl UserId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A random opaque id (128 bits, base64url) for factors, enrollments, challenges.
pub fn random_id(env: &mut Env<'_>) -> String {
    edge_mfa_jose::b64url_encode(&env.bytes::<16>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids() {
        for ok in ["a", "acme-co", "0", &"a".repeat(63)] {
            assert!(TenantId::try_from(ok.to_string()).is_ok(), "{ok}");
        }
        for bad in ["", "Acme", "a_b", "a b", "ä", &"a".repeat(64), "a/b", "a.b"] {
            assert!(TenantId::try_from(bad.to_string()).is_err(), "{bad}");
        }
    }

    #[test]
    fn user_ids() {
        assert!(UserId::try_from("jane@example.com".to_string()).is_ok());
        assert!(UserId::try_from("é".repeat(256)).is_ok());
        assert!(UserId::try_from("é".repeat(257)).is_err());
        assert!(UserId::try_from(String::new()).is_err());
        assert!(UserId::try_from("a\nb".to_string()).is_err());
    }
}
