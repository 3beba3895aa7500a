//! Server assembly shared by every MTM service: health (`grpc.health.v1`) and reflection (v1
//! and v1alpha, health descriptor included) next to the service's own APIs, TLS (mutual for
//! backends, server-only for the public gateway), the peer allow-list and call graph, a span per
//! request, a default deadline, transport limits that fail one request rather than the
//! connection (metadata, message size answered as RESOURCE_EXHAUSTED), and graceful shutdown
//! (health NOT_SERVING, stop accepting, drain).

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::server::NamedService;
use tonic::service::RoutesBuilder;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::server::{HealthReporter, HealthService};

use mtm_callgraph::Service;

use crate::config::{AllowedPeer, BackendArgs, ServerArgs};
use crate::metadata_limit::{MAX_METADATA_BYTES, MetadataLimitLayer};
use crate::metrics::rpc::{RpcMetricsLayer, Side};
use crate::paging::{BindPageTokensLayer, CallerSource};
use crate::peer::AllowedPeersLayer;
use crate::size_status::SizeStatusLayer;
use crate::tls::TlsMaterial;

/// Why a server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The transport failed (bad TLS settings, accept errors).
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The reflection service could not be built from the descriptor sets.
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The TLS files are unusable.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// Binding or writing the bound address failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A backend mounts a method the call graph does not list (it would refuse every call).
    #[error("call graph: {0}")]
    CallGraph(String),
}

/// Who may connect to a server.
#[derive(Clone, Debug)]
pub enum Access {
    /// Mutual TLS for `backend`: only clients whose certificate names one of `peers` get
    /// through, and each only to the methods the call graph lets its service call.
    Mutual {
        /// The backend being served.
        backend: Service,
        /// The identities admitted, with the service each speaks as.
        peers: Vec<AllowedPeer>,
    },
    /// TLS without client certificates (the public gateway; callers authenticate per request).
    Public,
}

/// A future that completes when a server's services are ready to answer.
type Readiness = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The services of one server, collected before it starts.
pub struct Assembly {
    routes: RoutesBuilder,
    names: Vec<&'static str>,
    health: HealthReporter,
    ready: Option<Readiness>,
    wrap_routes: Option<RouteWrapper>,
}

/// Every routed request of a server behind one type-erased service.
pub type RoutedService = tower::util::BoxCloneSyncService<
    http::Request<tonic::body::Body>,
    http::Response<tonic::body::Body>,
    std::convert::Infallible,
>;

/// Puts a binary's own layer in front of its routes.
type RouteWrapper = Box<dyn FnOnce(tonic::service::Routes) -> RoutedService + Send>;

impl Default for Assembly {
    fn default() -> Self {
        Self::new()
    }
}

impl Assembly {
    /// An empty assembly; health and reflection are added when it serves.
    pub fn new() -> Self {
        Self {
            routes: RoutesBuilder::default(),
            names: Vec::new(),
            health: HealthReporter::new(),
            ready: None,
            wrap_routes: None,
        }
    }

    /// The health reporter, for services that change their status while running.
    pub fn health(&self) -> HealthReporter {
        self.health.clone()
    }

