//! A whole load run: every target verified once, warmed up, then timed in interleaved rounds
//! (each round runs every target once, starting one target later than the round before), with
//! each server process's CPU time read before and after every timed run.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tonic::transport::Channel;

use super::cpu::{self, Process};
use super::driver::{self, Outcome};
use super::targets::{Server, Target};

/// How long and how hard to run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Timed rounds.
    pub rounds: usize,
    /// Length of one target's run in a round.
    pub seconds: Duration,
    /// Untimed run of each target before the rounds.
    pub warmup: Duration,
    /// Requests in flight.
    pub in_flight: usize,
}

/// One target's totals over all rounds.
pub struct Measured {
    /// The target.
    pub target: Arc<Target>,
    /// Calls, problems and latencies over every round (warm-up problems included).
    pub outcome: Outcome,
    /// CPU clock ticks used by each process (in the order of [`Results::processes`]) while
    /// the target ran.
    pub cpu_ticks: Vec<u64>,
}

/// The whole run.
pub struct Results {
    /// The plan it followed.
    pub plan: Plan,
    /// The server processes whose CPU was read.
    pub processes: Vec<Process>,
    /// Clock ticks per second of the CPU times.
    pub ticks_per_second: u64,
    /// Per target, in the order given.
    pub targets: Vec<Measured>,
}

/// Verifies, warms up and times `targets` on their servers' `channels`, reading the CPU time of
/// `processes`; `progress` hears about each step.
pub async fn run(
    targets: Vec<Target>,
    channels: &HashMap<Server, Vec<Channel>>,
    processes: Vec<Process>,
    plan: Plan,
    mut progress: impl FnMut(String),
) -> Result<Results, String> {
    let ticks_per_second = cpu::ticks_per_second().map_err(|e| e.to_string())?;
    let on = |target: &Target| -> Result<&[Channel], String> {
        channels
            .get(&target.server)
            .filter(|c| !c.is_empty())
            .map(Vec::as_slice)
            .ok_or_else(|| format!("no connection for {}", target.name))
    };
    for target in &targets {
        driver::verify(target, &on(target)?[0]).await?;
    }
    progress(format!("verified the answers of {} targets", targets.len()));
    let mut measured: Vec<Measured> = targets
        .into_iter()
        .map(|target| Measured {
            target: Arc::new(target),
            outcome: Outcome::empty(),
            cpu_ticks: vec![0; processes.len()],
        })
        .collect();
    if !plan.warmup.is_zero() {
        for entry in &mut measured {
            let warm = driver::run(
                &entry.target,
                on(&entry.target)?,
                plan.in_flight,
                plan.warmup,
            )
            .await;
            entry.outcome.errors += warm.errors;
            entry.outcome.wrong += warm.wrong;
            entry.outcome.first_problem = entry.outcome.first_problem.take().or(warm.first_problem);
        }
        progress("warmed up".to_owned());
    }
    let count = measured.len();
    for round in 0..plan.rounds {
        for offset in 0..count {
            let entry = &mut measured[(round + offset) % count];
            let before = sample(&processes)?;
            let outcome = driver::run(
                &entry.target,
                on(&entry.target)?,
                plan.in_flight,
                plan.seconds,
            )
            .await;
            let after = sample(&processes)?;
            for (i, (a, b)) in after.iter().zip(&before).enumerate() {
                entry.cpu_ticks[i] += a.saturating_sub(*b);
            }
            entry.outcome.merge(outcome);
        }
        progress(format!("round {} of {} done", round + 1, plan.rounds));
    }
    Ok(Results {
        plan,
        processes,
        ticks_per_second,
        targets: measured,
    })
}

fn sample(processes: &[Process]) -> Result<Vec<u64>, String> {
    processes
        .iter()
        .map(|p| cpu::ticks(p.pid).map_err(|e| format!("{}: {e}", p.name)))
        .collect()
}
