//! The HTTP request and response as the API sees them: plain data, so every
//! runtime adapter converts to and from its own types in a few lines.

/// Requests larger than this are refused with 413 before they are parsed.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Clone, Default)]
pub struct ApiRequest {
    /// Upper-case, as on the wire.
    pub method: String,
    /// The path without the query, still percent-encoded.
    pub path: String,
    pub query: String,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// What the runtime knows of the client (not from client-controlled headers).
    pub client: Client,
    /// The origin the runtime received the request at (`scheme://host[:port]`):
    /// where the Approver is served, so its WebAuthn origin and RP ID.
    pub origin: String,
}

/// The client as the runtime sees it: on Workers `CF-Connecting-IP` and
/// `request.cf.country`, on Spin the peer address.
#[derive(Clone, Debug, Default)]
pub struct Client {
    pub ip: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
}

impl ApiRequest {
    /// The request around a command, as far as the core cares: the platform's view
    /// of the client (never a header the client could set), for the audit log.
    pub(crate) fn context(&self) -> edge_mfa_core::command::RequestContext {
        edge_mfa_core::command::RequestContext {
            country: self.client.country.clone(),
            remember_device: None,
            ip: self.client.ip.clone(),
            user_agent: self.header("user-agent").map(str::to_string),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of cookie `name` (RFC 6265 §5.4 `Cookie` header).
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
            .flat_map(|(_, v)| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    /// The first value of query parameter `name` (`application/x-www-form-urlencoded`,
    /// percent-decoded); `None` if absent or empty.
    pub fn query_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_bytes())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.is_empty())
    }

    /// The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1).
    pub fn bearer(&self) -> Option<&str> {
        let value = self.header("authorization")?;
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim())
            .filter(|t| !t.is_empty())
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// For the operator's log, never for the client: why a 500 happened.
    pub log: Option<String>,
}

impl ApiResponse {
    pub fn json(status: u16, value: &serde_json::Value) -> ApiResponse {
        Self::json_bytes(status, value.to_string().into_bytes())
    }

    /// `application/json` from any serializable answer (the typed ones of
    /// `answers`). Fails only where serde_json does (a map with non-string keys).
    pub fn serialized<T: serde::Serialize>(
        status: u16,
        value: &T,
    ) -> Result<ApiResponse, serde_json::Error> {
        Ok(Self::json_bytes(status, serde_json::to_vec(value)?))
    }

    fn json_bytes(status: u16, body: Vec<u8>) -> ApiResponse {
        ApiResponse {
            status,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("cache-control".into(), "no-store".into()),
            ],
            body,
            log: None,
        }
    }

    pub fn empty(status: u16) -> ApiResponse {
        ApiResponse {
            status,
            headers: vec![("cache-control".into(), "no-store".into())],
            body: Vec::new(),
            log: None,
        }
    }

    /// This response with a line for the operator's log.
    pub fn with_log(mut self, line: impl Into<String>) -> ApiResponse {
        self.log = Some(line.into());
        self
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> ApiResponse {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Headers whose values are credentials: never in `Debug` output.
const SECRET_HEADERS: &[&str] = &["authorization", "cookie", "set-cookie", "x-mfa-token"];

/// Header names with their values, credentials redacted.
fn headers_for_debug(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers
        .iter()
        .map(|(n, v)| {
            let secret = SECRET_HEADERS.iter().any(|s| n.eq_ignore_ascii_case(s));
            (n.as_str(), if secret { "[redacted]" } else { v.as_str() })
        })
        .collect()
}

/// Bodies carry codes, secrets and tokens: `Debug` shows their length only.
impl std::fmt::Debug for ApiRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &headers_for_debug(&self.headers))
            .field("body_len", &self.body.len())
            .field("client", &self.client)
            .finish()
    }
}

impl std::fmt::Debug for ApiResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiResponse")
            .field("status", &self.status)
            .field("headers", &headers_for_debug(&self.headers))
            .field("body_len", &self.body.len())
            .field("log", &self.log)
            .finish()
    }
}

