//! tenancy-svc: owns tenants, elite-partner enrolment, tenant managers, invitations, partner-customer relationships with their room scope, primary-admin rules and offboarding.
//!
//! `serve` opens and migrates the store, connects (lazily) to identity-svc, rbac-svc and
//! rooms-svc, and runs the service on a bound listener until the shutdown token is cancelled;
//! `main` only parses the configuration and calls it.

pub mod convert;
pub mod error;
pub mod names;
pub mod rules;
pub mod service;
pub mod state;
pub mod store;
pub mod sync;

use std::time::Duration;

use mtm_plumbing::CancellationToken;
use mtm_plumbing::audit::service::AuditLog;
use mtm_plumbing::client::connect_lazy;
use mtm_plumbing::config::BackendArgs;
use mtm_plumbing::server::Assembly;
use mtm_proto::mtm::audit::v1::audit_internal_service_server::AuditInternalServiceServer;
use mtm_proto::mtm::audit::v1::audit_service_server::AuditServiceServer;
use mtm_proto::mtm::identity::v1::principal_internal_service_client::PrincipalInternalServiceClient;
use mtm_proto::mtm::rbac::v1::rbac_internal_service_client::RbacInternalServiceClient;
use mtm_proto::mtm::rooms::v1::store_internal_service_client::StoreInternalServiceClient;
use mtm_proto::mtm::tenancy::v1::approval_service_server::ApprovalServiceServer;
use mtm_proto::mtm::tenancy::v1::invitation_service_server::InvitationServiceServer;
use mtm_proto::mtm::tenancy::v1::relationship_service_server::RelationshipServiceServer;
use mtm_proto::mtm::tenancy::v1::tenancy_internal_service_server::TenancyInternalServiceServer;
use mtm_proto::mtm::tenancy::v1::tenant_manager_service_server::TenantManagerServiceServer;
use mtm_proto::mtm::tenancy::v1::tenant_service_server::TenantServiceServer;
use tokio::net::TcpListener;

pub use error::Error;

/// The service's name in logs, traces, certificates and audit records.
pub const SERVICE_NAME: &str = "tenancy-svc";

/// The port the service listens on when no address is configured.
pub const DEFAULT_PORT: u16 = 50052;

/// The services that call this one in the call graph (mtm-callgraph), allowed unless
/// `--allowed-peers` says otherwise; the call graph decides which methods each may call.
pub const DEFAULT_CALLERS: &[&str] = &["gateway"];

/// Configuration, from flags with `MTM_*` environment fallbacks.
#[derive(Clone, Debug, clap::Parser)]
#[command(
    name = "tenancy-svc",
    version,
    about = "MTM tenancy service: tenants, elite-partner enrolment, tenant managers, invitations, partner-customer relationships, primary admins and offboarding."
)]
pub struct Config {
    /// Listener, TLS and caller settings.
    #[command(flatten)]
    pub backend: BackendArgs,

    /// The store: `sqlite://PATH` or `postgres://HOST/DATABASE` (created on first use).
    #[arg(
        long,
        env = "MTM_DATABASE_URL",
        default_value = "sqlite://.mtm-data/tenancy-svc.db"
    )]
    pub database_url: String,

    /// identity-svc, for directories, domains and user lookups.
    #[arg(
        long,
        env = "MTM_IDENTITY_URL",
        default_value = "https://127.0.0.1:50051"
    )]
    pub identity_url: String,

    /// rbac-svc, kept in step with relationships and primary admins.
    #[arg(long, env = "MTM_RBAC_URL", default_value = "https://127.0.0.1:50053")]
    pub rbac_url: String,

    /// rooms-svc, which provisions each customer's store.
    #[arg(long, env = "MTM_ROOMS_URL", default_value = "https://127.0.0.1:50054")]
    pub rooms_url: String,

    /// Seconds between reconciliation and expiry sweeps (they also run at start-up).
    #[arg(long, env = "MTM_RECONCILE_INTERVAL_SECS", default_value_t = 60)]
    pub reconcile_interval_secs: u64,
}

impl Config {
    /// A configuration for tests: the given TLS settings, store and peer services.
    pub fn for_test(
        server: mtm_plumbing::config::ServerArgs,
        database_url: String,
        identity_url: String,
        rbac_url: String,
        rooms_url: String,
    ) -> Self {
        Self {
            backend: BackendArgs {
                server,
                allowed_peers: Vec::new(),
            },
            database_url,
            identity_url,
            rbac_url,
            rooms_url,
            reconcile_interval_secs: 3600,
        }
    }
}

/// Opens and migrates the store and sets up the (lazy) clients of the other services.
pub async fn prepare(config: &Config) -> Result<state::State, Error> {
    let db = store::open(&config.database_url).await?;
    let tls = config
        .backend
        .server
        .tls()
        .map_err(|e| Error::Config(e.to_string()))?;
    let timeout = config.backend.server.request_timeout();
    let channel =
        |url: &str| connect_lazy(url, &tls, timeout).map_err(|e| Error::Config(e.to_string()));
    Ok(state::State {
        db,
        identity: PrincipalInternalServiceClient::new(channel(&config.identity_url)?),
        rbac: RbacInternalServiceClient::new(channel(&config.rbac_url)?),
        rooms: StoreInternalServiceClient::new(channel(&config.rooms_url)?),
    })
}

/// Serves the service over mutual TLS on `listener` until `shutdown` is cancelled. The store
/// is migrated before anything reports SERVING.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    health_listener: Option<TcpListener>,
    shutdown: CancellationToken,
) -> Result<(), Error> {
    let state = prepare(&config).await?;
    let interval = Duration::from_secs(config.reconcile_interval_secs.max(1));
    tokio::spawn(sync::run_periodically(
        state.clone(),
        interval,
        shutdown.clone(),
    ));
    let audit = || AuditLog::new(state.audit_stores(), SERVICE_NAME);
    Assembly::new()
        .add_service(TenantServiceServer::new(service::tenants::Tenants::new(
            state.clone(),
        )))
        .add_service(InvitationServiceServer::new(
            service::invitations::Invitations::new(state.clone()),
        ))
        .add_service(RelationshipServiceServer::new(
            service::relationships::Relationships::new(state.clone()),
        ))
        .add_service(TenantManagerServiceServer::new(
            service::managers::Managers::new(state.clone()),
        ))
        .add_service(ApprovalServiceServer::new(
            service::approvals::Approvals::new(state.clone()),
        ))
        .add_service(TenancyInternalServiceServer::new(
            service::internal::Internal::new(state.clone()),
        ))
        .add_service(AuditServiceServer::new(audit()))
        .add_service(AuditInternalServiceServer::new(audit()))
        .serve_backend(
            &config.backend,
            mtm_plumbing::callgraph::Service::Tenancy,
            listener,
            health_listener,
            shutdown,
        )
        .await?;
    Ok(())
}
