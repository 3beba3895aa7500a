//! `mtm-load`: the load generator. Starts a fresh MTM suite from the service binaries (and
//! Cerbos when `--cerbos` names its binary), verifies every target's answer, runs the targets
//! in interleaved rounds and prints a Markdown table of throughput, latency and CPU per call.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use mtm_bench::load::fixture::{CerbosOptions, FixtureOptions};
use mtm_bench::load::report;
use mtm_bench::load::rounds::Plan;
use mtm_bench::load::run::{LoadOptions, run};

/// Measures the suite under load.
#[derive(Debug, Parser)]
#[command(name = "mtm-load", version, about)]
struct Args {
    /// Timed rounds; each runs every target once.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Seconds each target runs in a round.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Seconds each target runs untimed before the rounds.
    #[arg(long, default_value_t = 2.0)]
    warmup_seconds: f64,
    /// Requests in flight.
    #[arg(long, default_value_t = 64)]
    in_flight: usize,
    /// Connections to each server.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Only these targets (comma-separated; all by default).
    #[arg(long, value_delimiter = ',')]
    targets: Vec<String>,
    /// The Cerbos binary (`bench/cerbos/fetch.sh` fetches it and prints its path); without
    /// it the Cerbos targets are left out.
    #[arg(long)]
    cerbos: Option<PathBuf>,
    /// Where Cerbos serves gRPC.
    #[arg(long, default_value = "127.0.0.1:3593")]
    cerbos_grpc_listen: SocketAddr,
    /// Where Cerbos serves HTTP.
    #[arg(long, default_value = "127.0.0.1:3592")]
    cerbos_http_listen: SocketAddr,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    eprintln!("mtm-load: building the service binaries");
    let bin_dir = match mtm_e2e::ensure_built() {
        Ok(dir) => dir,
        Err(error) => {
            eprintln!("mtm-load: {error}");
            return ExitCode::FAILURE;
        }
    };
    let options = LoadOptions {
        fixture: FixtureOptions {
            bin_dir,
            connections: args.connections,
            cerbos: args.cerbos.map(|binary| CerbosOptions {
                binary,
                grpc_listen: args.cerbos_grpc_listen,
                http_listen: args.cerbos_http_listen,
            }),
        },
        plan: Plan {
            rounds: args.rounds,
            seconds: Duration::from_secs_f64(args.seconds),
            warmup: Duration::from_secs_f64(args.warmup_seconds),
            in_flight: args.in_flight,
        },
        only: args.targets,
    };
    match run(&options, |step| eprintln!("mtm-load: {step}")).await {
        Ok(results) => {
            print!("{}", report::markdown(&results));
            if report::all_answers_verified(&results) {
                ExitCode::SUCCESS
            } else {
                eprintln!("mtm-load: some answers were errors or not the verified ones");
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("mtm-load: {error}");
            ExitCode::FAILURE
        }
    }
}
