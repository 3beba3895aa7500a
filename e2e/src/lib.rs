//! Starts the whole MTM suite from the real binaries: the four backends and the gateway as
//! separate processes on loopback, mTLS between them with development certificates minted on
//! first run, SQLite stores under one data directory (or databases on a PostgreSQL server, see
//! [`Stores`]). Used by the `mtm-local` command and by the end-to-end tests, which share the
//! public-API steps of [`world`] and [`api`]; [`demo`] builds `mtm-local`'s demo world. The
//! suite supervises its services (a service that exits is started again on its addresses) and
//! records them in a state file that [`status`] reports.

pub mod api;
mod binaries;
pub mod demo;
mod process;
pub mod state;
pub mod status;
mod stores;
mod supervise;
pub mod world;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mtm_plumbing::callgraph::{self, Service as Graphed};
use mtm_plumbing::devcerts;
use mtm_proto::mtm::gateway::v1::GetStatusRequest;
use mtm_proto::mtm::gateway::v1::backend_status::State;
use mtm_proto::mtm::gateway::v1::status_service_client::StatusServiceClient;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

pub use binaries::{BinariesError, ensure_built};
pub use process::Service;
use state::SuiteState;
pub use stores::Stores;
use supervise::Member;

/// How long the suite may take to come up.
const START_DEADLINE: Duration = Duration::from_secs(60);

/// How long a service may take to stop after SIGTERM before it is killed: its drain period
/// (5 s by default) plus the time it may spend exporting its last spans (10 s).
const STOP_GRACE: Duration = Duration::from_secs(20);

