//! A per-request limit on request metadata. HTTP/2 lets a server refuse a header list only by
//! resetting the stream (a 431 without a gRPC status) or, past four times its advertised limit,
//! by closing the whole connection. The servers therefore advertise a generous limit (the
//! message size limit) and [`MetadataLimitLayer`] answers RESOURCE_EXHAUSTED, as gRPC does for
//! metadata over its limit, to a request whose metadata is larger than [`MAX_METADATA_BYTES`]:
//! only that request fails, with a clear status, and the connection goes on.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The largest request metadata a server accepts, in bytes as HTTP/2 counts them (name, value
/// and 32 bytes per entry).
pub const MAX_METADATA_BYTES: usize = 64 * 1024;

/// Answers RESOURCE_EXHAUSTED to requests whose metadata is over [`MAX_METADATA_BYTES`].
#[derive(Clone, Copy, Debug, Default)]
pub struct MetadataLimitLayer;

impl<S> tower::Layer<S> for MetadataLimitLayer {
    type Service = MetadataLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetadataLimit { inner }
    }
}

/// The service made by [`MetadataLimitLayer`].
#[derive(Clone, Debug)]
pub struct MetadataLimit<S> {
    inner: S,
}

/// The size of a request's header list as HTTP/2 counts it (RFC 9113 §6.5.2).
pub fn header_list_size<B>(request: &http::Request<B>) -> usize {
    let headers: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 32)
        .sum();
    headers + request.uri().path().len() + 32
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B> tower::Service<http::Request<B>> for MetadataLimit<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let size = header_list_size(&request);
        if size > MAX_METADATA_BYTES {
            tracing::warn!(
                size,
                limit = MAX_METADATA_BYTES,
                "refused request metadata over the limit"
            );
            let status = tonic::Status::resource_exhausted(format!(
                "the request metadata is {size} bytes, the limit is {MAX_METADATA_BYTES} bytes"
            ));
            return Box::pin(async move { Ok(status.into_http()) });
        }
        Box::pin(self.inner.call(request))
    }
}
