//! The checks of the wire values as JSON Schema `pattern`s (ECMA-262, and read
//! alike by Python's `re`), for the generated OpenAPI document: each mirrors the
//! Rust check it names, so a client built from the document sends what passes.

/// A name or label: printable characters between whitespace that `trim()` drops
/// (factor names, `ops::factor_name`; tenant names, `tenant::validate_identity`).
pub const PRINTABLE: &str =
    r"^[\t\n\u000b\f\r\u0085]*[^\u0000-\u001f\u007f-\u009f]*[\t\n\u000b\f\r\u0085]*$";

/// [`PRINTABLE`] with line breaks inside (help messages and notes, `ops::help`).
pub const PRINTABLE_LINES: &str =
    r"^[\t\n\u000b\f\r\u0085]*[^\u0000-\u0009\u000b-\u001f\u007f-\u009f]*[\t\n\u000b\f\r\u0085]*$";

/// `[a-z0-9-]{1,63}` and nothing after it, not even a newline (`ids::TenantId`).
pub const TENANT_ID: &str = r"^[a-z0-9-]{1,63}(?![\s\S])";

/// A lowercase domain name, the WebAuthn RP ID (`tenant::validate_rp_id`).
pub const RP_ID: &str =
    r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$";

/// A backup code as printed or typed: 12 Crockford base32 symbols (U is not one),
/// with any whitespace and hyphens around them (`backup_codes::normalise`).
pub const BACKUP_CODE: &str = r"^[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u2010\u2011-]*(?:[0-9A-TV-Za-tv-z][\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u2010\u2011-]*){12}$";

/// ISO 3166-1 alpha-2, and Cloudflare's `T1` (Tor) and `XX` (unknown).
pub const COUNTRY: &str = "^([A-Z]{2}|T1|XX)$";

/// An ITU-T E.164 country calling code.
pub const CALLING_CODE: &str = "^[1-9][0-9]{0,2}$";
