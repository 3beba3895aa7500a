//! W3C trace context across gRPC hops: a server-side span per request whose parent comes from
//! the incoming `traceparent` metadata, and an interceptor that injects the current span's
//! context into outgoing calls, so one request is one trace across processes.

use opentelemetry::propagation::Injector;
use opentelemetry_http::HeaderExtractor;
use tower_http::classify::{GrpcCode, GrpcErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnFailure, MakeSpan, TraceLayer};
use tracing::Level;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// A tower-http trace layer for gRPC servers: one `grpc.server` span per request, parented to
/// the caller's trace. Client errors (not found, invalid argument, ...) are not logged as
/// failures; server errors are logged at WARN.
pub fn server_layer() -> TraceLayer<SharedClassifier<GrpcErrorsAsFailures>, GrpcServerSpan> {
    let classifier = GrpcErrorsAsFailures::new()
        .with_success(GrpcCode::InvalidArgument)
        .with_success(GrpcCode::NotFound)
        .with_success(GrpcCode::AlreadyExists)
        .with_success(GrpcCode::PermissionDenied)
        .with_success(GrpcCode::FailedPrecondition)
        .with_success(GrpcCode::Aborted)
        .with_success(GrpcCode::OutOfRange)
        .with_success(GrpcCode::Unauthenticated)
        .with_success(GrpcCode::Cancelled);
    TraceLayer::new(SharedClassifier::new(classifier))
        .make_span_with(GrpcServerSpan)
        .on_failure(DefaultOnFailure::new().level(Level::WARN))
}

/// Makes the `grpc.server` span of a request, named after the gRPC method.
#[derive(Clone, Copy, Debug)]
pub struct GrpcServerSpan;

impl<B> MakeSpan<B> for GrpcServerSpan {
    fn make_span(&mut self, request: &http::Request<B>) -> tracing::Span {
        let path = request.uri().path();
        let method = path.trim_start_matches('/');
        let request_id = request
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let span = tracing::info_span!(
            "grpc.server",
            otel.name = %method,
            otel.kind = "server",
            rpc.system = "grpc",
            rpc.method = %method,
            request_id = %request_id,
        );
        let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.extract(&HeaderExtractor(request.headers()))
        });
        // Without an OpenTelemetry layer there is nothing to parent: the span stays local.
        let _ = span.set_parent(parent);
        span
    }
}

/// Injects the current span's trace context into every outgoing request.
#[derive(Clone, Copy, Debug, Default)]
pub struct InjectTraceContext;

impl tonic::service::Interceptor for InjectTraceContext {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        let context = tracing::Span::current().context();
        opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.inject_context(&context, &mut MetadataInjector(request.metadata_mut()));
        });
        Ok(request)
    }
}

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        let key = tonic::metadata::MetadataKey::from_bytes(key.as_bytes());
        if let (Ok(key), Ok(value)) = (key, value.parse()) {
            self.0.insert(key, value);
        }
    }
}
