//! The demo page, the browser SDK's modules (`public/sdk`, written by
//! `scripts/build-sdk`) and the admin console, served from the component itself
//! (Spin's static file server is a download from GitHub, which these machines
//! cannot reach). The responses carry the headers that `public/_headers` gives
//! them on Workers.

use bytes::Bytes;
use spin_sdk::http::{FullBody, Request, Response, StatusCode};

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "/approver/",
        "text/html; charset=utf-8",
        include_bytes!("../../../../public/approver/index.html"),
    ),
    (
        "/approver/index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../../../public/approver/index.html"),
    ),
    (
        "/approver/approver.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../../public/approver/approver.js"),
    ),
    (
        "/approver/sw.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../../public/approver/sw.js"),
    ),
    (
        "/approver/approver.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../../public/approver/approver.css"),
    ),
    (
        "/approver/manifest.webmanifest",
        "application/manifest+json",
        include_bytes!("../../../../public/approver/manifest.webmanifest"),
    ),
    (
        "/approver/icon.svg",
        "image/svg+xml",
        include_bytes!("../../../../public/approver/icon.svg"),
    ),
    (
        "/demo/",
        "text/html; charset=utf-8",
        include_bytes!("../../../../public/demo/index.html"),
    ),
    (
        "/demo/index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../../../public/demo/index.html"),
    ),
    (
        "/demo/demo.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../../public/demo/demo.js"),
    ),
    (
        "/demo/demo.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../../public/demo/demo.css"),
    ),
    (
        "/sdk/index.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../../public/sdk/index.js"),
    ),
    (
        "/sdk/texts.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../../public/sdk/texts.js"),
    ),
    (
        "/sdk/prompt.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../../public/sdk/prompt.js"),
    ),
    (
        "/admin/",
        "text/html; charset=utf-8",
        include_bytes!("../../../../public/admin/index.html"),
    ),
    (
        "/admin/index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../../../public/admin/index.html"),
    ),
    (
        "/admin/admin.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../../public/admin/admin.js"),
    ),
    (
        "/admin/admin.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../../public/admin/admin.css"),
    ),
];

/// The console's headers (as public/_headers on Workers): no framing, no
/// sniffing, no referrer, and a CSP that allows only its own files.
const CONSOLE_HEADERS: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-cache"),
];

/// The demo page's headers: the policy a tenant's page could have, to show the
/// prompt needs no inline script or style (its QR code is a `data:` image).
const DEMO_HEADERS: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-cache"),
];

/// The Approver's headers (as public/_headers on Workers): its own files only.
const APPROVER_HEADERS: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; manifest-src 'self'; worker-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-cache"),
];

/// The SDK's modules: any tenant's page may load them (a module script from
/// another origin is fetched with CORS); they hold no secret and send no cookie.
const SDK_HEADERS: &[(&str, &str)] = &[
    ("access-control-allow-origin", "*"),
    ("x-content-type-options", "nosniff"),
    ("cache-control", "no-cache"),
];

#[spin_sdk::http_service]
async fn handle(req: Request) -> Response<FullBody<Bytes>> {
    let found = FILES.iter().find(|(path, _, _)| *path == req.uri().path());
    let (status, content_type, body) = match found {
        Some((_, content_type, body)) => (StatusCode::OK, *content_type, Bytes::from_static(body)),
        None => (
            StatusCode::NOT_FOUND,
            "text/plain",
            Bytes::from_static(b"not found"),
        ),
    };
    let path = req.uri().path();
    if path == "/admin" {
        let mut response = Response::new(FullBody::new(Bytes::new()));
        *response.status_mut() = StatusCode::MOVED_PERMANENTLY;
        response.headers_mut().insert(
            "location",
            spin_sdk::http::HeaderValue::from_static("/admin/"),
        );
        return response;
    }
    let mut response = Response::new(FullBody::new(body));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response.headers_mut().insert("content-type", value);
    }
    let headers: &[(&str, &str)] = if path.starts_with("/admin/") {
        CONSOLE_HEADERS
    } else if path.starts_with("/demo/") {
        DEMO_HEADERS
    } else if path.starts_with("/sdk/") {
        SDK_HEADERS
    } else if path.starts_with("/approver/") {
        APPROVER_HEADERS
    } else {
        &[]
    };
    for (name, value) in headers {
        response
            .headers_mut()
            .insert(*name, spin_sdk::http::HeaderValue::from_static(value));
    }
    response
}
