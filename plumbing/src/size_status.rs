//! gRPC's code for a message over the size limit: tonic answers OUT_OF_RANGE when a request or
//! response is larger than the server's limit, where gRPC's convention (and every other
//! implementation) is RESOURCE_EXHAUSTED. [`SizeStatusLayer`] rewrites that one status, in
//! the response headers (a request too large) and in the trailers (a response too large).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::HeaderMap;
use http_body::Frame;
use tonic::codegen::Bytes;

/// The start of tonic's messages for a message over the decoding and the encoding limit.
const OVER_LIMIT: [&str; 2] = [
    "Error, decoded message length too large",
    "Error, encoded message length too large",
];

/// Turns tonic's OUT_OF_RANGE for a message over the size limit into RESOURCE_EXHAUSTED.
#[derive(Clone, Copy, Debug, Default)]
pub struct SizeStatusLayer;

impl<S> tower::Layer<S> for SizeStatusLayer {
    type Service = SizeStatus<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SizeStatus { inner }
    }
}

/// The service made by [`SizeStatusLayer`].
#[derive(Clone, Debug)]
pub struct SizeStatus<S> {
    inner: S,
}

/// Rewrites `grpc-status` 11 with one of tonic's size messages to 8, and 13 for a request
/// that does not decode to 3, in `headers`.
fn rewrite(headers: &mut HeaderMap) {
    bound(headers);
    // tonic percent-encodes the message (spaces become %20).
    let message = headers
        .get("grpc-message")
        .map(|m| String::from_utf8_lossy(m.as_bytes()).replace("%20", " "))
        .unwrap_or_default();
    let code = headers.get("grpc-status").map(|c| c.as_bytes().to_vec());
    let over_limit = OVER_LIMIT.iter().any(|prefix| message.starts_with(prefix));
    // A request that is not valid protobuf is the client's error, where tonic answers INTERNAL.
    let undecodable = message.starts_with("failed to decode Protobuf message");
    let rewritten = match code.as_deref() {
        Some(b"11") if over_limit => tonic::Code::ResourceExhausted,
        Some(b"13") if undecodable => tonic::Code::InvalidArgument,
        _ => return,
    };
    headers.insert("grpc-status", http::HeaderValue::from(rewritten as i32));
}

/// The longest `grpc-message` (percent-encoded) a status leaves a server with.
const MAX_MESSAGE_BYTES: usize = 1024;

/// The largest `grpc-status-details-bin` a status leaves a server with; larger details are
/// dropped (the code and the clamped message remain).
const MAX_DETAILS_BYTES: usize = 4096;

/// Keeps a status within bounds whatever a handler put into it (echoed client input, say),
/// so it never outgrows the header limits between services or a client's.
fn bound(headers: &mut HeaderMap) {
    if let Some(message) = headers.get("grpc-message")
        && message.len() > MAX_MESSAGE_BYTES
    {
        let bytes = message.as_bytes();
        let mut cut = MAX_MESSAGE_BYTES;
        // Never cut inside a %XX escape.
        while cut >= 2 && bytes[cut - 2..cut].contains(&b'%') {
            cut -= 1;
        }
        let mut clamped = bytes[..cut].to_vec();
        clamped.extend_from_slice(b"%E2%80%A6");
        if let Ok(value) = http::HeaderValue::from_bytes(&clamped) {
            headers.insert("grpc-message", value);
        }
    }
    if headers
        .get("grpc-status-details-bin")
        .is_some_and(|details| details.len() > MAX_DETAILS_BYTES)
    {
        headers.remove("grpc-status-details-bin");
    }
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B, R> tower::Service<http::Request<B>> for SizeStatus<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    R: http_body::Body<Data = Bytes> + Send + Unpin + 'static,
    R::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let response = self.inner.call(request);
        Box::pin(async move {
            let mut response = response.await?;
            rewrite(response.headers_mut());
            Ok(response.map(|body| tonic::body::Body::new(Trailers(body))))
        })
    }
}

/// A response body whose trailers pass through [`rewrite`].
struct Trailers<R>(R);

impl<R: http_body::Body<Data = Bytes> + Unpin> http_body::Body for Trailers<R> {
    type Data = Bytes;
    type Error = R::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, R::Error>>> {
        Pin::new(&mut self.0).poll_frame(cx).map(|frame| {
            frame.map(|frame| {
                frame.map(|frame| match frame.into_trailers() {
                    Ok(mut trailers) => {
                        rewrite(&mut trailers);
                        Frame::trailers(trailers)
                    }
                    Err(frame) => frame,
                })
            })
        })
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.0.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_size_limit_status_is_rewritten() {
        let status = |code: &str, message: &str| {
            let mut headers = HeaderMap::new();
            headers.insert("grpc-status", code.parse().expect("code"));
            headers.insert("grpc-message", message.parse().expect("message"));
            rewrite(&mut headers);
            headers["grpc-status"].to_str().expect("ascii").to_owned()
        };
        let over = "Error, decoded message length too large: found 5 bytes, the limit is: 4 bytes";
        assert_eq!(status("11", over), "8");
        assert_eq!(status("11", &over.replace("decoded", "encoded")), "8");
        assert_eq!(status("11", "page_size out of range"), "11");
        assert_eq!(status("3", over), "3");
        let undecodable = "failed to decode Protobuf message: invalid varint";
        assert_eq!(status("13", undecodable), "3");
        assert_eq!(status("13", "internal error"), "13");
        assert_eq!(status("11", &over.replace(' ', "%20")), "8");
        assert_eq!(status("13", &undecodable.replace(' ', "%20")), "3");
    }

    #[test]
    fn statuses_leave_within_bounds() {
        let mut headers = HeaderMap::new();
        headers.insert("grpc-status", "3".parse().expect("code"));
        let long = "x%00".repeat(10_000);
        headers.insert("grpc-message", long.parse().expect("message"));
        headers.insert(
            "grpc-status-details-bin",
            "A".repeat(100_000).parse().expect("details"),
        );
        rewrite(&mut headers);
        let message = headers["grpc-message"].to_str().expect("ascii");
        assert!(message.len() <= MAX_MESSAGE_BYTES + 9, "{}", message.len());
        assert!(message.ends_with("%E2%80%A6"));
        assert!(!message.trim_end_matches("%E2%80%A6").ends_with('%'));
        assert!(headers.get("grpc-status-details-bin").is_none());
    }
}
