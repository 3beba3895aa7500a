//! Per-method gRPC metrics after OpenTelemetry's RPC semantic conventions: `rpc.server.duration`
//! and `rpc.client.duration` (milliseconds, a histogram whose count is the number of calls),
//! with `rpc.system`, `rpc.service`, `rpc.method` and `rpc.grpc.status_code`. The status
//! comes from the response headers (trailers-only answers) or the trailers, so a streaming
//! call is measured until its last message; a call dropped before its end counts as
//! CANCELLED, a client call that never got an answer as UNAVAILABLE. Paths that are no known
//! method are recorded as `_OTHER`, so a caller cannot grow the label set.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Instant;

use http::HeaderMap;
use http_body::Frame;
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Histogram, Meter};
use tonic::codegen::Bytes;

/// Bucket bounds of the duration histograms, in milliseconds: fine below 10 ms, where calls
/// on one network land, up to the 30 s default deadline.
const BOUNDS_MS: [f64; 16] = [
    0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0,
    10000.0, 30000.0,
];

/// The label values of a path that names no known method.
const OTHER: &str = "_OTHER";

/// The reflection methods every server offers besides the descriptor set's.
const REFLECTION: [&str; 2] = [
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/// Which end of a call is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Calls this process answers (`rpc.server.duration`).
    Server,
    /// Calls this process makes (`rpc.client.duration`).
    Client,
}

/// Records the duration and status of every call through the wrapped service.
#[derive(Clone, Debug)]
pub struct RpcMetricsLayer {
    duration: Histogram<f64>,
    side: Side,
}

impl RpcMetricsLayer {
    /// A layer recording into `meter` for `side`.
    pub fn new(meter: &Meter, side: Side) -> Self {
        let (name, description) = match side {
            Side::Server => ("rpc.server.duration", "Duration of inbound RPCs"),
            Side::Client => ("rpc.client.duration", "Duration of outbound RPCs"),
        };
        let duration = meter
            .f64_histogram(name)
            .with_unit("ms")
            .with_description(description)
            .with_boundaries(BOUNDS_MS.to_vec())
            .build();
        Self { duration, side }
    }

    /// A layer recording into the process-wide meter ([`super::meter`]).
    pub fn global(side: Side) -> Self {
        Self::new(&super::meter("mtm-rpc"), side)
    }
}

impl<S> tower::Layer<S> for RpcMetricsLayer {
    type Service = RpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcMetrics {
            inner,
            duration: self.duration.clone(),
            side: self.side,
        }
    }
}

/// The service made by [`RpcMetricsLayer`].
#[derive(Clone, Debug)]
pub struct RpcMetrics<S> {
    inner: S,
    duration: Histogram<f64>,
    side: Side,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B, R> tower::Service<http::Request<B>> for RpcMetrics<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
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
        let mut call = Call {
            duration: self.duration.clone(),
            labels: labels(request.uri().path()),
            started: Instant::now(),
            done: false,
        };
        let side = self.side;
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = match response.await {
                Ok(response) => response,
                Err(error) => {
                    call.finish(match side {
                        Side::Client => tonic::Code::Unavailable,
                        Side::Server => tonic::Code::Internal,
                    });
                    return Err(error);
                }
            };
            if let Some(code) = status(response.headers()) {
                call.finish(code);
            } else if response.status() != http::StatusCode::OK {
                call.finish(http_code(response.status()));
            }
            Ok(response.map(|body| tonic::body::Body::new(Metered { body, call })))
        })
    }
}

/// The `rpc.service` and `rpc.method` labels of `path`.
fn labels(path: &str) -> [KeyValue; 3] {
    let (service, method) = match path.strip_prefix('/').and_then(|p| p.split_once('/')) {
        Some((service, method)) if known_methods().contains(path) => {
            (service.to_owned(), method.to_owned())
        }
        _ => (OTHER.to_owned(), OTHER.to_owned()),
    };
    [
        KeyValue::new("rpc.system", "grpc"),
        KeyValue::new("rpc.service", service),
        KeyValue::new("rpc.method", method),
    ]
}

/// Every method path of the MTM descriptor set, health and reflection.
fn known_methods() -> &'static HashSet<String> {
    static KNOWN: OnceLock<HashSet<String>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        use prost::Message;
        let mut known: HashSet<String> = REFLECTION.iter().map(|p| (*p).to_owned()).collect();
        for encoded in [
            mtm_proto::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
        ] {
            let Ok(set) = prost_types::FileDescriptorSet::decode(encoded) else {
                continue;
            };
            for file in &set.file {
                for service in &file.service {
                    for method in &service.method {
                        known.insert(format!(
                            "/{}.{}/{}",
                            file.package(),
                            service.name(),
                            method.name()
                        ));
                    }
                }
            }
        }
        known
    })
}

/// The gRPC status in `headers` (trailers, or the headers of a trailers-only answer).
fn status(headers: &HeaderMap) -> Option<tonic::Code> {
    let code = headers
        .get("grpc-status")?
        .to_str()
        .ok()?
        .parse::<i32>()
        .ok()?;
    Some(tonic::Code::from_i32(code))
}

/// The gRPC code for an HTTP answer without one (gRPC's HTTP-to-gRPC mapping).
fn http_code(status: http::StatusCode) -> tonic::Code {
    match status.as_u16() {
        400 => tonic::Code::Internal,
        401 => tonic::Code::Unauthenticated,
        403 => tonic::Code::PermissionDenied,
        404 => tonic::Code::Unimplemented,
        429 | 502..=504 => tonic::Code::Unavailable,
        _ => tonic::Code::Unknown,
    }
}

/// One call being measured; records once, when its status is known or it is dropped.
struct Call {
    duration: Histogram<f64>,
    labels: [KeyValue; 3],
    started: Instant,
    done: bool,
}

impl Call {
    fn finish(&mut self, code: tonic::Code) {
        if self.done {
            return;
        }
        self.done = true;
        let mut attributes = self.labels.to_vec();
        attributes.push(KeyValue::new("rpc.grpc.status_code", code as i64));
        let millis = self.started.elapsed().as_secs_f64() * 1000.0;
        self.duration.record(millis, &attributes);
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.finish(tonic::Code::Cancelled);
    }
}

/// A response body that finishes its call at the trailers (or the end without them).
struct Metered<R> {
    body: R,
    call: Call,
}

impl<R: http_body::Body<Data = Bytes> + Unpin> http_body::Body for Metered<R> {
    type Data = Bytes;
    type Error = R::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, R::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(code) = frame.trailers_ref().and_then(status) {
                    self.call.finish(code);
                }
            }
            Poll::Ready(Some(Err(_))) => self.call.finish(tonic::Code::Internal),
            // A gRPC answer that ends without any status is a broken one.
            Poll::Ready(None) => self.call.finish(tonic::Code::Unknown),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests;
