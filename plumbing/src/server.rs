//! Server assembly shared by every MTM service: health (`grpc.health.v1`) and reflection (v1
//! and v1alpha, health descriptor included) next to the service's own APIs, TLS (mutual for
//! backends, server-only for the public gateway), the peer allow-list, a span per request, a
//! default deadline, and graceful shutdown (health NOT_SERVING, stop accepting, drain).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use tonic::server::NamedService;
use tonic::service::RoutesBuilder;
use tonic::transport::Server;
use tonic_health::ServingStatus;
use tonic_health::server::{HealthReporter, HealthService};

use crate::config::{BackendArgs, ServerArgs};
use crate::peer::AllowedPeersLayer;
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
}

/// Who may connect to a server.
#[derive(Clone, Debug)]
pub enum Access {
    /// Mutual TLS; only clients whose certificate names one of these identities get through.
    Mutual(Vec<String>),
    /// TLS without client certificates (the public gateway; callers authenticate per request).
    Public,
}

/// The services of one server, collected before it starts.
pub struct Assembly {
    routes: RoutesBuilder,
    names: Vec<&'static str>,
    health: HealthReporter,
}

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
        }
    }

    /// The health reporter, for services that change their status while running.
    pub fn health(&self) -> HealthReporter {
        self.health.clone()
    }

    /// Mounts one gRPC service; it is advertised through reflection and reported SERVING.
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

    /// Serves a backend: mutual TLS with the configured (or default) caller allow-list.
    pub async fn serve_backend(
        self,
        settings: &BackendArgs,
        default_callers: &[&str],
        listener: TcpListener,
        health_listener: Option<TcpListener>,
        shutdown: CancellationToken,
    ) -> Result<(), ServeError> {
        let tls = settings.server.tls()?;
        let access = Access::Mutual(settings.allowed_peers_or(default_callers));
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
    /// With `health_listener`, also serves `grpc.health.v1` alone, in plaintext, there.
    pub async fn serve(
        mut self,
        settings: &ServerArgs,
        tls: &TlsMaterial,
        access: Access,
        listener: TcpListener,
        health_listener: Option<TcpListener>,
        shutdown: CancellationToken,
    ) -> Result<(), ServeError> {
        for name in &self.names {
            self.health
                .set_service_status(*name, ServingStatus::Serving)
                .await;
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
        let routes = self.routes.routes();

        let draining = shutdown.clone();
        let health = self.health.clone();
        let names = self.names.clone();
        tokio::spawn(async move {
            draining.cancelled().await;
            mark_not_serving(&health, &names).await;
        });

        let health_only = health_listener.map(|listener| {
            let token = shutdown.clone();
            tokio::spawn(async move {
                let served = Server::builder()
                    .add_service(health_service)
                    .serve_with_incoming_shutdown(
                        TcpListenerStream::new(listener),
                        token.cancelled_owned(),
                    )
                    .await;
                if let Err(error) = served {
                    tracing::error!(%error, "health listener failed");
                }
            })
        });

        let (tls_config, allowed) = match access {
            Access::Mutual(allowed) => (tls.mutual_server(), Some(AllowedPeersLayer::new(allowed))),
            Access::Public => (tls.public_server(), None),
        };
        let server = Server::builder()
            .tls_config(tls_config)?
            .timeout(settings.request_timeout())
            .http2_keepalive_interval(Some(Duration::from_secs(30)))
            .layer(crate::trace::server_layer())
            .layer(tower::util::option_layer(allowed));
        let serving = server.serve_with_incoming_shutdown(
            routes,
            TcpListenerStream::new(listener),
            shutdown.clone().cancelled_owned(),
        );
        let result = drain(serving, &shutdown, settings.shutdown_grace()).await;
        if let Some(task) = health_only {
            task.abort();
        }
        result
    }
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

async fn mark_not_serving(health: &HealthReporter, names: &[&'static str]) {
    health
        .set_service_status("", ServingStatus::NotServing)
        .await;
    for name in names {
        health
            .set_service_status(*name, ServingStatus::NotServing)
            .await;
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

/// The body of every service's `main`: starts telemetry, checks the TLS files (exit code 2
/// when they are unusable, before anything listens), binds the listeners, cancels on SIGTERM
/// or Ctrl-C, runs `serve`, flushes spans, and turns any error into a clear message and a
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
    if let Err(error) = settings.tls() {
        eprintln!("{service_name}: {error}");
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
                TcpListener::bind(addr)
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
