//! One timed run of one target: `in_flight` callers spread over the server's connections, each
//! sending its next request as soon as the last is answered, until the time is up. Latencies go
//! into an HDR histogram; every answer is checked, and errors and wrong answers are counted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tonic::transport::Channel;

use super::targets::{Problem, Target};

/// What one run of a target measured.
pub struct Outcome {
    /// Calls answered correctly.
    pub calls: u64,
    /// Calls answered with an error status.
    pub errors: u64,
    /// Calls answered, but not with the verified answer.
    pub wrong: u64,
    /// The first problem seen, if any.
    pub first_problem: Option<String>,
    /// Latency of the correct answers, in microseconds.
    pub latency_us: Histogram<u64>,
    /// How long the run took.
    pub elapsed: Duration,
}

impl Outcome {
    /// Nothing measured yet, to merge runs into.
    pub fn empty() -> Self {
        Self {
            calls: 0,
            errors: 0,
            wrong: 0,
            first_problem: None,
            latency_us: new_histogram(),
            elapsed: Duration::ZERO,
        }
    }

    /// Adds another outcome's counts and latencies.
    pub fn merge(&mut self, other: Outcome) {
        self.calls += other.calls;
        self.errors += other.errors;
        self.wrong += other.wrong;
        if self.first_problem.is_none() {
            self.first_problem = other.first_problem;
        }
        let _ = self.latency_us.add(&other.latency_us);
        self.elapsed += other.elapsed;
    }
}

/// An empty latency histogram (microseconds, three significant figures, growing as needed).
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new(3).expect("three significant figures are valid")
}

/// Runs `target` for `duration` with `in_flight` callers over `channels` (caller `i` uses
/// connection `i % channels.len()`).
pub async fn run(
    target: &Arc<Target>,
    channels: &[Channel],
    in_flight: usize,
    duration: Duration,
) -> Outcome {
    let start = Instant::now();
    let deadline = start + duration;
    let callers: Vec<_> = (0..in_flight.max(1))
        .map(|i| {
            let target = Arc::clone(target);
            let channel = channels[i % channels.len()].clone();
            tokio::spawn(caller(target, channel, i, in_flight.max(1), deadline))
        })
        .collect();
    let mut outcome = Outcome::empty();
    for caller in callers {
        match caller.await {
            Ok(part) => outcome.merge(part),
            Err(panic) => {
                outcome.errors += 1;
                outcome
                    .first_problem
                    .get_or_insert_with(|| format!("a caller failed: {panic}"));
            }
        }
    }
    outcome.elapsed = start.elapsed();
    outcome
}

/// Sends requests `first`, `first + step`, ... of the rotation until `deadline`.
async fn caller(
    target: Arc<Target>,
    channel: Channel,
    first: usize,
    step: usize,
    deadline: Instant,
) -> Outcome {
    let mut outcome = Outcome::empty();
    let mut seq = first;
    while Instant::now() < deadline {
        let sent = Instant::now();
        let answer = target.call(channel.clone(), seq).await;
        let took = sent.elapsed();
        match answer {
            Ok(()) => {
                outcome.calls += 1;
                let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
                outcome.latency_us.saturating_record(micros.max(1));
            }
            Err(problem) => {
                match problem {
                    Problem::Error(_) => outcome.errors += 1,
                    Problem::Wrong(_) => outcome.wrong += 1,
                }
                outcome
                    .first_problem
                    .get_or_insert_with(|| format!("{}: {problem}", target.name));
            }
        }
        seq += step;
    }
    outcome
}

/// Sends every request of the rotation once and returns the first problem.
pub async fn verify(target: &Target, channel: &Channel) -> Result<(), String> {
    for seq in 0..target.variants() {
        target
            .call(channel.clone(), seq)
            .await
            .map_err(|problem| format!("{} request {seq}: {problem}", target.name))?;
    }
    Ok(())
}
