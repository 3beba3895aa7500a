//! The suite's state file, `run/suite.json` under the data directory: the supervisor's process
//! id and, per service, its address, health address, process id, log and state. The supervisor
//! rewrites it on every change; `mtm-local status` reads it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where a suite with data directory `data_dir` keeps its state.
pub fn state_file(data_dir: &Path) -> PathBuf {
    data_dir.join("run").join("suite.json")
}

/// What a service is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Its process runs.
    Running,
    /// Its process exited; the supervisor starts it again after a delay.
    Restarting,
    /// The suite was stopped.
    Stopped,
}

/// One service as the supervisor last saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceState {
    /// The service's name.
    pub name: String,
    /// Where it serves gRPC (mTLS); the gateway's is the public address.
    pub address: SocketAddr,
    /// Where it serves `grpc.health.v1` alone, in plaintext.
    pub health_address: SocketAddr,
    /// Its process id while it runs.
    pub pid: Option<u32>,
    /// Its log file.
    pub log: PathBuf,
    /// What it is doing.
    pub phase: Phase,
    /// How many times the supervisor restarted it.
    pub restarts: u32,
}

/// The whole suite as the supervisor last saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteState {
    /// The supervising process (`mtm-local`, or a test).
    pub supervisor_pid: u32,
    /// The services in start order, the gateway last.
    pub services: Vec<ServiceState>,
}

impl SuiteState {
    /// Writes the state to `path` atomically (a reader never sees half a file).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        let partial = path.with_extension("json.partial");
        std::fs::write(&partial, text)?;
        std::fs::rename(&partial, path)
    }

    /// Reads the state written to `path`.
    pub fn read(path: &Path) -> std::io::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        serde_json::from_str(&text).map_err(std::io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_reads_back_as_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("suite.json");
        let state = SuiteState {
            supervisor_pid: 42,
            services: vec![ServiceState {
                name: "rbac-svc".into(),
                address: "127.0.0.1:4000".parse().expect("addr"),
                health_address: "127.0.0.1:4001".parse().expect("addr"),
                pid: Some(7),
                log: dir.path().join("rbac-svc.log"),
                phase: Phase::Restarting,
                restarts: 2,
            }],
        };
        state.write(&path).expect("written");
        assert_eq!(SuiteState::read(&path).expect("read"), state);
    }
}
