//! The one MTM the gateway tests run against: the real identity-svc, tenancy-svc, rbac-svc and
//! rooms-svc over mTLS on 127.0.0.1:0 with SQLite stores in a temporary directory or uniquely
//! named PostgreSQL databases ([`Backend`]), and the gateway in front. [`StackBuilder`] holds what tests vary; [`direct`] sets a world up on the
//! backends (speaking as the gateway), [`public`] through the gateway's public API.

pub mod calls;
pub mod direct;
pub mod public;
pub mod raw;

use std::net::SocketAddr;
use std::path::PathBuf;

use mtm_plumbing::config::BackendArgs;
use mtm_plumbing::testing::{RunningServer, TestPki, mtls_channel};
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

/// The password of every user the tests create.
pub const PASSWORD: &str = "correct horse battery";

/// The operator's password, which every stack accepts.
pub const OPERATOR_PASSWORD: &str = "operator-secret-password";

/// A tenant with its first admin (a Global admin; MMR admin of a customer), as either kind of
/// set-up knows that admin.
#[derive(Clone, Debug)]
pub struct Org<P> {
    pub id: String,
    pub domain: String,
    pub admin: P,
}

impl<P> Org<P> {
    /// `customers/{id}`.
    pub fn customer(&self) -> String {
        format!("customers/{}", self.id)
    }
}

/// Settings of a backend: the service's certificate, the default callers.
pub fn backend_args(pki: &TestPki, service: &str) -> BackendArgs {
    BackendArgs {
        server: pki.server_args(service),
        allowed_peers: Vec::new(),
    }
}

/// A TLS channel to the gateway at `addr` without a client certificate, as public clients
/// connect.
pub async fn public_channel(pki: &TestPki, addr: SocketAddr) -> Channel {
    let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pki.ca_pem()));
    Channel::from_shared(format!("https://{addr}"))
        .expect("url")
        .tls_config(tls)
        .expect("tls")
        .connect()
        .await
        .expect("connect to the gateway")
}

fn url(addr: SocketAddr) -> String {
    format!("https://127.0.0.1:{}", addr.port())
}

type Stop = Box<dyn FnOnce() -> tokio::task::JoinHandle<()> + Send>;

/// A started server: where it listens and how to stop it.
struct Server {
    addr: SocketAddr,
    stop: Stop,
}

impl Server {
    /// Binds `127.0.0.1:0` and spawns `serve` on it.
    async fn start<E, F, Fut>(serve: F) -> Self
    where
        E: std::fmt::Debug + Send + 'static,
        F: FnOnce(tokio::net::TcpListener, mtm_plumbing::CancellationToken) -> Fut,
        Fut: std::future::Future<Output = Result<(), E>> + Send + 'static,
    {
        let server = RunningServer::start(serve).await;
        Self {
            addr: server.addr,
            stop: Box::new(move || tokio::spawn(server.stop())),
        }
    }
}

/// Which database engine holds the backends' stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite files in a temporary directory.
    Sqlite,
    /// Databases named after a fresh prefix on the PostgreSQL test server, dropped on stop.
    #[cfg_attr(not(feature = "postgres-tests"), allow(dead_code))]
    Postgres,
}

/// What tests vary in a stack: the store engine, the gateway's rate limits and rooms-svc's
/// open-store cap.
#[derive(Debug)]
pub struct StackBuilder {
    backend: Backend,
    limits: gateway::LimitArgs,
    keys: gateway::KeyArgs,
    max_open_stores: Option<usize>,
}

impl StackBuilder {
    /// The engine of every store of the stack.
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// The gateway's per-tenant rate limits.
    pub fn limits(mut self, limits: gateway::LimitArgs) -> Self {
        self.limits = limits;
        self
    }

    /// How often the gateway refreshes the token keys.
    pub fn keys(mut self, keys: gateway::KeyArgs) -> Self {
        self.keys = keys;
        self
    }

    /// At most `count` customer stores open at once in rooms-svc.
    pub fn max_open_stores(mut self, count: usize) -> Self {
        self.max_open_stores = Some(count);
        self
    }

