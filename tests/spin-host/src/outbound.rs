//! Outgoing HTTP as Spin allows it: a component reaches only the hosts of its
//! `allowed_outbound_hosts` (spin.toml); anything else is `HttpRequestDenied`, as in
//! Spin's `crates/outbound-networking-config/src/allowed_hosts.rs` (spinframework/spin
//! 94a8fc8a). Allowed requests go out through wasmtime-wasi-http's default sender.
//!
//! Entries are `scheme://host[:port]`: `*` for the whole scheme, host or port;
//! `*.domain` for its subdomains; no port means the scheme's default (80, 443).
//! Entries that expand to nothing (`""`, `"http://"`) are skipped, as Spin does.

use std::future::Future;
use std::sync::Arc;

use anyhow::{Context, bail};
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

/// One `allowed_outbound_hosts` entry; `None` is `*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allowed {
    scheme: Option<String>,
    /// A leading `.` is `*.domain` (subdomains only).
    host: Option<String>,
    port: Option<u16>,
}

impl Allowed {
    /// Parses one entry; `Ok(None)` for one that expanded to nothing.
    pub fn parse(entry: &str) -> anyhow::Result<Option<Allowed>> {
        let entry = entry.trim();
        if entry.is_empty() || entry == "http://" || entry == "https://" {
            return Ok(None);
        }
        let (scheme, rest) = entry.split_once("://").with_context(|| {
            format!("allowed_outbound_hosts {entry:?}: no scheme (use *://*:* for any)")
        })?;
        if rest.contains('/') {
            bail!("allowed_outbound_hosts {entry:?}: a path is not allowed");
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || rest.starts_with('[') => {
                (host, Some(port))
            }
            _ => (rest, None),
        };
        let port = match port {
            Some("*") => None,
            Some(p) => Some(
                p.parse()
                    .with_context(|| format!("allowed_outbound_hosts {entry:?}: port"))?,
            ),
            None => Some(match scheme {
                "http" => 80,
                "https" => 443,
                _ => {
                    bail!("allowed_outbound_hosts {entry:?}: a port is needed for scheme {scheme}")
                }
            }),
        };
        Ok(Some(Allowed {
            scheme: (scheme != "*").then(|| scheme.to_string()),
            host: match host {
                "*" => None,
                h if h.starts_with("*.") => Some(h.trim_start_matches('*').to_ascii_lowercase()),
                h => Some(
                    h.trim_start_matches('[')
                        .trim_end_matches(']')
                        .to_ascii_lowercase(),
                ),
            },
            port,
        }))
    }

    fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        self.scheme.as_deref().is_none_or(|s| s == scheme)
            && self.host.as_deref().is_none_or(|h| {
                if h.starts_with('.') {
                    host.ends_with(h)
                } else {
                    host == h
                }
            })
            && self.port.is_none_or(|p| p == port)
    }
}

/// The hooks of one component's requests: its allow-list.
#[derive(Clone, Debug, Default)]
pub struct Outbound {
    pub allowed: Arc<[Allowed]>,
}

type Io = Box<dyn Future<Output = Result<(), HttpError>> + Send>;
type Sent = Box<dyn Future<Output = Result<(http::Response<WasiBody>, Io), HttpError>> + Send>;

impl WasiHttpHooks for Outbound {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        io: Io,
    ) -> Sent {
        let scheme = request.uri().scheme_str().unwrap_or("https").to_string();
        let allowed = request.uri().authority().is_some_and(|a| {
            let port = a
                .port_u16()
                .unwrap_or(if scheme == "http" { 80 } else { 443 });
            let host = a
                .host()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase();
            self.allowed.iter().any(|e| e.allows(&scheme, &host, port))
        });
        if !allowed {
            eprintln!(
                "spin-test-host: outbound request to {} denied: not in allowed_outbound_hosts",
                request.uri()
            );
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        wasmtime_wasi_http::default_hooks().send_request(request, options, io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(entry: &str, scheme: &str, host: &str, port: u16) -> bool {
        Allowed::parse(entry)
            .unwrap()
            .is_some_and(|a| a.allows(scheme, host, port))
    }

    #[test]
    fn entries_match_as_in_spin() {
        assert!(allows("https://*:*", "https", "hooks.example.com", 8443));
        assert!(!allows("https://*:*", "http", "hooks.example.com", 80));
        assert!(allows("https://*", "https", "a.example", 443));
        assert!(!allows("https://*", "https", "a.example", 8443));
        assert!(allows("http://127.0.0.1:*", "http", "127.0.0.1", 5000));
        assert!(!allows("http://127.0.0.1:*", "http", "127.0.0.2", 5000));
        assert!(allows(
            "https://*.example.com",
            "https",
            "hooks.example.com",
            443
        ));
        assert!(!allows(
            "https://*.example.com",
            "https",
            "example.com",
            443
        ));
        assert!(allows("*://*:*", "http", "anything", 1));
        assert!(allows("http://[::1]:8080", "http", "::1", 8080));
        assert!(Allowed::parse("").unwrap().is_none());
        assert!(Allowed::parse("https://").unwrap().is_none());
        assert!(Allowed::parse("hooks.example.com").is_err());
        assert!(Allowed::parse("https://h.example/path").is_err());
    }
}
