//! Progress of `rooms-svc migrate`: counts of stores done, migrated, failed; a line redrawn in
//! place when standard error is a terminal, a log line every interval, each failure logged
//! as it happens, and a summary with every store that could not be migrated at the end.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::names::CustomerId;
use crate::store::schema::Outcome;

/// How often the terminal line is redrawn.
const REDRAW: Duration = Duration::from_millis(250);

/// Counts of a run, shared by its workers and its reporter.
#[derive(Debug)]
pub struct Progress {
    started: Instant,
    state: Mutex<State>,
    finished: Notify,
}

#[derive(Debug, Default)]
struct State {
    summary: Summary,
    /// Failures not yet logged.
    unreported: Vec<(CustomerId, String)>,
    done: bool,
}

/// What a run did, store by store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Stores listed.
    pub total: usize,
    /// Stores migrated by this run.
    pub migrated: usize,
    /// Stores already at this binary's version.
    pub current: usize,
    /// Stores at a newer version that this binary serves, left unchanged.
    pub newer: usize,
    /// Stores deleted before their turn came.
    pub gone: usize,
    /// Stores that could not be migrated, with why.
    pub failed: Vec<(CustomerId, String)>,
}

impl Summary {
    /// Stores dealt with so far.
    pub fn done(&self) -> usize {
        self.migrated + self.current + self.newer + self.gone + self.failed.len()
    }

    /// Every store was dealt with and none failed.
    pub fn complete(&self) -> bool {
        self.failed.is_empty() && self.done() == self.total
    }
}

impl Progress {
    /// Progress of a run over `total` stores, starting now.
    pub fn new(total: usize) -> Self {
        Self {
            started: Instant::now(),
            state: Mutex::new(State {
                summary: Summary {
                    total,
                    ..Summary::default()
                },
                ..State::default()
            }),
            finished: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts one store's result.
    pub fn record(&self, customer: &CustomerId, result: Result<Option<Outcome>, String>) {
        let mut state = self.lock();
        let summary = &mut state.summary;
        match result {
            Ok(Some(Outcome::Migrated { .. })) => summary.migrated += 1,
            Ok(Some(Outcome::Current)) => summary.current += 1,
            Ok(Some(Outcome::Newer { .. })) => summary.newer += 1,
            Ok(None) => summary.gone += 1,
            Err(error) => {
                summary.failed.push((customer.clone(), error.clone()));
                state.unreported.push((customer.clone(), error));
            }
        }
    }

    /// Marks the run over: the reporter writes its last lines and ends.
    pub fn finish(&self) {
        self.lock().done = true;
        self.finished.notify_one();
    }

    /// The counts so far.
    pub fn summary(&self) -> Summary {
        self.lock().summary.clone()
    }
}

/// Stores per second and the time left at that rate.
fn pace(summary: &Summary, elapsed: Duration) -> (f64, Option<Duration>) {
    let done = summary.done();
    let seconds = elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        done as f64 / seconds
    } else {
        0.0
    };
    let left = (rate > 0.0)
        .then(|| Duration::from_secs_f64((summary.total.saturating_sub(done)) as f64 / rate));
    (rate, left)
}

/// `1h02m03s`-style duration.
fn clock(duration: Duration) -> String {
    let secs = duration.as_secs();
    match (secs / 3600, secs / 60 % 60, secs % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s:02}s"),
        (h, m, s) => format!("{h}h{m:02}m{s:02}s"),
    }
}

/// The one-line progress of a terminal.
fn line(summary: &Summary, elapsed: Duration) -> String {
    let (rate, left) = pace(summary, elapsed);
    let percent = if summary.total == 0 {
        100.0
    } else {
        summary.done() as f64 * 100.0 / summary.total as f64
    };
    format!(
        "{}/{} stores ({percent:.0}%), {} migrated, {} failed, {rate:.1}/s, {} left",
        summary.done(),
        summary.total,
        summary.migrated,
        summary.failed.len(),
        left.map_or_else(|| "?".to_owned(), clock)
    )
}

fn log_progress(summary: &Summary, elapsed: Duration) {
    let (rate, left) = pace(summary, elapsed);
    tracing::info!(
        done = summary.done(),
        total = summary.total,
        migrated = summary.migrated,
        current = summary.current,
        failed = summary.failed.len(),
        rate = format!("{rate:.1}/s"),
        left = left.map_or_else(|| "?".to_owned(), clock),
        "migration progress"
    );
}

/// Writes the progress until the run is finished: a log line every `interval` (and a redrawn
/// line on a terminal), each failure as it comes, then the summary.
pub async fn report(progress: std::sync::Arc<Progress>, interval: Duration) {
    let terminal = std::io::stderr().is_terminal();
    let tick = if terminal { REDRAW } else { interval };
    let mut last_log = Instant::now();
    loop {
        let finished = tokio::select! {
            () = progress.finished.notified() => true,
            () = tokio::time::sleep(tick) => false,
        };
        let (summary, failures, done) = {
            let mut state = progress.lock();
            (
                state.summary.clone(),
                std::mem::take(&mut state.unreported),
                state.done || finished,
            )
        };
        if terminal {
            eprint!("\r\x1b[2K");
        }
        for (customer, error) in &failures {
            tracing::warn!(customer = %customer, %error, "a store could not be migrated");
        }
        let elapsed = progress.started.elapsed();
        if done || last_log.elapsed() >= interval {
            log_progress(&summary, elapsed);
            last_log = Instant::now();
        }
        if done {
            summarize(&summary, elapsed);
            return;
        }
        if terminal {
            eprint!("{}", line(&summary, elapsed));
            let _ = std::io::stderr().flush();
        }
    }
}

fn summarize(summary: &Summary, elapsed: Duration) {
    for (customer, error) in &summary.failed {
        tracing::error!(customer = %customer, %error, "not migrated");
    }
    let not_attempted = summary.total - summary.done();
    tracing::info!(
        total = summary.total,
        migrated = summary.migrated,
        current = summary.current,
        newer = summary.newer,
        gone = summary.gone,
        failed = summary.failed.len(),
        not_attempted,
        took = clock(elapsed),
        "migration finished"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_done_failures_rate_and_time_left() {
        let id = CustomerId::new("contoso").expect("id");
        let summary = Summary {
            total: 100,
            migrated: 30,
            current: 10,
            failed: vec![(id, "broken".into())],
            ..Summary::default()
        };
        assert_eq!(
            line(&summary, Duration::from_secs(41)),
            "41/100 stores (41%), 30 migrated, 1 failed, 1.0/s, 59s left"
        );
        assert_eq!(clock(Duration::from_secs(3723)), "1h02m03s");
        assert!(!summary.complete());
    }
}
