//! Supervision: each service of the suite as a [`Member`] with the configuration it was first
//! started with, pinned to the addresses it bound then, so it can be started again on them; and
//! [`Suite::supervise`], which restarts a service that exits, with a growing delay, while the
//! others keep serving.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::Instant;

use crate::process::{self, Service};
use crate::state::{Phase, ServiceState};
use crate::{START_DEADLINE, Suite, SuiteError};

/// How often the supervisor looks at its services.
const POLL: Duration = Duration::from_millis(200);

/// The delay before the first restart; it doubles with each crash in a row, up to [`MAX_DELAY`].
const FIRST_DELAY: Duration = Duration::from_secs(1);

/// The longest delay between restarts.
const MAX_DELAY: Duration = Duration::from_secs(30);

/// A service that ran this long before it exited counts as a first crash again.
const STABLE_AFTER: Duration = Duration::from_secs(60);

/// The delay before restarting a service that crashed `crashes_in_a_row` times (at least once).
pub fn restart_delay(crashes_in_a_row: u32) -> Duration {
    let doublings = crashes_in_a_row.saturating_sub(1).min(5);
    (FIRST_DELAY * 2u32.pow(doublings)).min(MAX_DELAY)
}

/// A supervised service.
pub struct Member {
    /// Its name.
    pub name: &'static str,
    /// Its environment, listen addresses fixed to where it first bound.
    env: Vec<(String, String)>,
    /// Where it serves gRPC.
    pub addr: SocketAddr,
    /// Where it serves plaintext health checks.
    health_addr: SocketAddr,
    /// Its log file.
    log: PathBuf,
    /// Its process, while one runs.
    process: Option<Service>,
    /// When the current process started.
    started: Instant,
    /// Restarts so far.
    restarts: u32,
    /// Exits since the last process that ran for [`STABLE_AFTER`].
    crashes_in_a_row: u32,
    /// When to start it again, after an exit.
    restart_at: Option<Instant>,
}

impl Member {
    /// Starts `name` with `env` (listening wherever `env` says, port 0 included), waits for the
    /// addresses it binds and pins them in its environment.
    pub async fn launch(
        name: &'static str,
        mut env: Vec<(String, String)>,
        bin_dir: &Path,
        logs: &Path,
        run: &Path,
    ) -> Result<Self, SuiteError> {
        let mut service = Service::spawn(name, bin_dir, logs, env.clone())?;
        let addr = service
            .bound_addr(&process::addr_file(run, name), START_DEADLINE)
            .await;
        let health = service
            .bound_addr(&process::health_addr_file(run, name), START_DEADLINE)
            .await;
        let (addr, health_addr) = match (addr, health) {
            (Ok(addr), Ok(health)) => (addr, health),
            (Err(error), _) | (_, Err(error)) => {
                let _ = service.terminate(Duration::from_secs(5)).await;
                return Err(error);
            }
        };
        pin(&mut env, "MTM_LISTEN", addr);
        pin(&mut env, "MTM_HEALTH_LISTEN", health_addr);
        Ok(Self {
            name,
            env,
            addr,
            health_addr,
            log: logs.join(format!("{name}.log")),
            process: Some(service),
            started: Instant::now(),
            restarts: 0,
            crashes_in_a_row: 0,
            restart_at: None,
        })
    }

    /// Its process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().and_then(Service::pid)
    }

    /// An error if its process has exited.
    pub fn check_running(&mut self) -> Result<(), SuiteError> {
        match &mut self.process {
            Some(service) => service.check_running(),
            None => Err(SuiteError::Service {
                service: self.name,
                problem: "is not running".to_owned(),
                log: self.log.clone(),
            }),
        }
    }

    /// Starts it again with its pinned configuration and waits until it listens.
    pub async fn respawn(&mut self, bin_dir: &Path, logs: &Path) -> Result<(), SuiteError> {
        let mut service = Service::spawn(self.name, bin_dir, logs, self.env.clone())?;
        let file = self
            .env
            .iter()
            .find(|(key, _)| key == "MTM_HEALTH_BOUND_ADDR_FILE")
            .map(|(_, file)| PathBuf::from(file));
        let listening = match file {
            Some(file) => service.bound_addr(&file, START_DEADLINE).await.map(drop),
            None => Ok(()),
        };
        self.process = Some(service);
        self.started = Instant::now();
        listening
    }

    /// Stops its process (SIGTERM, then SIGKILL after `grace`), if one runs.
    pub async fn terminate(&mut self, grace: Duration) -> Result<(), String> {
        self.restart_at = None;
        match self.process.take() {
            Some(service) => service.terminate(grace).await,
            None => Ok(()),
        }
    }

    /// What the state file records about it.
    pub fn state(&self) -> ServiceState {
        let phase = match (&self.process, self.restart_at) {
            (Some(_), _) => Phase::Running,
            (None, Some(_)) => Phase::Restarting,
            (None, None) => Phase::Stopped,
        };
        ServiceState {
            name: self.name.to_owned(),
            address: self.addr,
            health_address: self.health_addr,
            pid: self.pid(),
            log: self.log.clone(),
            phase,
            restarts: self.restarts,
        }
    }

    /// If its process has exited: forgets it, schedules a restart and says so.
    fn notice_exit(&mut self) -> Option<String> {
        let status = self.process.as_mut()?.exit_status()?;
        self.process = None;
        if self.started.elapsed() >= STABLE_AFTER {
            self.crashes_in_a_row = 0;
        }
        self.crashes_in_a_row += 1;
        let delay = restart_delay(self.crashes_in_a_row);
        self.restart_at = Some(Instant::now() + delay);
        Some(format!(
            "{} exited ({status}); restarting it on {} in {} s (crash {} in a row); its log is {}",
            self.name,
            self.addr,
            delay.as_secs(),
            self.crashes_in_a_row,
            self.log.display()
        ))
    }
}

/// Sets `key` to `addr` in `env`.
fn pin(env: &mut Vec<(String, String)>, key: &str, addr: SocketAddr) {
    env.retain(|(name, _)| name != key);
    env.push((key.to_owned(), addr.to_string()));
}

impl Suite {
    /// Watches the services until the future is dropped: a service that exits is started again
    /// on the same addresses after a delay (1 s, doubling with each crash in a row up to 30 s),
    /// while the others keep serving. Each exit and restart is reported through `log` and
    /// recorded in the state file.
    pub async fn supervise(&mut self, mut log: impl FnMut(String)) {
        loop {
            let mut changed = false;
            for member in &mut self.members {
                if let Some(line) = member.notice_exit() {
                    log(line);
                    changed = true;
                }
            }
            for member in &mut self.members {
                if member.restart_at.is_none_or(|at| at > Instant::now()) {
                    continue;
                }
                member.restart_at = None;
                member.restarts += 1;
                match member.respawn(&self.bin_dir, &self.logs).await {
                    Ok(()) => log(format!(
                        "{} restarted on {} (pid {}, restart {})",
                        member.name,
                        member.addr,
                        member.pid().map_or("?".to_owned(), |pid| pid.to_string()),
                        member.restarts
                    )),
                    Err(error) => {
                        log(format!("restarting {} failed: {error}", member.name));
                        if member.process.is_none() {
                            member.crashes_in_a_row += 1;
                            member.restart_at =
                                Some(Instant::now() + restart_delay(member.crashes_in_a_row));
                        }
                    }
                }
                changed = true;
            }
            if changed {
                self.write_state();
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_restart_delay_doubles_from_one_second_up_to_thirty() {
        let delays: Vec<u64> = (1..=8).map(|n| restart_delay(n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30, 30]);
    }
}
