//! The results as Markdown: one row per target (throughput, latency, CPU per call of each
//! server process, each against the no-op RPC of the same server), then the ratios the issue
//! sets targets for.

use std::fmt::Write;

use super::rounds::{Measured, Results};

/// One figure of a target, for a ratio.
type Measure = fn(&Figures) -> f64;

/// Figures of one target derived from its totals.
struct Figures {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    cpu_us: Vec<f64>,
}

impl Figures {
    fn of(results: &Results, measured: &Measured) -> Self {
        let outcome = &measured.outcome;
        let seconds = outcome.elapsed.as_secs_f64().max(f64::EPSILON);
        let calls = outcome.calls.max(1) as f64;
        let per_tick_us = 1e6 / results.ticks_per_second as f64;
        Self {
            per_second: outcome.calls as f64 / seconds,
            p50_ms: outcome.latency_us.value_at_quantile(0.50) as f64 / 1e3,
            p99_ms: outcome.latency_us.value_at_quantile(0.99) as f64 / 1e3,
            cpu_us: measured
                .cpu_ticks
                .iter()
                .map(|t| *t as f64 * per_tick_us / calls)
                .collect(),
        }
    }

    fn cpu_total(&self) -> f64 {
        self.cpu_us.iter().sum()
    }
}

/// The table and the ratios.
pub fn markdown(results: &Results) -> String {
    let figures: Vec<Figures> = results
        .targets
        .iter()
        .map(|m| Figures::of(results, m))
        .collect();
    let find = |name: &str| {
        results
            .targets
            .iter()
            .position(|m| m.target.name == name)
            .map(|i| &figures[i])
    };
    let mut out = String::new();
    let plan = &results.plan;
    let _ = writeln!(
        out,
        "{} rounds of {} s per target, {} s warm-up, {} requests in flight; CPU in µs per call",
        plan.rounds,
        plan.seconds.as_secs_f64(),
        plan.warmup.as_secs_f64(),
        plan.in_flight
    );
    let _ = writeln!(out);
    let mut header = String::from("| target | req/s | × no-op | p50 ms | p99 ms | p99 × no-op |");
    let mut rule = String::from("|---|---:|---:|---:|---:|---:|");
    for process in &results.processes {
        let _ = write!(header, " {} |", process.name);
        rule.push_str("---:|");
    }
    header.push_str(" CPU total | CPU × no-op | wrong | errors |");
    rule.push_str("---:|---:|---:|---:|");
    let _ = writeln!(out, "{header}\n{rule}");
    for (measured, figure) in results.targets.iter().zip(&figures) {
        let noop = find(measured.target.server.noop());
        let ratio = |f: fn(&Figures) -> f64| {
            noop.map(|n| format!("{:.3}", f(figure) / f(n).max(f64::EPSILON)))
                .unwrap_or_default()
        };
        let mut row = format!(
            "| {} | {:.0} | {} | {:.2} | {:.2} | {} |",
            measured.target.name,
            figure.per_second,
            ratio(|f| f.per_second),
            figure.p50_ms,
            figure.p99_ms,
            ratio(|f| f.p99_ms),
        );
        for cpu in &figure.cpu_us {
            let _ = write!(row, " {cpu:.1} |");
        }
        let _ = write!(
            row,
            " {:.1} | {} | {} | {} |",
            figure.cpu_total(),
            ratio(Figures::cpu_total),
            measured.outcome.wrong,
            measured.outcome.errors
        );
        let _ = writeln!(out, "{row}");
    }
    let _ = writeln!(out);
    let ratios: [(&str, &str, &str, Measure); 8] = [
        (
            "gateway GetRoom / gateway no-op, throughput",
            "get-room",
            "gateway-noop",
            |f| f.per_second,
        ),
        (
            "gateway GetRoom / gateway no-op, CPU per call (all processes)",
            "get-room",
            "gateway-noop",
            Figures::cpu_total,
        ),
        (
            "gateway GetRoom / gateway no-op, p99",
            "get-room",
            "gateway-noop",
            |f| f.p99_ms,
        ),
        (
            "Check / rbac-svc no-op, throughput",
            "check",
            "rbac-noop",
            |f| f.per_second,
        ),
        (
            "Check / Cerbos 1 room, throughput",
            "check",
            "cerbos-1",
            |f| f.per_second,
        ),
        (
            "BatchCheck 1×3 / Cerbos 1×3, throughput",
            "batch-1x3",
            "cerbos-1x3",
            |f| f.per_second,
        ),
        (
            "BatchCheck 10 / Cerbos 10, throughput",
            "batch-10",
            "cerbos-10",
            |f| f.per_second,
        ),
        (
            "BatchCheck 10×3 / Cerbos 10×3, throughput",
            "batch-10x3",
            "cerbos-10x3",
            |f| f.per_second,
        ),
    ];
    let _ = writeln!(out, "| ratio | value |\n|---|---:|");
    for (label, numerator, denominator, figure) in ratios {
        let value = match (find(numerator), find(denominator)) {
            (Some(n), Some(d)) => format!("{:.3}", figure(n) / figure(d).max(f64::EPSILON)),
            _ => "not measured".to_owned(),
        };
        let _ = writeln!(out, "| {label} | {value} |");
    }
    out
}

/// Whether every answer of every target was the verified one.
pub fn all_answers_verified(results: &Results) -> bool {
    results
        .targets
        .iter()
        .all(|m| m.outcome.wrong == 0 && m.outcome.errors == 0)
}
