//! identity-svc: owns tenants' directories (users by UPN, nested security groups, directory roles), credentials, signing keys, token issue and the JWKS.
//!
//! `serve` opens the store, runs its migrations, makes sure a signing key exists and then runs
//! the service on a bound listener until the shutdown token is cancelled; `main` only parses
//! the configuration and calls it.

pub mod audit;
pub mod cache;
pub mod convert;
pub mod error;
pub mod issuer;
pub mod kek;
pub mod metrics;
pub mod names;
pub mod password;
pub mod ratelimit;
pub mod seed;
pub mod service;
pub mod state;
pub mod store;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use mtm_plumbing::CancellationToken;
use mtm_plumbing::audit::service::AuditLog;
use mtm_plumbing::config::BackendArgs;
use mtm_plumbing::server::Assembly;
use mtm_proto::mtm::audit::v1::audit_internal_service_server::AuditInternalServiceServer;
use mtm_proto::mtm::audit::v1::audit_service_server::AuditServiceServer;
use mtm_proto::mtm::identity::v1::auth_service_server::AuthServiceServer;
use mtm_proto::mtm::identity::v1::directory_service_server::DirectoryServiceServer;
use mtm_proto::mtm::identity::v1::principal_internal_service_server::PrincipalInternalServiceServer;
use tokio::net::TcpListener;

pub use error::Error;

/// The service's name in logs, traces and certificates.
pub const SERVICE_NAME: &str = "identity-svc";

/// The port the service listens on when no address is configured.
pub const DEFAULT_PORT: u16 = 50051;

/// The services that call this one in the call graph (mtm-callgraph), allowed unless
/// `--allowed-peers` says otherwise; the call graph decides which methods each may call.
pub const DEFAULT_CALLERS: &[&str] = &["gateway", "tenancy-svc"];

/// Configuration, from flags with `MTM_*` environment fallbacks.
#[derive(Clone, Debug, clap::Parser)]
#[command(
    name = "identity-svc",
    version,
    about = "MTM identity service: tenants' directories (users, security groups, directory roles), sign-in, signed access tokens and their public keys."
)]
pub struct Config {
    /// Listener, TLS and caller settings.
    #[command(flatten)]
    pub backend: BackendArgs,

    /// The store: `sqlite://PATH` or `postgres://HOST/DATABASE` (created on first use).
    #[arg(
        long,
        env = "MTM_DATABASE_URL",
        default_value = "sqlite://.mtm-data/identity-svc.db"
    )]
    pub database_url: String,

    /// The `iss` claim of every access token.
    #[arg(
        long,
        env = "MTM_TOKEN_ISSUER",
        default_value = "https://identity.mtm.local"
    )]
    pub token_issuer: String,

    /// The `aud` claim of every access token (what the gateway expects).
    #[arg(long, env = "MTM_TOKEN_AUDIENCE", default_value = "mtm")]
    pub token_audience: String,

    /// Lifetime of access tokens, in seconds.
    #[arg(long, env = "MTM_TOKEN_LIFETIME_SECS", default_value_t = 900)]
    pub token_lifetime_secs: u64,

    /// Clock skew allowed when checking external identity providers' tokens, in seconds.
    #[arg(long, env = "MTM_TOKEN_LEEWAY_SECS", default_value_t = 30)]
    pub token_leeway_secs: u64,

    /// The name the operator signs in with (instead of a UPN).
    #[arg(long, env = "MTM_OPERATOR_NAME", default_value = "operator")]
    pub operator_name: String,

    /// A file holding the operator's password (first line). Without it nobody can sign in as
    /// the operator.
    #[arg(long, env = "MTM_OPERATOR_PASSWORD_FILE")]
    pub operator_password_file: Option<PathBuf>,

    /// A file of key-encryption keys that seal the token-signing keys at rest: one key of 32
    /// random bytes per line in base64 (`head -c 32 /dev/urandom | base64`) or 64 hex digits,
    /// `#` comments allowed.
    /// The first seals (and re-seals stored keys at start); the others only open, for
    /// rotation. Required: without it the service refuses to start.
    #[arg(long, env = "MTM_KEY_ENCRYPTION_KEY_FILE")]
    pub key_encryption_key_file: Option<PathBuf>,

    /// Key-encryption keys given in code (tests, embedding); used instead of the file.
    #[arg(skip)]
    pub key_encryption_keys: Option<kek::KeyEncryptionKeys>,

    /// Password guesses allowed per account and source (the client address the gateway
    /// forwards) within the lockout window; reaching it blocks that pair for the window,
    /// doubling with each further lockout up to 64 windows (RESOURCE_EXHAUSTED). Ten times as
    /// many are allowed per account over all sources. Counted in memory, per replica.
    #[arg(long, env = "MTM_SIGN_IN_MAX_FAILURES", default_value_t = 5)]
    pub sign_in_max_failures: u32,

    /// The lockout window, in seconds: failures are counted from the first one in a window,
    /// and the first block lasts this long.
    #[arg(long, env = "MTM_SIGN_IN_LOCKOUT_SECS", default_value_t = 300)]
    pub sign_in_lockout_secs: u64,

    /// Verify claimed domains at once instead of by their DNS TXT record (closed networks and
    /// development; DNS lookups are not available to identity-svc).
    #[arg(long, env = "MTM_TRUST_DOMAIN_CLAIMS")]
    pub trust_domain_claims: bool,

    /// Load the demo directories (see `seed`) when the store holds no directory yet.
    #[arg(long, env = "MTM_SEED_DEMO")]
    pub seed_demo: bool,

    /// Argon2id memory cost in KiB for password hashes.
    #[arg(long, env = "MTM_PASSWORD_HASH_MEMORY_KIB", default_value_t = 19456)]
    pub password_hash_memory_kib: u32,

    /// Argon2id passes for password hashes.
    #[arg(long, env = "MTM_PASSWORD_HASH_ITERATIONS", default_value_t = 2)]
    pub password_hash_iterations: u32,

    /// Password hashes computed at once (the others wait); bounds their memory to this times
    /// the memory cost. 0: one per available CPU.
    #[arg(long, env = "MTM_PASSWORD_HASH_CONCURRENCY", default_value_t = 0)]
    pub password_hash_concurrency: usize,
}