/// Why the suite could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// The binaries could not be built or found.
    #[error(transparent)]
    Binaries(#[from] BinariesError),
    /// Certificates could not be minted.
    #[error(transparent)]
    Certificates(#[from] devcerts::DevCertError),
    /// A file or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A service exited or never became ready.
    #[error("{service} {problem}; its log is {log}")]
    Service {
        /// The service.
        service: &'static str,
        /// What went wrong.
        problem: String,
        /// Where its output went.
        log: PathBuf,
    },
    /// The gateway never reported every backend serving.
    #[error("the suite did not become ready within {0:?}: {1}")]
    NotReady(Duration, String),
}

/// How to run the suite.
#[derive(Clone, Debug)]
pub struct SuiteOptions {
    /// Holds `certs/`, `data/` (the SQLite stores), `logs/` and `run/`.
    pub data_dir: PathBuf,
    /// Where the gateway listens (port 0 picks a free one).
    pub gateway_listen: SocketAddr,
    /// Where the five binaries are.
    pub bin_dir: PathBuf,
    /// Extra environment for every service (e.g. `OTEL_EXPORTER_OTLP_ENDPOINT`).
    pub env: Vec<(String, String)>,
    /// SQLite files under the data directory, or PostgreSQL databases.
    pub stores: Stores,
}

impl SuiteOptions {
    /// SQLite stores under `data_dir`, the gateway on `gateway_listen`, the binaries in
    /// `bin_dir`, no extra environment.
    pub fn new(data_dir: PathBuf, gateway_listen: SocketAddr, bin_dir: PathBuf) -> Self {
        Self {
            data_dir,
            gateway_listen,
            bin_dir,
            env: Vec::new(),
            stores: Stores::Sqlite,
        }
    }
}

/// A running suite; [`Suite::supervise`] restarts a service that exits, [`Suite::stop`]
/// shuts it down gracefully.
pub struct Suite {
    members: Vec<Member>,
    stores: Stores,
    data: PathBuf,
    bin_dir: PathBuf,
    logs: PathBuf,
    run: PathBuf,
    state_file: PathBuf,
    /// The gateway's public address.
    pub gateway_addr: SocketAddr,
    /// The CA certificate that signs the gateway's certificate.
    pub ca_file: PathBuf,
    /// The file holding the operator's password (operator name `operator`).
    pub operator_password_file: PathBuf,
}

impl Suite {
    /// Mints certificates if needed, starts the backends, then the gateway, and waits until
    /// the gateway reports every backend serving over mTLS. Each service keeps the addresses
    /// it first bound for the life of the suite, so a restart serves where its callers look.
    pub async fn start(options: &SuiteOptions) -> Result<Self, SuiteError> {
        let dirs = Dirs::create(&options.data_dir)?;
        devcerts::ensure(&dirs.certs, &devcerts::SERVICES)?;
        let mut suite = Self {
            members: Vec::new(),
            stores: options.stores.clone(),
            data: dirs.data.clone(),
            bin_dir: options.bin_dir.clone(),
            logs: dirs.logs.clone(),
            run: dirs.run.clone(),
            state_file: state::state_file(&options.data_dir),
            gateway_addr: options.gateway_listen,
            ca_file: dirs.certs.join("ca.pem"),
            operator_password_file: dirs.operator_password(),
        };
        match suite.launch(options, &dirs).await {
            Ok(()) => Ok(suite),
            Err(error) => {
                suite.stop().await;
                Err(error)
            }
        }
    }

    async fn launch(&mut self, options: &SuiteOptions, dirs: &Dirs) -> Result<(), SuiteError> {
        let mut urls: Vec<(&str, String)> = Vec::new();
        let any_port: SocketAddr = "127.0.0.1:0".parse().expect("addr");
        for service in start_order() {
            let mut env = common_env(options, dirs, service, any_port);
            env.extend(options.stores.env(&dirs.data, service));
            env.extend(local_files_env(dirs, service));
            env.extend(call_graph_env(service, &urls));
            let addr = self.launch_member(service, env).await?;
            urls.push((service, format!("https://{addr}")));
        }
        let mut env = common_env(options, dirs, "gateway", options.gateway_listen);
        env.extend(call_graph_env("gateway", &urls));
        self.gateway_addr = self.launch_member("gateway", env).await?;
        self.write_state();
        self.wait_ready().await
    }

    /// Starts `service` and fixes its configuration to the addresses it bound.
    async fn launch_member(
        &mut self,
        service: &'static str,
        env: Vec<(String, String)>,
    ) -> Result<SocketAddr, SuiteError> {
        let member = Member::launch(service, env, &self.bin_dir, &self.logs, &self.run).await;
        let member = member?;
        let addr = member.addr;
        self.members.push(member);
        Ok(addr)
    }

    /// A TLS channel to the gateway that trusts the suite's CA.
    pub async fn gateway_channel(&self) -> Result<Channel, SuiteError> {
        let io = |context: &str| {
            let context = context.to_owned();
            move |source| SuiteError::Io { context, source }
        };
        let ca = std::fs::read(&self.ca_file).map_err(io("reading the CA"))?;
        let tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca));
        let endpoint = Channel::from_shared(format!("https://{}", self.gateway_addr))
            .map_err(|e| SuiteError::NotReady(START_DEADLINE, e.to_string()))?
            .tls_config(tls)
            .map_err(|e| SuiteError::NotReady(START_DEADLINE, e.to_string()))?;
        endpoint.connect().await.map_err(|e| {
            SuiteError::NotReady(START_DEADLINE, format!("connecting to the gateway: {e}"))
        })
    }

    async fn wait_ready(&mut self) -> Result<(), SuiteError> {
        let deadline = tokio::time::Instant::now() + START_DEADLINE;
        let mut last = String::from("no answer yet");
        while tokio::time::Instant::now() < deadline {
            for member in &mut self.members {
                member.check_running()?;
            }
            match self.backends_serving().await {
                Ok(()) => return Ok(()),
                Err(reason) => last = reason,
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(SuiteError::NotReady(START_DEADLINE, last))
    }

    async fn backends_serving(&self) -> Result<(), String> {
        let channel = self.gateway_channel().await.map_err(|e| e.to_string())?;
        let status = StatusServiceClient::new(channel)
            .get_status(GetStatusRequest {})
            .await
            .map_err(|e| e.message().to_owned())?
            .into_inner();
        match status.backends.iter().find(|b| b.state() != State::Serving) {
            None => Ok(()),
            Some(backend) => Err(format!(
                "{} is {:?}: {}",
                backend.name,
                backend.state(),
                backend.detail
            )),
        }
    }

    /// Makes `customer`'s rooms store (a tenant id) unusable, as if its database server were
    /// down: every later call that needs it fails while the other customers' stores work.
    /// With SQLite stores rooms-svc is restarted on its address around the change, so no open
    /// connection outlives it; the call returns once the suite is ready again.
    pub async fn make_customer_store_unavailable(
        &mut self,
        customer: &str,
    ) -> Result<(), SuiteError> {
        if !matches!(self.stores, Stores::Sqlite) {
            return self.stores.break_customer_store(&self.data, customer).await;
        }
        let rooms = self
            .members
            .iter_mut()
            .find(|member| member.name == "rooms-svc")
            .ok_or_else(|| {
                SuiteError::NotReady(START_DEADLINE, "rooms-svc is not running".into())
            })?;
        if let Err(problem) = rooms.terminate(STOP_GRACE).await {
            return Err(SuiteError::NotReady(START_DEADLINE, problem));
        }
        self.stores
            .break_customer_store(&self.data, customer)
            .await?;
        let rooms = self
            .members
            .iter_mut()
            .find(|member| member.name == "rooms-svc")
            .expect("found above");
        rooms.respawn(&self.bin_dir, &self.logs).await?;
        self.write_state();
        self.wait_ready().await
    }

    /// Every running service with its process id, in start order (the gateway last).
    pub fn pids(&self) -> Vec<(&'static str, u32)> {
        self.members
            .iter()
            .filter_map(|member| Some((member.name, member.pid()?)))
            .collect()
    }

    /// The address `service` serves on (for the gateway, its public address).
    pub fn service_addr(&self, service: &str) -> Option<SocketAddr> {
        self.members
            .iter()
            .find(|member| member.name == service)
            .map(|member| member.addr)
    }

    /// Records the suite's current state in its state file (`run/suite.json`); a failure to
    /// write it only costs `mtm-local status` its answer, so it is reported and otherwise ignored.
    fn write_state(&self) {
        let state = SuiteState {
            supervisor_pid: std::process::id(),
            services: self.members.iter().map(Member::state).collect(),
        };
        if let Err(error) = state.write(&self.state_file) {
            eprintln!(
                "mtm-local: cannot write {}: {error}",
                self.state_file.display()
            );
        }
    }

    /// Stops the gateway first, then the backends: SIGTERM, then SIGKILL after a grace period.
    /// Returns the services that did not stop cleanly.
    pub async fn stop(mut self) -> Vec<String> {
        let mut unclean = Vec::new();
        for member in self.members.iter_mut().rev() {
            if let Err(problem) = member.terminate(STOP_GRACE).await {
                unclean.push(problem);
            }
        }
        self.write_state();
        unclean
    }
}

/// The backends in an order that starts every service after the backends it calls, from the
/// call graph (mtm-callgraph): those that call nobody first.
fn start_order() -> Vec<&'static str> {
    let mut order: Vec<Graphed> = Graphed::BACKENDS.to_vec();
    order.sort_by_key(|backend| callgraph::upstreams(*backend).len());
    order.into_iter().map(Graphed::name).collect()
}

