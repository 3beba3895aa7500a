//! Channels from one service to another: mTLS with our certificate, lazy connection, a default
//! deadline, per-method client metrics, and on every call the trace context and at most the time
//! left of the deadline of the request being handled.

use std::time::Duration;

use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tower::Layer as _;

use crate::metrics::rpc::{RpcMetrics, RpcMetricsLayer, Side};
use crate::tls::TlsMaterial;
use crate::trace::InjectTraceContext;

/// A channel to another MTM service; generated clients take it with `FooClient::new`. Every
/// call through it is measured (`rpc.client.duration`, [`crate::metrics::rpc`]).
pub type ServiceChannel = InterceptedService<RpcMetrics<Channel>, OutgoingCall>;

/// What every call to another service carries: the current trace context, and at most the
/// time that remains of the deadline of the request being handled ([`crate::deadline`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct OutgoingCall;

impl Interceptor for OutgoingCall {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let mut request = InjectTraceContext.call(request)?;
        crate::deadline::limit(&mut request)?;
        Ok(request)
    }
}

/// Why a channel could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// The URL is not a valid `https://host:port` endpoint.
    #[error("invalid service url {url}: {source}")]
    Url {
        /// The URL given.
        url: String,
        /// Why tonic refused it.
        source: tonic::transport::Error,
    },
}

/// A lazily connected mTLS channel to `url` (`https://host:port`). The server certificate must
/// chain to our CA and name the URL's host. Every call gets `timeout` unless it sets its own.
pub fn connect_lazy(
    url: &str,
    tls: &TlsMaterial,
    timeout: Duration,
) -> Result<ServiceChannel, ChannelError> {
    let wrap = |source| ChannelError::Url {
        url: url.to_owned(),
        source,
    };
    let channel = Endpoint::from_shared(url.to_owned())
        .map_err(wrap)?
        .tls_config(tls.mutual_client())
        .map_err(wrap)?
        .connect_timeout(Duration::from_secs(5))
        .timeout(timeout)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .connect_lazy();
    let metered = RpcMetricsLayer::global(Side::Client).layer(channel);
    Ok(InterceptedService::new(metered, OutgoingCall))
}
