//! The `challenge` component of edge-mfa's Spin app: its routes are in spin.toml; the
//! work is the shared API's.

use bytes::Bytes;
use spin_sdk::http::{FullBody, Request, Response};

#[spin_sdk::http_service]
async fn handle(req: Request) -> Response<FullBody<Bytes>> {
    edge_mfa_spin::serve(req).await
}