/// What the call graph gives `service` to run with: `MTM_ALLOWED_PEERS` naming its callers (the
/// development identities `spiffe://mtm/<caller>`), and the URLs of the backends it calls, from
/// those started so far. The backends admit each caller per method by the same table.
fn call_graph_env(service: &str, started: &[(&str, String)]) -> Vec<(String, String)> {
    let Some(me) = Graphed::from_name(service) else {
        return Vec::new();
    };
    let mut env = Vec::new();
    let callers = callgraph::callers(me);
    if !callers.is_empty() {
        let peers: Vec<String> = callers
            .iter()
            .map(|caller| devcerts::spiffe_id(caller.name()))
            .collect();
        env.push(("MTM_ALLOWED_PEERS".to_owned(), peers.join(",")));
    }
    let upstreams = callgraph::upstreams(me);
    let called: Vec<(&str, String)> = started
        .iter()
        .filter(|(name, _)| upstreams.iter().any(|up| up.name() == *name))
        .cloned()
        .collect();
    env.extend(backend_urls(&called));
    env
}

/// The environment naming `urls`' backends, as the gateway and tenancy-svc read it.
fn backend_urls(urls: &[(&str, String)]) -> Vec<(String, String)> {
    urls.iter()
        .map(|(service, url)| {
            let key = match *service {
                "identity-svc" => "MTM_IDENTITY_URL",
                "rbac-svc" => "MTM_RBAC_URL",
                "rooms-svc" => "MTM_ROOMS_URL",
                _ => "MTM_TENANCY_URL",
            };
            (key.to_owned(), url.clone())
        })
        .collect()
}

/// The service's files besides its store: rooms-svc's key-sealing secret;
/// identity-svc's operator password, the key-encryption key sealing its signing keys, the
/// demo directories it loads into an empty store, and domain claims trusted without DNS proof.
fn local_files_env(dirs: &Dirs, service: &str) -> Vec<(String, String)> {
    let data = dirs.data.display();
    let pair = |k: &str, v: String| (k.to_owned(), v);
    match service {
        "rooms-svc" => vec![pair(
            "MTM_KEY_SEALING_SECRET_FILE",
            format!("{data}/rooms/key-sealing.secret"),
        )],
        "identity-svc" => vec![
            pair(
                "MTM_OPERATOR_PASSWORD_FILE",
                dirs.operator_password().display().to_string(),
            ),
            pair(
                "MTM_KEY_ENCRYPTION_KEY_FILE",
                dirs.key_encryption_key().display().to_string(),
            ),
            pair("MTM_SEED_DEMO", "true".to_owned()),
            pair("MTM_TRUST_DOMAIN_CLAIMS", "true".to_owned()),
        ],
        _ => Vec::new(),
    }
}

/// The folders of a suite's data directory.
struct Dirs {
    certs: PathBuf,
    data: PathBuf,
    logs: PathBuf,
    run: PathBuf,
}