/// Whether the request announces (`Content-Length`) a body over [`MAX_BODY_BYTES`]:
/// adapters refuse it with 413 before reading a byte. `headers` as in [`ApiRequest`].
pub fn declares_too_large(headers: &[(String, String)]) -> bool {
    headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
}

/// Reads a request body chunk by chunk, keeping at most [`MAX_BODY_BYTES`]. A body
/// that goes beyond (chunked, without `Content-Length`) is drained, not kept, up to
/// a bound and then refused: a server that closes while the client is still
/// sending makes the client lose the 413 (the kernel resets the connection).
#[derive(Default)]
pub struct BodyReader {
    kept: Vec<u8>,
    total: usize,
}

/// A body may hold codes and secrets: `Debug` shows its length only.
impl std::fmt::Debug for BodyReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyReader")
            .field("total", &self.total)
            .finish()
    }
}

/// How much of an oversized body is read and dropped before answering 413.
const DRAIN_LIMIT: usize = 4 * 1024 * 1024;

impl BodyReader {
    /// Takes the next chunk; `false` means stop reading.
    pub fn push(&mut self, chunk: &[u8]) -> bool {
        self.total = self.total.saturating_add(chunk.len());
        if self.total <= MAX_BODY_BYTES {
            self.kept.extend_from_slice(chunk);
        }
        self.total <= DRAIN_LIMIT
    }

    pub fn finish(self) -> Result<Vec<u8>, crate::ApiError> {
        if self.total > MAX_BODY_BYTES {
            Err(crate::ApiError::PayloadTooLarge)
        } else {
            Ok(self.kept)
        }
    }
}

/// RFC 3986 percent-decoding of one path segment; `None` if it is not valid UTF-8
/// or a `%` is not followed by two hex digits.
pub fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_segments() {
        assert_eq!(
            percent_decode("jane%40acme.test").as_deref(),
            Some("jane@acme.test")
        );
        assert_eq!(percent_decode("a%2Fb").as_deref(), Some("a/b"));
        assert_eq!(percent_decode("%C3%A9").as_deref(), Some("é"));
        assert_eq!(percent_decode("%"), None);
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%C3"), None);
    }

    #[test]
    fn body_reader_keeps_the_limit_and_drains_beyond() {
        let mut r = BodyReader::default();
        assert!(r.push(&vec![1; MAX_BODY_BYTES]));
        assert_eq!(r.finish().map(|b| b.len()), Ok(MAX_BODY_BYTES));
        let mut r = BodyReader::default();
        assert!(r.push(&vec![1; MAX_BODY_BYTES]));
        assert!(r.push(&[1]), "beyond the limit it drains");
        assert!(
            !r.push(&vec![1; DRAIN_LIMIT]),
            "beyond the drain limit it stops"
        );
        assert_eq!(r.finish(), Err(crate::ApiError::PayloadTooLarge));
    }

    #[test]
    fn debug_shows_no_credential_and_no_body() {
        let req = ApiRequest {
            method: "POST".into(),
            path: "/v1/acme/verify".into(),
            headers: vec![
                ("authorization".into(), "Bearer ticket-SECRET".into()),
                ("x-mfa-token".into(), "token-SECRET".into()),
                ("cookie".into(), "edge_mfa_device_acme=device-SECRET".into()),
                ("user-agent".into(), "Firefox".into()),
            ],
            body: br#"{"code":"123456-SECRET"}"#.to_vec(),
            ..Default::default()
        };
        let shown = format!("{req:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("Firefox"));
        let response = ApiResponse::json(200, &serde_json::json!({"secret": "JBSWY-SECRET"}))
            .with_header("set-cookie", "edge_mfa_device_acme=device-SECRET");
        let shown = format!("{response:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
    }

    #[test]
    fn bearer_tokens() {
        let req = |v: &str| ApiRequest {
            headers: vec![("authorization".into(), v.into())],
            ..Default::default()
        };
        assert_eq!(req("Bearer abc").bearer(), Some("abc"));
        assert_eq!(req("bearer abc").bearer(), Some("abc"));
        assert_eq!(req("Basic abc").bearer(), None);
        assert_eq!(req("Bearer ").bearer(), None);
        assert_eq!(req("Bearer").bearer(), None);
    }
}
