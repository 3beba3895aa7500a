//! gateway: the only public entry point of MTM. It terminates client TLS, and reaches the
//! backends over mutual TLS with its own certificate, propagating the trace context.
//!
//! `serve` runs the gateway on a bound listener until the shutdown token is cancelled; `main`
//! only parses the configuration and calls it.

mod admission;
mod audit;
mod auth;
mod backends;
mod change_control;
mod decisions;
mod denials;
mod error;
mod forward;
mod limits;
mod metrics;
mod request_id;
mod status;
mod tickets;
mod workspace;

use std::path::PathBuf;
use std::sync::Arc;

use mtm_plumbing::CancellationToken;
use mtm_plumbing::client::ChannelError;
use mtm_plumbing::config::ServerArgs;
use mtm_plumbing::server::{Access, Assembly, ServeError};
use mtm_plumbing::tls::{TlsError, TlsMaterial};
use mtm_proto::mtm::audit::v1::audit_service_server::AuditServiceServer;
use mtm_proto::mtm::gateway::v1::status_service_server::StatusServiceServer;
use mtm_proto::mtm::gateway::v1::workspace_service_server::WorkspaceServiceServer;
use mtm_proto::mtm::rbac::v1::decision_service_server::DecisionServiceServer;
use tokio::net::TcpListener;

pub use admission::surface::{Touches, touches};
pub use auth::keys::KeyArgs;
pub use backends::Backends;
pub use forward::service::FORWARDED_SERVICES;
use forward::service::{Forwarded, Forwarder};
pub use limits::LimitArgs;

/// The service's name in logs, traces and certificates.
pub const SERVICE_NAME: &str = "gateway";

/// The port the gateway listens on when no address is configured.
pub const DEFAULT_PORT: u16 = 8443;

/// Configuration, from flags with `MTM_*` environment fallbacks.
#[derive(Clone, Debug, clap::Parser)]
#[command(
    name = "gateway",
    version,
    about = "MTM gateway: the only public entry point. Terminates client TLS and forwards to the backends over mTLS."
)]
pub struct Config {
    /// Listener and TLS settings. The certificate is the gateway's identity towards the
    /// backends, and also its public certificate unless `--public-tls-cert` is given.
    #[command(flatten)]
    pub server: ServerArgs,

    /// PEM certificate shown to public clients (defaults to `--tls-cert`).
    #[arg(long, env = "MTM_PUBLIC_TLS_CERT", requires = "public_tls_key")]
    pub public_tls_cert: Option<PathBuf>,

    /// PEM private key of the public certificate (defaults to `--tls-key`).
    #[arg(long, env = "MTM_PUBLIC_TLS_KEY", requires = "public_tls_cert")]
    pub public_tls_key: Option<PathBuf>,

    /// identity-svc endpoint.
    #[arg(
        long,
        env = "MTM_IDENTITY_URL",
        default_value = "https://127.0.0.1:50051"
    )]
    pub identity_url: String,

    /// tenancy-svc endpoint.
    #[arg(
        long,
        env = "MTM_TENANCY_URL",
        default_value = "https://127.0.0.1:50052"
    )]
    pub tenancy_url: String,

    /// rbac-svc endpoint.
    #[arg(long, env = "MTM_RBAC_URL", default_value = "https://127.0.0.1:50053")]
    pub rbac_url: String,

    /// rooms-svc endpoint.
    #[arg(long, env = "MTM_ROOMS_URL", default_value = "https://127.0.0.1:50054")]
    pub rooms_url: String,

    /// Rate limits on every public call: per principal, under a per-tenant ceiling.
    #[command(flatten)]
    pub limits: LimitArgs,

    /// How fresh the token keys are kept.
    #[command(flatten)]
    pub keys: KeyArgs,
}

/// Why the gateway stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The TLS files are unusable.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A backend endpoint is malformed.
    #[error(transparent)]
    Channel(#[from] ChannelError),
    /// The server failed.
    #[error(transparent)]
    Serve(#[from] ServeError),
}

/// Serves the public API over TLS on `listener` until `shutdown` is cancelled.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    health_listener: Option<TcpListener>,
    shutdown: CancellationToken,
) -> Result<(), Error> {
    let settings = &config.server;
    let mtls = settings.tls()?;
    let public = match (&config.public_tls_cert, &config.public_tls_key) {
        (Some(cert), Some(key)) => TlsMaterial::load(cert, key, &settings.tls_ca)?,
        _ => mtls.clone(),
    };
    let backends = Backends::connect(&config, &mtls)?;
    let auth = Arc::new(auth::TokenAuth::new(
        backends.identity.clone(),
        config.keys.clone(),
    ));
    let admission = admission::Admission::new(backends.rooms.clone());
    let workspace = WorkspaceServiceServer::new(workspace::Workspace::new(&backends))
        .max_decoding_message_size(settings.max_message_bytes)
        .max_encoding_message_size(settings.max_message_bytes);
    let decisions = DecisionServiceServer::new(decisions::PublicDecisions::new(
        admission.clone(),
        &backends,
    ))
    .max_decoding_message_size(settings.max_message_bytes)
    .max_encoding_message_size(settings.max_message_bytes);
    let audit =
        AuditServiceServer::new(audit::MergedAudit::new(admission.clone(), backends.clone()))
            .max_decoding_message_size(settings.max_message_bytes)
            .max_encoding_message_size(settings.max_message_bytes);
    let all_tickets = tickets::server(
        admission.clone(),
        backends.clone(),
        settings.max_message_bytes,
    );
    let public_layers = tower::ServiceBuilder::new()
        .layer(request_id::RequestIdLayer)
        .layer(admission::AuthenticateLayer::new(auth))
        .layer(limits::RateLimitLayer::new(&config.limits));
    let forwarder = Arc::new(Forwarder::new(admission, backends.clone()));
    let status = StatusServiceServer::new(status::Status::new(backends))
        .max_decoding_message_size(settings.max_message_bytes)
        .max_encoding_message_size(settings.max_message_bytes);
    mount_forwarded(Assembly::new().add_service(status), &forwarder)
        .add_service(audit)
        .add_service(workspace)
        .add_service(decisions)
        .add_service(all_tickets)
        .route_layer(public_layers)
        .serve(
            settings,
            &public,
            Access::Public,
            listener,
            health_listener,
            shutdown,
        )
        .await?;
    Ok(())
}

/// Mounts every forwarded public service, one named service each, so health and reflection
/// know them.
fn mount_forwarded(assembly: Assembly, forwarder: &Arc<Forwarder>) -> Assembly {
    let f = || forwarder.clone();
    assembly
        .add_service(Forwarded::<0>(f()))
        .add_service(Forwarded::<1>(f()))
        .add_service(Forwarded::<2>(f()))
        .add_service(Forwarded::<3>(f()))
        .add_service(Forwarded::<4>(f()))
        .add_service(Forwarded::<5>(f()))
        .add_service(Forwarded::<6>(f()))
        .add_service(Forwarded::<7>(f()))
        .add_service(Forwarded::<8>(f()))
        .add_service(Forwarded::<9>(f()))
        .add_service(Forwarded::<10>(f()))
        .add_service(Forwarded::<11>(f()))
        .add_service(Forwarded::<12>(f()))
        .add_service(Forwarded::<13>(f()))
        .add_service(Forwarded::<14>(f()))
        .add_service(Forwarded::<15>(f()))
}