    /// Holds health at NOT_SERVING, for the server as a whole (`""`) and every mounted
    /// service, until `ready` completes, then reports them SERVING (unless shutdown began
    /// first). The listener accepts meanwhile, so health checks and watches get answers while
    /// the services load. Without it, the services are SERVING as soon as the server starts.
    pub fn ready_when<F>(mut self, ready: F) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.ready = Some(Box::pin(ready));
        self
    }

    /// Puts `layer` in front of every routed request (inside the per-request span and the
    /// peer allow-list), for what one binary applies to all of its services: the gateway's
    /// request ids and rate limits.
    pub fn route_layer<L>(mut self, layer: L) -> Self
    where
        L: tower::Layer<tonic::service::Routes> + Send + 'static,
        L::Service: tower::Service<
                http::Request<tonic::body::Body>,
                Response = http::Response<tonic::body::Body>,
                Error = std::convert::Infallible,
            > + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as tower::Service<http::Request<tonic::body::Body>>>::Future: Send + 'static,
    {
        self.wrap_routes = Some(Box::new(move |routes| {
            RoutedService::new(layer.layer(routes))
        }));
        self
    }

    /// Mounts one gRPC service; it is advertised through reflection and reported SERVING
    /// (once ready, with [`Assembly::ready_when`]).
    pub fn add_service<S>(mut self, service: S) -> Self
    where
        S: tower::Service<
                http::Request<tonic::body::Body>,
                Response = http::Response<tonic::body::Body>,
                Error = std::convert::Infallible,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.names.push(S::NAME);
        self.routes.add_service(service);
        self
    }

    /// Serves `backend`: mutual TLS with the configured (or the call graph's) allow-list, each
    /// call admitted per method by the call graph.
    pub async fn serve_backend(
        self,
        settings: &BackendArgs,
        backend: Service,
        listener: TcpListener,
        health_listener: Option<TcpListener>,
        shutdown: CancellationToken,
    ) -> Result<(), ServeError> {
        let tls = settings.server.tls()?;
        let access = Access::Mutual {
            backend,
            peers: settings.allowed_peers_for(backend),
        };
        self.serve(
            &settings.server,
            &tls,
            access,
            listener,
            health_listener,
            shutdown,
        )
        .await
    }

    /// Serves on `listener` until `shutdown` is cancelled, then drains for at most `grace`.
    /// With `health_listener`, also serves `grpc.health.v1` alone, in plaintext, there, and
    /// the process's metrics at `GET /metrics` (HTTP/1.1 or HTTP/2).
    pub async fn serve(
        mut self,
        settings: &ServerArgs,
        tls: &TlsMaterial,
        access: Access,
        listener: TcpListener,
        health_listener: Option<TcpListener>,
        shutdown: CancellationToken,
    ) -> Result<(), ServeError> {
        if let Some(path) = &settings.page_token_key_file {
            crate::paging::install_key(&std::fs::read(path)?)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        }
        if let Access::Mutual { backend, peers } = &access {
            check_call_graph(*backend, &self.names, peers)?;
        }
        let ready = self.ready.take();
        if ready.is_some() {
            set_status(&self.health, &self.names, ServingStatus::NotServing).await;
        } else {
            for name in &self.names {
                self.health
                    .set_service_status(*name, ServingStatus::Serving)
                    .await;
            }
        }
        let health_service = tonic_health::pb::health_server::HealthServer::new(
            HealthService::from_health_reporter(self.health.clone()),
        );
        let v1 = reflection(&self.names).build_v1()?;
        let v1alpha = reflection(&self.names).build_v1alpha()?;
        self.routes
            .add_service(health_service.clone())
            .add_service(v1)
            .add_service(v1alpha);
        let routes = match self.wrap_routes.take() {
            Some(wrap) => wrap(self.routes.routes()),
            None => RoutedService::new(self.routes.routes()),
        };

        let draining = shutdown.clone();
        let health = self.health.clone();
        let names = self.names.clone();
        tokio::spawn(async move {
            if let Some(ready) = ready {
                tokio::select! {
                    () = ready => set_status(&health, &names, ServingStatus::Serving).await,
                    () = draining.cancelled() => {}
                }
            }
            draining.cancelled().await;
            set_status(&health, &names, ServingStatus::NotServing).await;
        });

        let health_only = health_listener.map(|listener| {
            let token = shutdown.clone();
            tokio::spawn(async move {
                let served = Server::builder()
                    .accept_http1(true)
                    .layer(crate::metrics::endpoint::MetricsEndpointLayer)
                    .add_service(health_service)
                    .serve_with_incoming_shutdown(incoming(listener), token.cancelled_owned())
                    .await;
                if let Err(error) = served {
                    tracing::error!(%error, "health listener failed");
                }
            })
        });

        let (tls_config, allowed, callers) = match access {
            Access::Mutual { backend, peers } => (
                tls.mutual_server(),
                Some(AllowedPeersLayer::new(backend, peers)),
                CallerSource::CallContext,
            ),
            Access::Public => (tls.public_server(), None, CallerSource::BearerToken),
        };
        let server = Server::builder()
            .tls_config(tls_config)?
            .timeout(settings.request_timeout())
            .http2_keepalive_interval(Some(Duration::from_secs(30)))
            .http2_max_header_list_size(header_list_limit(settings))
            .layer(RpcMetricsLayer::global(Side::Server))
            .layer(MetadataLimitLayer)
            .layer(SizeStatusLayer)
            .layer(crate::trace::server_layer())
            .layer(crate::deadline::PropagateDeadlineLayer)
            .layer(tower::util::option_layer(allowed))
            .layer(BindPageTokensLayer::new(callers));
        let serving = server.serve_with_incoming_shutdown(
            routes,
            incoming(listener),
            shutdown.clone().cancelled_owned(),
        );
        let result = drain(serving, &shutdown, settings.shutdown_grace()).await;
        if let Some(task) = health_only {
            task.abort();
        }
        result
    }
}