    /// Starts the backends, then the gateway, and connects to them.
    pub async fn start(self) -> Stack {
        let pki = TestPki::new();
        let files = Files::new(self.backend);
        let identity = start_identity(&pki, &files).await;
        let rbac = start_rbac(&pki, &files).await;
        let rooms = start_rooms(&pki, &files, self.max_open_stores).await;
        let tenancy = start_tenancy(&pki, &files, [identity.addr, rbac.addr, rooms.addr]).await;
        let backends = [identity.addr, tenancy.addr, rbac.addr, rooms.addr];
        let mut config = gateway_config(&pki, backends, self.limits);
        config.keys = self.keys;
        let gateway = Server::start(|l, s| gateway::serve(config, l, None, s)).await;
        let as_gateway = |addr| internal_channel(&pki, addr);
        Stack {
            gateway: public_channel(&pki, gateway.addr).await,
            identity: as_gateway(identity.addr).await,
            tenancy: as_gateway(tenancy.addr).await,
            rooms: as_gateway(rooms.addr).await,
            servers: vec![
                ("gateway", gateway.stop),
                ("tenancy-svc", tenancy.stop),
                ("rooms-svc", rooms.stop),
                ("rbac-svc", rbac.stop),
                ("identity-svc", identity.stop),
            ],
            files,
            _pki: pki,
        }
    }
}

/// The running servers and channels to them.
pub struct Stack {
    _pki: TestPki,
    files: Files,
    gateway: Channel,
    /// identity-svc, spoken to as the gateway.
    pub identity: Channel,
    /// tenancy-svc, spoken to as the gateway.
    pub tenancy: Channel,
    /// rooms-svc, spoken to as the gateway.
    pub rooms: Channel,
    servers: Vec<(&'static str, Stop)>,
}

impl Stack {
    /// The default settings, to change before starting.
    pub fn builder() -> StackBuilder {
        StackBuilder {
            backend: Backend::Sqlite,
            limits: gateway::LimitArgs::default(),
            keys: gateway::KeyArgs::default(),
            max_open_stores: None,
        }
    }

    /// A stack with the default settings.
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// The public (server-TLS only) channel to the gateway.
    pub fn public(&self) -> Channel {
        self.gateway.clone()
    }

    /// The SQLite file of `customer`'s rooms-svc store.
    pub fn store_file(&self, customer: &str) -> PathBuf {
        self.files.stores().join(format!("{customer}.db"))
    }

    /// The customers that have a rooms-svc store (a file or a database), sorted.
    pub async fn stores(&self) -> Vec<String> {
        self.files.stores_present().await
    }

    /// Stops one server, e.g. `rooms-svc`.
    pub async fn stop_one(&mut self, name: &str) {
        let index = self
            .servers
            .iter()
            .position(|(n, _)| *n == name)
            .expect("a server of the stack");
        let (_, stop) = self.servers.remove(index);
        stop().await.expect("server stopped");
    }

    /// Stops every server still running, the gateway first; on PostgreSQL, drops the stack's
    /// databases.
    pub async fn stop(self) {
        for (_, stop) in self.servers {
            stop().await.expect("server stopped");
        }
        self.files.drop_databases().await;
    }
}

/// Where the stores live: a temporary directory (SQLite stores and the operator's password
/// file) and, on PostgreSQL, the prefix of the stack's database names.
struct Files {
    dir: tempfile::TempDir,
    postgres: Option<String>,
}

impl Files {
    fn new(backend: Backend) -> Self {
        let postgres = (backend == Backend::Postgres).then(|| {
            format!(
                "mtm_test_gw_{}",
                &uuid::Uuid::new_v4().simple().to_string()[..12]
            )
        });
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
            postgres,
        }
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// The URL of the database of service `name`.
    fn database(&self, name: &str) -> String {
        match &self.postgres {
            Some(prefix) => {
                mtm_plumbing::testing::postgres_database_url(&format!("{prefix}_{name}"))
            }
            None => format!("sqlite://{}/{name}.db", self.path().display()),
        }
    }

    /// The URL template of rooms-svc's customer stores.
    fn store_template(&self) -> String {
        match &self.postgres {
            Some(prefix) => {
                mtm_plumbing::testing::postgres_database_url(&format!("{prefix}_c_{{customer}}"))
            }
            None => format!("sqlite://{}/{{customer}}.db", self.stores().display()),
        }
    }

    fn stores(&self) -> PathBuf {
        self.path().join("stores")
    }

