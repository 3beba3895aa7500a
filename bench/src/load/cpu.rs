//! CPU time of server processes, read from `/proc/<pid>/stat`: user plus system time of every
//! thread, in clock ticks, so a round's CPU per call is the difference before and after it
//! divided by its calls.

use std::fmt;

use nix::unistd::{SysconfVar, sysconf};

/// A server process whose CPU time is sampled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Process {
    /// What it is (`gateway`, `rbac-svc`, `cerbos`, ...).
    pub name: String,
    /// Its process id.
    pub pid: u32,
}

/// Why a process's CPU time could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CpuError {
    /// `/proc/<pid>/stat` could not be read (the process is gone).
    #[error("reading /proc/{pid}/stat: {source}")]
    Read {
        /// The process id.
        pid: u32,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file did not have the documented layout.
    #[error("/proc/{0}/stat has no utime and stime fields")]
    Malformed(u32),
    /// The clock tick rate is unknown.
    #[error("the clock tick rate (CLK_TCK) is unknown")]
    NoClockTick,
}

/// Clock ticks per second of the times in `/proc/<pid>/stat`.
pub fn ticks_per_second() -> Result<u64, CpuError> {
    match sysconf(SysconfVar::CLK_TCK) {
        Ok(Some(ticks)) if ticks > 0 => Ok(ticks.unsigned_abs()),
        _ => Err(CpuError::NoClockTick),
    }
}

/// User plus system time the process has used so far, in clock ticks.
pub fn ticks(pid: u32) -> Result<u64, CpuError> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|source| CpuError::Read { pid, source })?;
    parse_ticks(&stat).ok_or(CpuError::Malformed(pid))
}

/// utime (field 14) plus stime (field 15) of a `stat` line. The command name (field 2) is in
/// parentheses and may itself hold spaces and parentheses, so fields are counted after the
/// last `)`.
fn parse_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

impl fmt::Display for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (pid {})", self.name, self.pid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utime_and_stime_are_counted_after_a_name_with_spaces_and_parentheses() {
        let line = "4242 (tokio (rt) w) S 1 4242 4242 0 -1 4194560 1520 0 0 0 \
                    731 202 0 0 20 0 9 0 123456 1000 200 18446744073709551615";
        assert_eq!(parse_ticks(line), Some(933));
    }

    #[test]
    fn the_running_process_has_used_some_cpu() {
        let me = std::process::id();
        assert!(ticks(me).is_ok());
        assert!(ticks_per_second().expect("CLK_TCK") > 0);
    }
}