/// The header list size the servers advertise to HTTP/2 peers. A larger header list gets its
/// stream reset with a 431 (no gRPC status), and one over four times this size closes the
/// connection (h2's abuse limit), so it is generous: the message size limit, and at least
/// twice [`MAX_METADATA_BYTES`]. Within it, [`MetadataLimitLayer`] answers a request with too
/// much metadata with RESOURCE_EXHAUSTED and the connection goes on.
fn header_list_limit(settings: &ServerArgs) -> u32 {
    let limit = settings.max_message_bytes.max(2 * MAX_METADATA_BYTES);
    u32::try_from(limit).unwrap_or(u32::MAX)
}

/// Fails unless every method of every service in `names` is in the call graph of `backend`
/// (a method missing there would be refused to every caller), and warns about allowed peers
/// whose service the call graph never lets call `backend`.
fn check_call_graph(
    backend: Service,
    names: &[&'static str],
    peers: &[AllowedPeer],
) -> Result<(), ServeError> {
    use prost::Message;
    let set = prost_types::FileDescriptorSet::decode(mtm_proto::FILE_DESCRIPTOR_SET)
        .map_err(|e| ServeError::CallGraph(format!("the descriptor set does not decode: {e}")))?;
    let listed = mtm_callgraph::methods(backend);
    for name in names {
        let service = set.file.iter().find_map(|file| {
            file.service
                .iter()
                .find(|s| format!("{}.{}", file.package(), s.name()) == *name)
        });
        let Some(service) = service else {
            return Err(ServeError::CallGraph(format!(
                "{backend} mounts {name}, which is not in the MTM descriptor set"
            )));
        };
        for method in &service.method {
            let path = format!("/{name}/{}", method.name());
            if !listed.contains(&path) {
                return Err(ServeError::CallGraph(format!(
                    "{backend} serves {path}, which the call graph does not list"
                )));
            }
        }
    }
    let callers = mtm_callgraph::callers(backend);
    for peer in peers.iter().filter(|p| !callers.contains(&p.service)) {
        tracing::warn!(
            peer = %peer.identity,
            service = %peer.service,
            "allowed peer speaks as a service that never calls {backend}; it reaches only health and reflection"
        );
    }
    Ok(())
}

/// The connections accepted on `listener`, with Nagle's algorithm off: a gRPC message is
/// written as several small frames, and waiting to coalesce them meets the peer's delayed
/// acknowledgement (tens of milliseconds per call).
fn incoming(listener: TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
}

/// A reflection builder that knows every MTM descriptor and the health descriptor, and
/// advertises exactly the services this server mounts.
fn reflection<'b>(names: &[&'static str]) -> tonic_reflection::server::Builder<'b> {
    let mut builder = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(mtm_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .with_service_name(HEALTH_SERVICE)
        .with_service_name("grpc.reflection.v1.ServerReflection")
        .with_service_name("grpc.reflection.v1alpha.ServerReflection");
    for name in names {
        builder = builder.with_service_name(*name);
    }
    builder
}

/// The name of the standard health service.
pub const HEALTH_SERVICE: &str = "grpc.health.v1.Health";

/// Reports `status` for the server as a whole (`""`) and for every service in `names`.
async fn set_status(health: &HealthReporter, names: &[&'static str], status: ServingStatus) {
    health.set_service_status("", status).await;
    for name in names {
        health.set_service_status(*name, status).await;
    }
}

/// Runs `serving` until it ends, or until `grace` has passed after `shutdown` was cancelled.
async fn drain<F>(
    serving: F,
    shutdown: &CancellationToken,
    grace: Duration,
) -> Result<(), ServeError>
where
    F: std::future::Future<Output = Result<(), tonic::transport::Error>>,
{
    tokio::pin!(serving);
    tokio::select! {
        result = &mut serving => return Ok(result?),
        () = shutdown.cancelled() => {}
    }
    tracing::info!(grace_secs = grace.as_secs(), "draining in-flight requests");
    match tokio::time::timeout(grace, serving).await {
        Ok(result) => Ok(result?),
        Err(_) => {
            tracing::warn!("drain period over; closing remaining connections");
            Ok(())
        }
    }
}

/// Binds `addr` and, when asked, writes the bound address (useful with port 0) to a file,
/// atomically, so a supervisor never reads half an address.
pub async fn bind(
    addr: SocketAddr,
    bound_addr_file: Option<&Path>,
) -> Result<TcpListener, ServeError> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    if let Some(path) = bound_addr_file {
        let partial = path.with_extension("partial");
        tokio::fs::write(&partial, bound.to_string()).await?;
        tokio::fs::rename(&partial, path).await?;
    }
    tracing::info!(addr = %bound, "listening");
    Ok(listener)
}