    /// The customers whose store exists now.
    async fn stores_present(&self) -> Vec<String> {
        let mut names: Vec<String> = match &self.postgres {
            Some(prefix) => postgres_databases(&format!("{prefix}_c_"))
                .await
                .into_iter()
                .map(|name| name[prefix.len() + 3..].to_owned())
                .collect(),
            None => match std::fs::read_dir(self.stores()) {
                Ok(entries) => entries
                    .map(|entry| entry.expect("a store directory entry").file_name())
                    .filter_map(|name| {
                        name.to_str()
                            .and_then(|name| name.strip_suffix(".db"))
                            .map(str::to_owned)
                    })
                    .collect(),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(error) => panic!("read the store directory: {error}"),
            },
        };
        // Names starting with `_` are rooms-svc's own databases (activity, template).
        names.retain(|name| !name.starts_with('_'));
        names.sort();
        names
    }

    /// Drops the stack's PostgreSQL databases (nothing to do on SQLite).
    async fn drop_databases(&self) {
        if let Some(prefix) = &self.postgres {
            mtm_plumbing::testing::drop_postgres_databases_starting_with(&format!("{prefix}_"))
                .await;
        }
    }

    fn operator_password(&self) -> PathBuf {
        let file = self.path().join("operator-password");
        std::fs::write(&file, format!("{OPERATOR_PASSWORD}\n")).expect("write the password");
        file
    }
}

/// The databases of the PostgreSQL test server whose name starts with `prefix`.
async fn postgres_databases(prefix: &str) -> Vec<String> {
    use sea_orm::{ConnectionTrait, Statement};
    let admin = sea_orm::Database::connect(mtm_plumbing::testing::postgres_server_url())
        .await
        .expect("PostgreSQL test server unreachable (MTM_TEST_POSTGRES_URL)");
    let rows = admin
        .query_all_raw(Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1)",
            [prefix.into()],
        ))
        .await
        .expect("list databases");
    admin.close().await.expect("close");
    rows.into_iter()
        .map(|row| row.try_get_by_index(0).expect("datname"))
        .collect()
}

async fn internal_channel(pki: &TestPki, addr: SocketAddr) -> Channel {
    mtls_channel(addr, &pki.material("gateway"))
        .await
        .expect("mTLS channel as the gateway")
}

async fn start_identity(pki: &TestPki, files: &Files) -> Server {
    let mut config =
        identity_svc::Config::for_test(pki.server_args("identity-svc"), files.database("identity"));
    config.operator_password_file = Some(files.operator_password());
    Server::start(|l, s| identity_svc::serve(config, l, None, s)).await
}

async fn start_rbac(pki: &TestPki, files: &Files) -> Server {
    let config = rbac_svc::Config {
        backend: backend_args(pki, "rbac-svc"),
        database_url: files.database("rbac"),
        lease_ms: rbac_svc::DEFAULT_LEASE_MS,
    };
    Server::start(|l, s| rbac_svc::serve(config, l, None, s)).await
}

async fn start_rooms(pki: &TestPki, files: &Files, max_open_stores: Option<usize>) -> Server {
    let template = files.store_template();
    let mut config =
        rooms_svc::Config::for_test(backend_args(pki, "rooms-svc"), &template, files.path());
    if let Some(count) = max_open_stores {
        config.max_open_stores = count;
    }
    Server::start(|l, s| rooms_svc::serve(config, l, None, s)).await
}

/// tenancy-svc, calling identity-svc, rbac-svc and rooms-svc.
async fn start_tenancy(
    pki: &TestPki,
    files: &Files,
    [identity, rbac, rooms]: [SocketAddr; 3],
) -> Server {
    let config = tenancy_svc::Config::for_test(
        pki.server_args("tenancy-svc"),
        files.database("tenancy"),
        url(identity),
        url(rbac),
        url(rooms),
    );
    Server::start(|l, s| tenancy_svc::serve(config, l, None, s)).await
}

/// The gateway's settings in front of identity-svc, tenancy-svc, rbac-svc and rooms-svc at
/// the given addresses, in that order.
pub fn gateway_config(
    pki: &TestPki,
    [identity, tenancy, rbac, rooms]: [SocketAddr; 4],
    limits: gateway::LimitArgs,
) -> gateway::Config {
    gateway::Config {
        server: pki.server_args("gateway"),
        public_tls_cert: None,
        public_tls_key: None,
        identity_url: url(identity),
        tenancy_url: url(tenancy),
        rbac_url: url(rbac),
        rooms_url: url(rooms),
        limits,
        keys: gateway::KeyArgs::default(),
    }
}
