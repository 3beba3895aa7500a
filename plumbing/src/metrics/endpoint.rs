//! `GET /metrics` on the plaintext health/admin listener: the process's series in Prometheus'
//! text format, for scrapers that cannot present a client certificate (and need not reach
//! the mTLS port). Every other request goes on to the gRPC health service.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The content type of Prometheus' text exposition format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Answers `GET /metrics` itself and passes everything else to the wrapped service.
#[derive(Clone, Copy, Debug, Default)]
pub struct MetricsEndpointLayer;

impl<S> tower::Layer<S> for MetricsEndpointLayer {
    type Service = MetricsEndpoint<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsEndpoint { inner }
    }
}

/// The service made by [`MetricsEndpointLayer`].
#[derive(Clone, Debug)]
pub struct MetricsEndpoint<S> {
    inner: S,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B> tower::Service<http::Request<B>> for MetricsEndpoint<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if request.uri().path() != "/metrics" {
            return Box::pin(self.inner.call(request));
        }
        let response = if request.method() == http::Method::GET {
            http::Response::builder()
                .header(http::header::CONTENT_TYPE, TEXT_FORMAT)
                .body(tonic::body::Body::new(super::render()))
        } else {
            http::Response::builder()
                .status(http::StatusCode::METHOD_NOT_ALLOWED)
                .header(http::header::ALLOW, "GET")
                .body(tonic::body::Body::empty())
        };
        let response = response.unwrap_or_else(|_| http::Response::new(tonic::body::Body::empty()));
        Box::pin(std::future::ready(Ok(response)))
    }
}