/// The body of every service's `main`: starts telemetry and metrics, checks the TLS files (exit code 2
/// when they are unusable, before anything listens), binds the listeners, cancels on SIGTERM
/// or Ctrl-C, runs `serve`, flushes spans and metrics, and turns any error into a clear message and a
/// non-zero exit code.
pub async fn run_main<F, Fut, E>(
    service_name: &'static str,
    settings: &ServerArgs,
    default_port: u16,
    serve: F,
) -> std::process::ExitCode
where
    F: FnOnce(TcpListener, Option<TcpListener>, CancellationToken) -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let telemetry = match crate::telemetry::init(service_name, settings.log_format) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("{service_name}: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let metrics = match crate::metrics::init(service_name) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("{service_name}: {error}");
            telemetry.shutdown().await;
            return std::process::ExitCode::FAILURE;
        }
    };
    if let Err(error) = settings.tls() {
        eprintln!("{service_name}: {error}");
        metrics.shutdown().await;
        telemetry.shutdown().await;
        return std::process::ExitCode::from(2);
    }
    let outcome = async {
        let listener = bind(
            settings.listen_or(default_port),
            settings.bound_addr_file.as_deref(),
        )
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.listen_or(default_port)))?;
        let health_listener = match settings.health_listen {
            Some(addr) => Some(
                bind(addr, settings.health_bound_addr_file.as_deref())
                    .await
                    .map_err(|e| format!("cannot listen for health on {addr}: {e}"))?,
            ),
            None => None,
        };
        serve(listener, health_listener, shutdown_on_signals())
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    metrics.shutdown().await;
    telemetry.shutdown().await;
    match outcome {
        Ok(()) => {
            tracing::info!("stopped");
            std::process::ExitCode::SUCCESS
        }
        Err(message) => {
            tracing::error!(error = %message, "exiting");
            eprintln!("{service_name}: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// A token cancelled on SIGTERM or Ctrl-C, for `main` to pass to `serve`.
pub fn shutdown_on_signals() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot watch SIGTERM; only Ctrl-C stops the server");
                let _ = ctrl_c.await;
            }
        }
        tracing::info!("shutdown signal received");
        cancel.cancel();
    });
    token
}

#[cfg(test)]
mod transport_tests;

#[cfg(test)]
mod tests {
    use mtm_proto::mtm::gateway::v1::status_service_server::{StatusService, StatusServiceServer};
    use mtm_proto::mtm::gateway::v1::{GetStatusRequest, GetStatusResponse};
    use tonic::transport::Channel;
    use tonic_health::pb::health_check_response::ServingStatus as Wire;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

    use super::*;
    use crate::devcerts::DevCa;

    #[tokio::test]
    async fn accepted_connections_have_nagle_off() {
        use tokio_stream::StreamExt;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut accepted = incoming(listener);
        let _client = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let stream = accepted
            .next()
            .await
            .expect("a connection")
            .expect("accepted");
        assert!(stream.nodelay().expect("nodelay"));
    }

    /// A service to mount; its answers do not matter here.
    struct Idle;

    #[tonic::async_trait]
    impl StatusService for Idle {
        async fn get_status(
            &self,
            _request: tonic::Request<GetStatusRequest>,
        ) -> Result<tonic::Response<GetStatusResponse>, tonic::Status> {
            Ok(tonic::Response::new(GetStatusResponse::default()))
        }
    }

    const IDLE: &str = "mtm.gateway.v1.StatusService";

    async fn status(health: &mut HealthClient<Channel>, service: &str) -> i32 {
        health
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .expect("health check")
            .into_inner()
            .status
    }

    async fn next(updates: &mut tonic::Streaming<HealthCheckResponse>) -> i32 {
        updates
            .message()
            .await
            .expect("health update")
            .expect("the watch stream goes on")
            .status
    }