impl Config {
    /// A configuration for tests: the given TLS settings and store, cheap password hashing.
    pub fn for_test(server: mtm_plumbing::config::ServerArgs, database_url: String) -> Self {
        Self {
            backend: BackendArgs {
                server,
                allowed_peers: Vec::new(),
            },
            database_url,
            token_issuer: "https://identity.mtm.test".into(),
            token_audience: "mtm-test".into(),
            token_lifetime_secs: 900,
            token_leeway_secs: 0,
            operator_name: "operator".into(),
            operator_password_file: None,
            key_encryption_key_file: None,
            key_encryption_keys: Some(
                kek::KeyEncryptionKeys::generate().expect("the system has randomness"),
            ),
            trust_domain_claims: true,
            seed_demo: false,
            sign_in_max_failures: 5,
            sign_in_lockout_secs: 300,
            password_hash_memory_kib: 1024,
            password_hash_iterations: 1,
            password_hash_concurrency: 0,
        }
    }
}

/// Builds the handlers' shared state: opens and migrates the store, makes sure a signing key
/// exists and loads the operator credential.
pub async fn prepare(config: &Config) -> Result<state::State, Error> {
    let keks = key_encryption_keys(config)?;
    let db = store::open(&config.database_url).await?;
    let resealed = store::keys::seal_at_rest(&db, &keks).await?;
    if resealed > 0 {
        tracing::info!(resealed, primary = %keks.ids()[0], "signing keys sealed at rest");
    }
    store::keys::ensure_active(&db, &keks).await?;
    store::providers::normalize_stored(&db).await?;
    let passwords = password::Passwords::new(
        config.password_hash_memory_kib,
        config.password_hash_iterations,
        config.password_hash_concurrency,
    )?;
    let operator = match &config.operator_password_file {
        Some(path) => {
            let text = tokio::fs::read_to_string(path)
                .await
                .map_err(|e| Error::Config(format!("reading {}: {e}", path.display())))?;
            let password = text.lines().next().unwrap_or_default().trim_end();
            if password.is_empty() {
                return Err(Error::Config(format!(
                    "{} holds no password",
                    path.display()
                )));
            }
            Some(Arc::new(state::Operator {
                name: config.operator_name.trim().to_ascii_lowercase(),
                password_hash: passwords.hash(password).await?,
            }))
        }
        None => None,
    };
    Ok(state::State {
        db,
        passwords,
        limiter: ratelimit::SignInLimiter::new(
            config.sign_in_max_failures,
            Duration::from_secs(config.sign_in_lockout_secs),
        ),
        cache: cache::PrincipalCache::new(100_000),
        tokens: Arc::new(state::TokenSettings {
            issuer: config.token_issuer.clone(),
            audience: config.token_audience.clone(),
            lifetime: Duration::from_secs(config.token_lifetime_secs),
            leeway_secs: config.token_leeway_secs,
        }),
        operator,
        trust_domain_claims: config.trust_domain_claims,
        keks,
    })
}

/// The configured KEKs: given in code, else read from the file; a configuration error when
/// neither is given, since a signing key stored in the clear lets whoever reads a backup mint
/// tokens for anyone.
fn key_encryption_keys(config: &Config) -> Result<kek::KeyEncryptionKeys, Error> {
    if let Some(keys) = &config.key_encryption_keys {
        return Ok(keys.clone());
    }
    let path = config.key_encryption_key_file.as_ref().ok_or_else(|| {
        Error::Config(
            "no key-encryption key: give --key-encryption-key-file (MTM_KEY_ENCRYPTION_KEY_FILE), \
             a file holding one base64 key of 32 random bytes per line, e.g. \
             `head -c 32 /dev/urandom | base64 > kek`"
                .into(),
        )
    })?;
    kek::KeyEncryptionKeys::load(path)
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
    if config.seed_demo {
        seed::demo(&state).await?;
    }
    Assembly::new()
        .add_service(PrincipalInternalServiceServer::new(
            service::internal::InternalService::new(state.clone()),
        ))
        .add_service(AuthServiceServer::new(service::auth::AuthHandlers::new(
            state.clone(),
        )))
        .add_service(DirectoryServiceServer::new(
            service::directory::DirectoryHandlers::new(state.clone()),
        ))
        .add_service(AuditServiceServer::new(AuditLog::new(
            Arc::new(audit::DirectoryStores(state.db.clone())),
            audit::SOURCE,
        )))
        .add_service(AuditInternalServiceServer::new(AuditLog::new(
            Arc::new(audit::DirectoryStores(state.db.clone())),
            audit::SOURCE,
        )))
        .serve_backend(
            &config.backend,
            mtm_plumbing::callgraph::Service::Identity,
            listener,
            health_listener,
            shutdown,
        )
        .await?;
    Ok(())
}
