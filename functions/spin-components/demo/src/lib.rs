//! The demo page, served from the component itself (Spin's static file server is a
//! download from GitHub, which these machines cannot reach).

use bytes::Bytes;
use spin_sdk::http::{FullBody, Request, Response, StatusCode};

const FILES: &[(&str, &str, &[u8])] = &[
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
    let mut response = Response::new(FullBody::new(body));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response.headers_mut().insert("content-type", value);
    }
    response
}