    /// Serves an assembly with `Idle` mounted (ready when `ready` completes, if given) and a
    /// plaintext health listener; returns a health client and the shutdown token.
    async fn serve_idle(
        ready: Option<tokio::sync::oneshot::Receiver<()>>,
    ) -> (
        HealthClient<Channel>,
        CancellationToken,
        tokio::task::JoinHandle<Result<(), ServeError>>,
    ) {
        let (health, shutdown, task, _) = serve_idle_at(ready).await;
        (health, shutdown, task)
    }

    /// [`serve_idle`], also returning the health listener's address.
    async fn serve_idle_at(
        ready: Option<tokio::sync::oneshot::Receiver<()>>,
    ) -> (
        HealthClient<Channel>,
        CancellationToken,
        tokio::task::JoinHandle<Result<(), ServeError>>,
        SocketAddr,
    ) {
        let ca = DevCa::generate("test CA").expect("CA");
        let issued = ca.issue("gateway").expect("certificate");
        let tls = TlsMaterial::from_pem(&issued.cert_pem, &issued.key_pem, &ca.ca_pem());
        let settings = ServerArgs::for_test("cert".into(), "key".into(), "ca".into());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let health_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let health_addr = health_listener.local_addr().expect("address");
        let mut assembly = Assembly::new().add_service(StatusServiceServer::new(Idle));
        if let Some(ready) = ready {
            assembly = assembly.ready_when(async move {
                let _ = ready.await;
            });
        }
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let task = tokio::spawn(async move {
            assembly
                .serve(
                    &settings,
                    &tls,
                    Access::Public,
                    listener,
                    Some(health_listener),
                    token,
                )
                .await
        });
        let channel = Channel::from_shared(format!("http://{health_addr}"))
            .expect("url")
            .connect()
            .await
            .expect("connect to the health listener");
        (HealthClient::new(channel), shutdown, task, health_addr)
    }

    #[tokio::test]
    async fn services_held_until_ready_report_not_serving_then_serving() {
        let (go, ready) = tokio::sync::oneshot::channel();
        let (mut health, shutdown, task) = serve_idle(Some(ready)).await;
        let mut overall = health
            .watch(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .expect("health watch")
            .into_inner();
        assert_eq!(next(&mut overall).await, Wire::NotServing as i32);
        assert_eq!(status(&mut health, IDLE).await, Wire::NotServing as i32);

        go.send(()).expect("the server waits for readiness");
        assert_eq!(next(&mut overall).await, Wire::Serving as i32);
        assert_eq!(status(&mut health, IDLE).await, Wire::Serving as i32);

        shutdown.cancel();
        assert_eq!(next(&mut overall).await, Wire::NotServing as i32);
        task.await.expect("server task").expect("clean stop");
    }

    #[tokio::test]
    async fn services_never_ready_stay_not_serving_until_shutdown() {
        let (_go, ready) = tokio::sync::oneshot::channel::<()>();
        let (mut health, shutdown, task) = serve_idle(Some(ready)).await;
        assert_eq!(status(&mut health, "").await, Wire::NotServing as i32);
        assert_eq!(status(&mut health, IDLE).await, Wire::NotServing as i32);
        shutdown.cancel();
        task.await.expect("server task").expect("clean stop");
    }

    #[tokio::test]
    async fn the_health_listener_serves_metrics_over_http1_and_health_over_http2() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        match crate::metrics::init("server-test") {
            Ok(guard) => std::mem::forget(guard),
            Err(crate::metrics::MetricsError::AlreadyInitialised) => {}
            Err(error) => panic!("metrics: {error}"),
        }
        crate::metrics::meter("server-test")
            .u64_counter("mtm.test.served")
            .build()
            .add(1, &[]);
        let (mut health, shutdown, task, addr) = serve_idle_at(None).await;
        assert_eq!(status(&mut health, "").await, Wire::Serving as i32);
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .expect("request");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.expect("answer");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("text/plain; version=0.0.4"), "{answer}");
        assert!(answer.contains("mtm_test_served_total"), "{answer}");
        shutdown.cancel();
        task.await.expect("server task").expect("clean stop");
    }

    #[tokio::test]
    async fn services_without_a_readiness_future_are_serving_at_once() {
        let (mut health, shutdown, task) = serve_idle(None).await;
        assert_eq!(status(&mut health, "").await, Wire::Serving as i32);
        assert_eq!(status(&mut health, IDLE).await, Wire::Serving as i32);
        shutdown.cancel();
        task.await.expect("server task").expect("clean stop");
    }
}
