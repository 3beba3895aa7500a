//! Process-wide metrics through OpenTelemetry's metrics API: every instrument is read by a
//! Prometheus exporter (rendered as text at `/metrics` on the plaintext health/admin listener)
//! and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, also pushed over OTLP/gRPC. Services get
//! their meter from [`meter`]; the per-method RPC instruments are in [`rpc`], the scrape
//! endpoint in [`endpoint`].

pub mod endpoint;
pub mod rpc;

use std::sync::OnceLock;
use std::time::Duration;

pub use opentelemetry::KeyValue;
pub use opentelemetry::metrics::{Counter, Gauge, Histogram, Meter};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::SdkMeterProvider;

/// The registry the Prometheus exporter fills; set once by [`init`].
static REGISTRY: OnceLock<prometheus::Registry> = OnceLock::new();

/// How long shutdown waits for the last OTLP push.
const FLUSH_DEADLINE: Duration = Duration::from_secs(10);

/// Why metrics could not start.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The Prometheus exporter could not be built.
    #[error("cannot build the Prometheus exporter: {0}")]
    Prometheus(#[from] opentelemetry_sdk::error::OTelSdkError),
    /// The OTLP exporter could not be built.
    #[error("cannot build the OTLP metric exporter: {0}")]
    Otlp(#[from] opentelemetry_otlp::ExporterBuildError),
    /// Metrics were already started in this process.
    #[error("metrics are already initialised")]
    AlreadyInitialised,
}

/// Keeps the meter provider alive; [`MetricsGuard::shutdown`] pushes what OTLP has not yet.
#[must_use = "dropping the guard without shutdown loses the last OTLP push"]
pub struct MetricsGuard {
    provider: SdkMeterProvider,
}

impl MetricsGuard {
    /// Stops the exporters, pushing the last values over OTLP when configured.
    pub async fn shutdown(self) {
        let provider = self.provider;
        let stopped =
            tokio::task::spawn_blocking(move || provider.shutdown_with_timeout(FLUSH_DEADLINE))
                .await;
        if let Ok(Err(error)) = stopped {
            eprintln!("metrics: shutdown failed: {error}");
        }
    }
}

/// Installs the global meter provider for `service_name`: a Prometheus reader always, an OTLP
/// push every 60 s (`OTEL_METRIC_EXPORT_INTERVAL`) when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
/// Call once, inside the tokio runtime, before any instrument is made.
pub fn init(service_name: &'static str) -> Result<MetricsGuard, MetricsError> {
    let (provider, registry) = provider(service_name, otlp_wanted())?;
    REGISTRY
        .set(registry)
        .map_err(|_| MetricsError::AlreadyInitialised)?;
    opentelemetry::global::set_meter_provider(provider.clone());
    Ok(MetricsGuard { provider })
}

/// A meter provider for `service_name` read by a new Prometheus registry, and pushing over
/// OTLP when `otlp` is true.
pub fn provider(
    service_name: &'static str,
    otlp: bool,
) -> Result<(SdkMeterProvider, prometheus::Registry), MetricsError> {
    let registry = prometheus::Registry::new();
    let reader = opentelemetry_prometheus::exporter()
        .with_registry(registry.clone())
        .build()?;
    let mut builder = SdkMeterProvider::builder()
        .with_reader(reader)
        .with_resource(Resource::builder().with_service_name(service_name).build());
    if otlp {
        let exporter = opentelemetry_otlp::MetricExporter::builder()
            .with_tonic()
            .build()?;
        builder = builder.with_periodic_exporter(exporter);
    }
    Ok((builder.build(), registry))
}

fn otlp_wanted() -> bool {
    std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some_and(|v| !v.is_empty())
}

/// The meter a component records with (`scope` names it, e.g. `"rbac-svc"`); instruments made
/// before [`init`] record nothing.
pub fn meter(scope: &'static str) -> Meter {
    opentelemetry::global::meter(scope)
}

/// Every series of the process in Prometheus' text format (empty before [`init`]).
pub fn render() -> String {
    REGISTRY.get().map(render_registry).unwrap_or_default()
}

/// The series of `registry` in Prometheus' text format.
pub fn render_registry(registry: &prometheus::Registry) -> String {
    prometheus::TextEncoder::new()
        .encode_to_string(&registry.gather())
        .unwrap_or_else(|error| format!("# metrics could not be encoded: {error}\n"))
}
