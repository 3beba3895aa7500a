//! `mtm-local status`: each service of a suite with its address, process id, health and log,
//! from the state file the supervisor keeps and a live `grpc.health.v1` check of each
//! service's plaintext health listener.

use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

use nix::sys::signal::kill;
use nix::unistd::Pid;
use tonic::transport::Endpoint;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::state::{Phase, SuiteState, state_file};

/// How long a health check may take.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

/// One service's line of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceStatus {
    /// What the supervisor last recorded.
    pub recorded: crate::state::ServiceState,
    /// The health check's answer: `SERVING`, `NOT_SERVING`, or why there was none.
    pub health: String,
}

/// The suite in `data_dir`: whether its supervisor runs, and each service's status.
#[derive(Clone, Debug)]
pub struct Report {
    /// The supervisor's process id and whether it still runs.
    pub supervisor: (u32, bool),
    /// The services in start order, the gateway last.
    pub services: Vec<ServiceStatus>,
}

/// Reads the state of the suite in `data_dir` and checks each service's health.
pub async fn report(data_dir: &Path) -> Result<Report, String> {
    let file = state_file(data_dir);
    let state = SuiteState::read(&file).map_err(|error| {
        format!(
            "no suite state in {} ({error}); has mtm-local run with this data directory?",
            file.display()
        )
    })?;
    let supervisor = (state.supervisor_pid, alive(state.supervisor_pid));
    let mut services = Vec::new();
    for recorded in state.services {
        let health = if supervisor.1 && recorded.phase != Phase::Stopped {
            health(recorded.health_address).await
        } else {
            "-".to_owned()
        };
        services.push(ServiceStatus { recorded, health });
    }
    Ok(Report {
        supervisor,
        services,
    })
}

impl Report {
    /// The report as a table.
    pub fn render(&self) -> String {
        let (pid, running) = self.supervisor;
        let mut out = if running {
            format!("mtm-local is running (pid {pid})\n")
        } else {
            format!("mtm-local is not running (it was pid {pid}); the last recorded state:\n")
        };
        let _ = writeln!(
            out,
            "{:<13} {:<21} {:<8} {:<11} {:<12} {:<8} log",
            "service", "address", "pid", "health", "state", "restarts"
        );
        for service in &self.services {
            let recorded = &service.recorded;
            let pid = recorded.pid.map_or("-".to_owned(), |pid| pid.to_string());
            let phase = match recorded.phase {
                Phase::Running => "running",
                Phase::Restarting => "restarting",
                Phase::Stopped => "stopped",
            };
            let _ = writeln!(
                out,
                "{:<13} {:<21} {:<8} {:<11} {:<12} {:<8} {}",
                recorded.name,
                recorded.address,
                pid,
                service.health,
                phase,
                recorded.restarts,
                recorded.log.display()
            );
        }
        out
    }
}

/// Whether a process with this id exists.
fn alive(pid: u32) -> bool {
    i32::try_from(pid).is_ok_and(|pid| kill(Pid::from_raw(pid), None).is_ok())
}

/// The overall health a plaintext `grpc.health.v1` listener reports.
async fn health(addr: std::net::SocketAddr) -> String {
    let check = async {
        let channel = Endpoint::from_shared(format!("http://{addr}"))
            .map_err(|e| e.to_string())?
            .connect()
            .await
            .map_err(|_| "unreachable".to_owned())?;
        let answer = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .map_err(|status| format!("{:?}", status.code()))?;
        Ok::<_, String>(answer.into_inner().status().as_str_name().to_owned())
    };
    match tokio::time::timeout(HEALTH_TIMEOUT, check).await {
        Ok(Ok(status)) | Ok(Err(status)) => status,
        Err(_) => "no answer".to_owned(),
    }
}
