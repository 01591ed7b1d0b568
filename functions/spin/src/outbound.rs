//! Outgoing HTTP from a Spin component (`wasi:http` 0.3 client through spin-sdk
//! 7): webhook deliveries and push messages. Spin allows only the hosts of the component's
//! `allowed_outbound_hosts` (spin.toml); a host it refuses is `HttpRequestDenied`.

use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use edge_mfa_api::DeliveryError;
use spin_sdk::http::{self, Method, Request};
use spin_sdk::wasip3::http::types::{ErrorCode, RequestOptions};
use spin_sdk::wasip3::http_compat::RequestOptionsExtension;

/// POSTs `body` to `url` with `headers`; the status and the milliseconds it took,
/// or why there was no answer within `timeout_ms`.
pub async fn post(
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
    timeout_ms: u64,
) -> Result<(u16, u64), DeliveryError> {
    let limit = Duration::from_millis(timeout_ms);
    let mut builder = Request::builder().method(Method::POST).uri(url);
    for (name, value) in headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    // A known length: the body goes out in one piece, not chunked. The bytes as
    // they are: a push message is binary (aes128gcm), not text.
    let mut request = builder
        .header("content-length", body.len().to_string())
        .body(http::FullBody::new(bytes::Bytes::copy_from_slice(body)))
        .map_err(|e| DeliveryError::Failed(format!("request: {e}")))?;
    // The runtime's own timeouts too, so a hung connection is given up there.
    let options = RequestOptions::new();
    let nanos = Some(u64::try_from(limit.as_nanos()).unwrap_or(u64::MAX));
    let _ = options.set_connect_timeout(nanos);
    let _ = options.set_first_byte_timeout(nanos);
    let _ = options.set_between_bytes_timeout(nanos);
    request
        .extensions_mut()
        .insert(RequestOptionsExtension(options));

    let started = std::time::Instant::now();
    // Whichever ends first; dropping the send cancels it.
    let mut send = pin!(async { http::send(request).await.map(|r| r.status().as_u16()) });
    let mut timer = pin!(spin_sdk::time::sleep(limit));
    let outcome = std::future::poll_fn(|cx| {
        if let Poll::Ready(r) = send.as_mut().poll(cx) {
            return Poll::Ready(Some(r));
        }
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await;
    let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match outcome {
        None => Err(DeliveryError::Timeout),
        Some(Ok(status)) => Ok((status, elapsed)),
        Some(Err(ErrorCode::ConnectionTimeout | ErrorCode::ConnectionReadTimeout)) => {
            Err(DeliveryError::Timeout)
        }
        Some(Err(e)) => Err(DeliveryError::Failed(format!("{e:?}"))),
    }
}
