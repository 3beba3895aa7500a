//! rbac-svc: owns the permission catalogue, customer and partner roles, role assignments with scopes, and the decisions made from them.
//!
//! `serve` runs the service on a bound listener until the shutdown token is cancelled; `main`
//! only parses the configuration and calls it.

pub mod audit;
pub mod catalogue;
pub mod error;
pub mod fence;
pub mod follow;
pub mod index;
pub mod lease;
pub mod metrics;
pub mod names;
pub mod roles;
pub mod service;
pub mod state;
pub mod store;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mtm_plumbing::CancellationToken;
use mtm_plumbing::audit::service::AuditLog;
use mtm_plumbing::config::BackendArgs;
use mtm_plumbing::server::{Assembly, ServeError};
use mtm_proto::mtm::audit::v1::audit_internal_service_server::AuditInternalServiceServer;
use mtm_proto::mtm::audit::v1::audit_service_server::AuditServiceServer;
use mtm_proto::mtm::rbac::v1::decision_service_server::DecisionServiceServer;
use mtm_proto::mtm::rbac::v1::permission_service_server::PermissionServiceServer;
use mtm_proto::mtm::rbac::v1::rbac_internal_service_server::RbacInternalServiceServer;
use mtm_proto::mtm::rbac::v1::role_service_server::RoleServiceServer;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic_health::server::HealthReporter;

/// The service's name in logs, traces and certificates.
pub const SERVICE_NAME: &str = "rbac-svc";

/// The port the service listens on when no address is configured.
pub const DEFAULT_PORT: u16 = 50053;

/// The services that call this one in the call graph (mtm-callgraph), allowed unless
/// `--allowed-peers` says otherwise; the call graph decides which methods each may call.
pub const DEFAULT_CALLERS: &[&str] = &["gateway", "tenancy-svc"];

/// The store used when none is configured.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://.mtm-data/rbac-svc.db";

/// Configuration, from flags with `MTM_*` environment fallbacks.
#[derive(Clone, Debug, clap::Parser)]
#[command(
    name = "rbac-svc",
    version,
    about = "MTM authorization service: the permission catalogue, customer and partner roles, scoped assignments, and Check / BatchCheck / ResolveScope decisions."
)]
pub struct Config {
    /// Listener, TLS and caller settings.
    #[command(flatten)]
    pub backend: BackendArgs,

    /// The store: `sqlite://PATH` (created on first use) or `postgres://HOST/DATABASE`
    /// (created on first use). Several replicas share one PostgreSQL database; SQLite runs
    /// exactly one replica (its file is not shared, and it has no leases).
    #[arg(long, env = "MTM_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,

    /// The replica lease on PostgreSQL, in milliseconds: a replica renews it every third of
    /// this, stops deciding when it could not, and a revoking write waits at most this long
    /// for a replica that went silent.
    #[arg(long, env = "MTM_LEASE_MS", default_value_t = DEFAULT_LEASE_MS,
          value_parser = clap::value_parser!(u64).range(300..=60_000))]
    pub lease_ms: u64,
}

/// The replica lease when none is configured, in milliseconds.
pub const DEFAULT_LEASE_MS: u64 = 2_000;

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store could not be opened, migrated or loaded into the index.
    #[error("opening the store: {0}")]
    Store(#[from] error::Error),
    /// The server failed.
    #[error(transparent)]
    Serve(#[from] ServeError),
}

/// Serves the service over mutual TLS on `listener` until `shutdown` is cancelled. The store
/// is opened and the decision index built in the background: until it is, health reports
/// NOT_SERVING (overall and for every rbac service) and every call answers UNAVAILABLE. If the
/// store cannot be opened, the server stops and returns the error.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    health_listener: Option<TcpListener>,
    shutdown: CancellationToken,
) -> Result<(), StartError> {
    serve_after(
        std::future::ready(()),
        config,
        listener,
        health_listener,
        shutdown,
    )
    .await
}

/// Like [`serve`], but the store is opened only once `go` completes; the listener accepts
/// (and health answers NOT_SERVING) meanwhile. Lets a test hold the service in its loading
/// state.
pub async fn serve_after<F>(
    go: F,
    config: Config,
    listener: TcpListener,
    health_listener: Option<TcpListener>,
    shutdown: CancellationToken,
) -> Result<(), StartError>
where
    F: Future<Output = ()> + Send + 'static,
{
    let ready = state::Ready::default();
    let (built, on_built) = oneshot::channel();
    let audit_stores = audit::Stores::new(ready.clone());
    let audit_log = || AuditLog::new(audit_stores.clone(), audit::SOURCE);
    let assembly = Assembly::new();
    let health = assembly.health();
    let assembly = assembly
        .add_service(PermissionServiceServer::new(
            service::permission::Permissions,
        ))
        .add_service(DecisionServiceServer::new(
            service::decision::Decisions::new(ready.clone()),
        ))
        .add_service(RbacInternalServiceServer::new(
            service::internal::Internal::new(ready.clone()),
        ))
        .add_service(RoleServiceServer::new(service::roles::Roles::new(
            ready.clone(),
        )))
        .add_service(AuditServiceServer::new(audit_log()))
        .add_service(AuditInternalServiceServer::new(audit_log()))
        .ready_when(async move {
            if on_built.await.is_err() {
                // Never built: health stays NOT_SERVING until the server stops.
                std::future::pending::<()>().await;
            }
        });
    let failure = Arc::new(Mutex::new(None));
    let background = tokio::spawn(build_and_follow(
        go,
        Store {
            url: config.database_url.clone(),
            lease: Duration::from_millis(config.lease_ms),
        },
        ready,
        built,
        health,
        failure.clone(),
        shutdown.clone(),
    ));
    let served = assembly
        .serve_backend(
            &config.backend,
            mtm_plumbing::callgraph::Service::Rbac,
            listener,
            health_listener,
            shutdown,
        )
        .await;
    background.abort();
    let failed = failure.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(error) = failed {
        return Err(StartError::Store(error));
    }
    Ok(served?)
}

/// Where the store is and the lease to hold on it.
struct Store {
    url: String,
    lease: Duration,
}

/// After `go`, builds the index, takes the lease, publishes the state and reports it `built`,
/// then follows other replicas' revisions ([`follow::follow`]), renews the lease
/// ([`follow::renew`]) and reports health by it ([`fence::report`]). A store that cannot be
/// opened stops the server.
async fn build_and_follow<F>(
    go: F,
    store: Store,
    ready: state::Ready,
    built: oneshot::Sender<()>,
    health: HealthReporter,
    failure: Arc<Mutex<Option<error::Error>>>,
    shutdown: CancellationToken,
) where
    F: Future<Output = ()>,
{
    go.await;
    let state = match state::State::open(&store.url, store.lease).await {
        Ok(state) => state,
        Err(error) => {
            tracing::error!(%error, "opening the store failed");
            *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(error);
            shutdown.cancel();
            return;
        }
    };
    ready.set(state.clone());
    let _ = built.send(());
    tokio::join!(
        follow::follow(state.clone(), shutdown.clone()),
        follow::renew(state.clone(), shutdown.clone()),
        fence::report(state.clone(), health, shutdown.clone()),
        metrics::observe(state, shutdown),
    );
}