impl Dirs {
    fn create(root: &Path) -> Result<Self, SuiteError> {
        let dirs = Self {
            certs: root.join("certs"),
            data: root.join("data"),
            logs: root.join("logs"),
            run: root.join("run"),
        };
        for dir in [&dirs.certs, &dirs.data, &dirs.logs, &dirs.run] {
            std::fs::create_dir_all(dir).map_err(|source| SuiteError::Io {
                context: format!("creating {}", dir.display()),
                source,
            })?;
        }
        let password = dirs.operator_password();
        if !password.is_file() {
            write_private(
                &password,
                uuid::Uuid::new_v4().simple().to_string().as_bytes(),
            )?;
        }
        let mut keys = vec![dirs.key_encryption_key()];
        keys.extend(devcerts::SERVICES.iter().map(|s| dirs.page_token_key(s)));
        for key in keys {
            if !key.is_file() {
                write_private(&key, format!("{}\n", random_hex_32(&key)?).as_bytes())?;
            }
        }
        Ok(dirs)
    }

    /// identity-svc's key-encryption key file, minted on first run.
    fn key_encryption_key(&self) -> PathBuf {
        self.data.join("identity-key-encryption-key")
    }

    /// The key signing `service`'s page tokens, minted on first run so tokens stay valid
    /// across restarts of the suite.
    fn page_token_key(&self, service: &str) -> PathBuf {
        self.data.join(format!("{service}-page-token-key"))
    }

    /// The operator's password, generated on first run.
    fn operator_password(&self) -> PathBuf {
        self.data.join("operator-password")
    }
}

/// 32 random bytes from the system, hex-encoded; `path` names the file they are minted for.
fn random_hex_32(path: &Path) -> Result<String, SuiteError> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| std::io::Read::read_exact(&mut random, &mut bytes))
        .map_err(|source| SuiteError::Io {
            context: format!("minting {}", path.display()),
            source,
        })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Creates `path` readable by its owner only (mode 0600 from the start) holding `contents`.
fn write_private(path: &Path, contents: &[u8]) -> Result<(), SuiteError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut file| file.write_all(contents))
        .map_err(|source| SuiteError::Io {
            context: format!("writing {}", path.display()),
            source,
        })
}

/// The environment every service gets: its certificate, its listen address and a plaintext
/// health listener (any free port), where to report the bound addresses, and the key signing
/// its page tokens.
fn common_env(
    options: &SuiteOptions,
    dirs: &Dirs,
    service: &str,
    listen: SocketAddr,
) -> Vec<(String, String)> {
    let paths = devcerts::paths(&dirs.certs, service);
    let path = |p: &Path| p.display().to_string();
    let mut env = vec![
        ("MTM_LISTEN".to_owned(), listen.to_string()),
        ("MTM_TLS_CERT".to_owned(), path(&paths.cert)),
        ("MTM_TLS_KEY".to_owned(), path(&paths.key)),
        ("MTM_TLS_CA".to_owned(), path(&paths.ca)),
        (
            "MTM_BOUND_ADDR_FILE".to_owned(),
            path(&process::addr_file(&dirs.run, service)),
        ),
        ("MTM_HEALTH_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        (
            "MTM_HEALTH_BOUND_ADDR_FILE".to_owned(),
            path(&process::health_addr_file(&dirs.run, service)),
        ),
        (
            "MTM_PAGE_TOKEN_KEY_FILE".to_owned(),
            path(&dirs.page_token_key(service)),
        ),
    ];
    env.extend(options.env.iter().cloned());
    env
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn each_service_gets_its_own_private_page_token_key_kept_across_runs() {
        let root = tempfile::tempdir().expect("tempdir");
        let dirs = Dirs::create(root.path()).expect("first run");
        let keys: Vec<Vec<u8>> = devcerts::SERVICES
            .iter()
            .map(|service| {
                let path = dirs.page_token_key(service);
                let mode = std::fs::metadata(&path)
                    .expect("minted")
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{service}");
                std::fs::read(&path).expect("readable")
            })
            .collect();
        for key in &keys {
            assert!(key.len() >= 32);
        }
        let distinct: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len(), "one key per service");
        let env = common_env(
            &SuiteOptions::new(
                root.path().into(),
                "127.0.0.1:0".parse().expect("addr"),
                root.path().into(),
            ),
            &dirs,
            "rbac-svc",
            "127.0.0.1:0".parse().expect("addr"),
        );
        let named = env.iter().find(|(k, _)| k == "MTM_PAGE_TOKEN_KEY_FILE");
        assert_eq!(
            named.map(|(_, v)| PathBuf::from(v)),
            Some(dirs.page_token_key("rbac-svc"))
        );

        let again = Dirs::create(root.path()).expect("second run");
        for (service, key) in devcerts::SERVICES.iter().zip(&keys) {
            assert_eq!(
                &std::fs::read(again.page_token_key(service)).expect("kept"),
                key
            );
        }
    }
}
