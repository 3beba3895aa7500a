//! rooms-svc: owns per-customer data (rooms, enrolment key, room groups, update rings, tickets, reports, settings, audit log), one store per customer.
//!
//! `serve` runs the service on a bound listener until the shutdown token is cancelled, and
//! `migrate::main` brings every provisioned store to this binary's schema version; `main` only
//! parses the configuration and calls one of them.

pub mod activity;
pub mod audit;
pub mod context;
pub mod cursor;
pub mod demo;
pub mod error;
pub mod locator;
pub mod metrics;
pub mod migrate;
pub mod names;
pub mod retention;
pub mod sealing;
pub mod service;
mod store;
pub mod time;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mtm_plumbing::CancellationToken;
use mtm_plumbing::config::BackendArgs;
use mtm_plumbing::server::{Assembly, ServeError};
use tokio::net::TcpListener;

use crate::activity::TicketActivity;
use crate::locator::{Locator, LocatorSettings, Templates};
use crate::sealing::Sealer;

/// The service's name in logs, traces and certificates.
pub const SERVICE_NAME: &str = "rooms-svc";

/// The port the service listens on when no address is configured.
pub const DEFAULT_PORT: u16 = 50054;

/// The services that call this one in the call graph (mtm-callgraph), allowed unless
/// `--allowed-peers` says otherwise; the call graph decides which methods each may call.
pub const DEFAULT_CALLERS: &[&str] = &["gateway", "tenancy-svc"];

/// Where the customer stores live, shared by the service and `rooms-svc migrate`.
#[derive(Clone, Debug, clap::Args)]
pub struct StoreArgs {
    /// Where each customer's store lives: a `sqlite://` file or a `postgres://` database URL
    /// containing `{customer}`, which is replaced by the customer's (strictly checked) id.
    #[arg(
        long,
        env = "MTM_STORE_URL_TEMPLATE",
        default_value = "sqlite://.mtm-data/rooms/{customer}.db"
    )]
    pub store_url_template: String,

    /// Optional file assigning customers to other store templates, one `CUSTOMER-ID TEMPLATE`
    /// per line (`#` comments), to spread customers over several database servers.
    #[arg(long, env = "MTM_STORE_MAP_FILE")]
    pub store_map_file: Option<PathBuf>,
}

impl StoreArgs {
    /// The templates these settings name (the map file read and checked).
    pub fn templates(&self) -> Result<Templates, String> {
        Templates::new(&self.store_url_template, self.store_map_file.as_deref())
    }
}

/// Configuration, from flags with `MTM_*` environment fallbacks.
#[derive(Clone, Debug, clap::Parser)]
#[command(
    name = "rooms-svc",
    version,
    about = "MTM rooms service: each customer's own store of rooms, enrolment key, room groups, update rings, tickets, reports, settings and audit log.",
    after_help = "`rooms-svc migrate --help`: bring every provisioned store to this binary's schema version (ahead of a rollout, as a Kubernetes Job)."
)]
pub struct Config {
    /// Listener, TLS and caller settings.
    #[command(flatten)]
    pub backend: BackendArgs,

    /// Where the customer stores live.
    #[command(flatten)]
    pub stores: StoreArgs,

    /// At most this many customer stores have an open connection pool at once; the least
    /// recently used one is closed first.
    #[arg(long, env = "MTM_MAX_OPEN_STORES", default_value_t = 256)]
    pub max_open_stores: usize,

    /// A store's pool is closed after this many seconds without use.
    #[arg(long, env = "MTM_STORE_IDLE_TIMEOUT_SECS", default_value_t = 300)]
    pub store_idle_timeout_secs: u64,

    /// Connections per customer store pool.
    #[arg(long, env = "MTM_STORE_MAX_CONNECTIONS", default_value_t = 4)]
    pub store_max_connections: u32,

    /// rooms-svc's own small database of each store's newest-ticket time, which the gateway
    /// reads to skip customers in the all tickets view (R25); shared by every replica.
    /// Default: beside the stores, the store URL template with `{customer}` replaced by
    /// `_ticket-activity`.
    #[arg(long, env = "MTM_TICKET_ACTIVITY_URL")]
    pub ticket_activity_url: Option<String>,

    /// File holding the 32-byte secret that seals enrolment keys at rest; created (mode 0600)
    /// when missing. Keep it outside the customer stores and back it up.
    #[arg(
        long,
        env = "MTM_KEY_SEALING_SECRET_FILE",
        default_value = ".mtm-data/rooms/key-sealing.secret"
    )]
    pub key_sealing_secret_file: PathBuf,
}

impl Config {
    /// Test settings: the given backend settings, stores from `template`, a sealing secret in
    /// `secret_dir`.
    pub fn for_test(backend: BackendArgs, template: &str, secret_dir: &std::path::Path) -> Self {
        Self {
            backend,
            stores: StoreArgs {
                store_url_template: template.to_owned(),
                store_map_file: None,
            },
            max_open_stores: 64,
            store_idle_timeout_secs: 300,
            store_max_connections: 4,
            key_sealing_secret_file: secret_dir.join("key-sealing.secret"),
            ticket_activity_url: Some(format!(
                "sqlite://{}",
                secret_dir.join("_ticket-activity.db").display()
            )),
        }
    }

    /// The ticket activity database's URL.
    pub fn ticket_activity_url(&self) -> String {
        self.ticket_activity_url.clone().unwrap_or_else(|| {
            self.stores
                .store_url_template
                .replace(locator::PLACEHOLDER, activity::DATABASE_ID)
        })
    }

    /// The store locator these settings describe, keeping activity in `activity`.
    pub fn locator(&self, activity: Arc<TicketActivity>) -> Result<Locator, String> {
        let templates = self.stores.templates()?;
        Ok(Locator::new(
            LocatorSettings {
                templates,
                max_open_stores: self.max_open_stores.max(1),
                idle_timeout: Duration::from_secs(self.store_idle_timeout_secs.max(1)),
                max_connections: self.store_max_connections.max(1),
            },
            activity,
        ))
    }
}

/// Serves the service over mutual TLS on `listener` until `shutdown` is cancelled.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    health_listener: Option<TcpListener>,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let activity = TicketActivity::open(&config.ticket_activity_url())
        .await
        .map_err(|e| std::io::Error::other(format!("ticket activity database: {e}")))?;
    let locator = Arc::new(
        config
            .locator(Arc::new(activity))
            .map_err(std::io::Error::other)?,
    );
    let sealer = Arc::new(
        Sealer::load_or_create(&config.key_sealing_secret_file)
            .map_err(|e| std::io::Error::other(e.to_string()))?,
    );
    let state = Arc::new(service::State::new(locator.clone(), sealer));
    metrics::observe(&locator);
    let stop_sweeper = shutdown.child_token();
    let sweeper = tokio::spawn(locator.clone().run_idle_sweeper(stop_sweeper.clone()));
    let retention = tokio::spawn(retention::run(locator.clone(), stop_sweeper.clone()));
    let served = service::mount(Assembly::new(), &state)
        .serve_backend(
            &config.backend,
            mtm_plumbing::callgraph::Service::Rooms,
            listener,
            health_listener,
            shutdown.clone(),
        )
        .await;
    stop_sweeper.cancel();
    if let Err(error) = retention.await {
        tracing::warn!(%error, "audit retention task ended abnormally");
    }
    if let Err(error) = sweeper.await {
        tracing::warn!(%error, "store sweeper ended abnormally");
    }
    served
}
