//! One service of the suite as a child process: spawned with its environment, output sent to
//! a log file, its bound addresses read from the files it writes, stopped with SIGTERM.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

use crate::SuiteError;

/// Where a service started on port 0 reports its bound address.
pub fn addr_file(run_dir: &Path, service: &str) -> PathBuf {
    run_dir.join(format!("{service}.addr"))
}

/// Where a service reports the bound address of its plaintext health listener.
pub fn health_addr_file(run_dir: &Path, service: &str) -> PathBuf {
    run_dir.join(format!("{service}.health-addr"))
}

/// The environment variables naming the files a service writes its bound addresses to.
const ADDR_FILE_VARIABLES: [&str; 2] = ["MTM_BOUND_ADDR_FILE", "MTM_HEALTH_BOUND_ADDR_FILE"];

/// A running service process.
pub struct Service {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Service {
    /// Starts `bin_dir/<name>` with `env`, its output appended to `logs_dir/<name>.log`.
    pub fn spawn(
        name: &'static str,
        bin_dir: &Path,
        logs_dir: &Path,
        env: Vec<(String, String)>,
    ) -> Result<Self, SuiteError> {
        let log = logs_dir.join(format!("{name}.log"));
        let io = |context: String| move |source| SuiteError::Io { context, source };
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(io(format!("opening {}", log.display())))?;
        let err = out
            .try_clone()
            .map_err(io(format!("opening {}", log.display())))?;
        for (_, file) in env
            .iter()
            .filter(|(key, _)| ADDR_FILE_VARIABLES.contains(&key.as_str()))
        {
            let _ = std::fs::remove_file(file);
        }
        let binary = bin_dir.join(name);
        let child = Command::new(&binary)
            .envs(env)
            .stdin(std::process::Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true)
            .spawn()
            .map_err(io(format!("starting {}", binary.display())))?;
        Ok(Self { name, child, log })
    }

    /// The service's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The process id, while the process runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    fn failure(&self, problem: String) -> SuiteError {
        SuiteError::Service {
            service: self.name,
            problem,
            log: self.log.clone(),
        }
    }

    /// How the process ended, once it has (`None` while it runs).
    pub fn exit_status(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(None) => None,
            Ok(Some(status)) => Some(status.to_string()),
            Err(error) => Some(format!("cannot be watched: {error}")),
        }
    }

    /// An error if the process has exited.
    pub fn check_running(&mut self) -> Result<(), SuiteError> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(self.failure(format!("exited ({status})"))),
            Err(error) => Err(self.failure(format!("cannot be watched: {error}"))),
        }
    }

    /// Waits for the address the service reports in `file` once it listens.
    pub async fn bound_addr(
        &mut self,
        file: &Path,
        deadline: Duration,
    ) -> Result<SocketAddr, SuiteError> {
        let until = tokio::time::Instant::now() + deadline;
        while tokio::time::Instant::now() < until {
            self.check_running()?;
            if let Ok(text) = std::fs::read_to_string(file) {
                return text
                    .trim()
                    .parse()
                    .map_err(|_| self.failure(format!("reported a malformed address {text:?}")));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Err(self.failure(format!("did not start listening within {deadline:?}")))
    }

    /// Sends SIGTERM and waits up to `grace` for a clean exit, then kills the process.
    pub async fn terminate(mut self, grace: Duration) -> Result<(), String> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Err(format!("{} had already exited ({status})", self.name));
        }
        if let Some(pid) = self.child.id().and_then(|id| i32::try_from(id).ok()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => Err(format!("{} exited with {status}", self.name)),
            Ok(Err(error)) => Err(format!("{}: {error}", self.name)),
            Err(_) => {
                let _ = self.child.kill().await;
                Err(format!(
                    "{} did not stop within {grace:?} and was killed",
                    self.name
                ))
            }
        }
    }
}
