//! Cerbos 0.55 as the comparison peer of rbac-svc: started from a binary fetched by
//! `bench/cerbos/fetch.sh`, serving gRPC over mutual TLS with rbac-svc's development certificate
//! (so both servers terminate the same TLS), deciding the room question with the policy in
//! `bench/cerbos/policies/room.yaml`.

pub mod api;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mtm_plumbing::devcerts;
use tokio::process::{Child, Command};

/// The resource policy deciding rooms.
const ROOM_POLICY: &str = include_str!("../../cerbos/policies/room.yaml");

/// How long Cerbos may take to answer its health check.
const START_DEADLINE: Duration = Duration::from_secs(30);

/// Why Cerbos could not be started.
#[derive(Debug, thiserror::Error)]
pub enum CerbosError {
    /// Its files could not be written or the process not started.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// It exited or never reported serving.
    #[error("cerbos {0}; its log is {1}")]
    NotServing(String, PathBuf),
}

/// A running Cerbos server, killed when dropped.
pub struct Cerbos {
    child: Child,
    /// Where it serves gRPC.
    pub addr: SocketAddr,
    log: PathBuf,
}

impl Cerbos {
    /// Writes its configuration and policy under `work_dir` and starts `binary` serving gRPC on
    /// `grpc_listen` and HTTP on `http_listen`, with the certificates in `certs_dir`.
    pub fn spawn(
        binary: &Path,
        certs_dir: &Path,
        work_dir: &Path,
        grpc_listen: SocketAddr,
        http_listen: SocketAddr,
    ) -> Result<Self, CerbosError> {
        let io = |context: String| move |source| CerbosError::Io { context, source };
        let policies = work_dir.join("policies");
        std::fs::create_dir_all(&policies)
            .map_err(io(format!("creating {}", policies.display())))?;
        let policy = policies.join("room.yaml");
        std::fs::write(&policy, ROOM_POLICY)
            .map_err(io(format!("writing {}", policy.display())))?;
        let config = work_dir.join("config.yaml");
        let paths = devcerts::paths(certs_dir, "rbac-svc");
        std::fs::write(
            &config,
            config_yaml(grpc_listen, http_listen, &paths, &policies),
        )
        .map_err(io(format!("writing {}", config.display())))?;
        let log = work_dir.join("cerbos.log");
        let out = std::fs::File::create(&log).map_err(io(format!("creating {}", log.display())))?;
        let err = out
            .try_clone()
            .map_err(io(format!("opening {}", log.display())))?;
        let child = Command::new(binary)
            .arg("server")
            .arg(format!("--config={}", config.display()))
            .arg("--log-level=warn")
            .env("CERBOS_NO_TELEMETRY", "1")
            .stdin(std::process::Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true)
            .spawn()
            .map_err(io(format!("starting {}", binary.display())))?;
        Ok(Self {
            child,
            addr: grpc_listen,
            log,
        })
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Waits until its gRPC health check answers SERVING through `endpoint`.
    pub async fn wait_serving(
        &mut self,
        endpoint: &tonic::transport::Endpoint,
    ) -> Result<(), CerbosError> {
        use tonic_health::pb::health_check_response::ServingStatus;
        use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
        let until = tokio::time::Instant::now() + START_DEADLINE;
        while tokio::time::Instant::now() < until {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(CerbosError::NotServing(
                    format!("exited ({status})"),
                    self.log.clone(),
                ));
            }
            if let Ok(channel) = endpoint.connect().await {
                let answer = HealthClient::new(channel)
                    .check(HealthCheckRequest::default())
                    .await;
                if answer.is_ok_and(|a| a.into_inner().status() == ServingStatus::Serving) {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(CerbosError::NotServing(
            format!("did not serve within {START_DEADLINE:?}"),
            self.log.clone(),
        ))
    }

    /// Stops it (SIGKILL: it holds no state worth a clean exit).
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// A disk policy store, no audit log, no telemetry, TLS with client certificates required
/// from the CA of the suite.
fn config_yaml(
    grpc_listen: SocketAddr,
    http_listen: SocketAddr,
    certs: &devcerts::CertPaths,
    policies: &Path,
) -> String {
    format!(
        "server:\n  httpListenAddr: \"{http_listen}\"\n  grpcListenAddr: \"{grpc_listen}\"\n  \
         tls:\n    cert: \"{cert}\"\n    key: \"{key}\"\n    caCert: \"{ca}\"\n\
         storage:\n  driver: disk\n  disk:\n    directory: \"{policies}\"\n    watchForChanges: false\n\
         audit:\n  enabled: false\n\
         telemetry:\n  disabled: true\n",
        cert = certs.cert.display(),
        key = certs.key.display(),
        ca = certs.ca.display(),
        policies = policies.display(),
    )
}
