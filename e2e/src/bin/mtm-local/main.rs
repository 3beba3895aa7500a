//! `mtm-local`: runs the whole MTM suite on this machine: the four backends and the gateway as
//! separate processes, mTLS between them, development certificates minted on first run. On
//! first run it also builds the demo world through the public API (see `mtm_e2e::demo`), then
//! prints the gateway address and grpcurl commands to paste. It supervises the services: one
//! that exits is started again on its addresses while the others keep serving
//! (`mtm-local status` shows them). Ctrl-C stops everything.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mtm_e2e::demo::{self, Seeded};
use mtm_e2e::{Suite, SuiteOptions, ensure_built};

mod howto;

/// Runs the whole MTM suite locally.
#[derive(Debug, Parser)]
#[command(name = "mtm-local", version, about)]
struct Args {
    /// Something other than running the suite.
    #[command(subcommand)]
    command: Option<Command>,

    /// Directory for certificates, stores, logs and run files.
    #[arg(long, env = "MTM_LOCAL_DIR", default_value = ".mtm-local")]
    data_dir: PathBuf,

    /// Where the gateway listens.
    #[arg(long, env = "MTM_LOCAL_GATEWAY", default_value = "127.0.0.1:8443")]
    gateway_listen: SocketAddr,

    /// Leaves the world empty besides identity-svc's demo directories: no tenants registered,
    /// no partner enrolled, no rooms (for clients that play the story themselves).
    #[arg(long)]
    no_demo: bool,
}

/// Commands besides running the suite.
#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Mints a development CA and a certificate for every service into DIR (`ca.pem`,
    /// `<service>.pem`, `<service>-key.pem`), unless they are all there already.
    MintCerts {
        /// Where the certificates go.
        dir: PathBuf,
    },
    /// Shows each service of the suite in the data directory: its address, process id, health,
    /// restarts and log.
    Status,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match &args.command {
        Some(Command::MintCerts { dir }) => return mint_certs(dir),
        Some(Command::Status) => return status(&args.data_dir).await,
        None => {}
    }
    let data_dir = match std::path::absolute(&args.data_dir) {
        Ok(dir) => dir,
        Err(error) => {
            eprintln!("mtm-local: {}: {error}", args.data_dir.display());
            return ExitCode::FAILURE;
        }
    };
    eprintln!("mtm-local: building the service binaries");
    let bin_dir = match ensure_built() {
        Ok(dir) => dir,
        Err(error) => {
            eprintln!("mtm-local: {error}");
            return ExitCode::FAILURE;
        }
    };
    let options = SuiteOptions::new(data_dir.clone(), args.gateway_listen, bin_dir);
    let mut suite = match Suite::start(&options).await {
        Ok(suite) => suite,
        Err(error) => {
            eprintln!("mtm-local: the suite did not start: {error}");
            return ExitCode::FAILURE;
        }
    };
    if !args.no_demo && !seed_demo(&suite).await {
        eprintln!("mtm-local: stopping");
        suite.stop().await;
        return ExitCode::FAILURE;
    }
    println!(
        "MTM is running: gateway on {} (TLS, CA certificate {})",
        suite.gateway_addr,
        suite.ca_file.display()
    );
    println!("logs: {}", data_dir.join("logs").display());
    print!(
        "{}",
        howto::grpcurl_examples(
            &suite.ca_file,
            suite.gateway_addr,
            &suite.operator_password_file
        )
    );
    println!(
        "A service that exits is restarted on its address; `cargo run --bin mtm-local -- status` shows them all."
    );
    println!("Press Ctrl-C to stop.");

    tokio::select! {
        () = stop_requested() => {}
        () = suite.supervise(|line| eprintln!("mtm-local: {line}")) => {}
    }
    eprintln!("mtm-local: stopping");
    let unclean = suite.stop().await;
    for problem in &unclean {
        eprintln!("mtm-local: {problem}");
    }
    if unclean.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Prints the state of the suite in `data_dir`; fails when there is none or it is not running.
async fn status(data_dir: &std::path::Path) -> ExitCode {
    match mtm_e2e::status::report(data_dir).await {
        Ok(report) => {
            print!("{}", report.render());
            if report.supervisor.1 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("mtm-local: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Builds the demo world unless it is there; false when that failed.
async fn seed_demo(suite: &Suite) -> bool {
    let channel = match suite.gateway_channel().await {
        Ok(channel) => channel,
        Err(error) => {
            eprintln!("mtm-local: {error}");
            return false;
        }
    };
    match demo::seed(channel, &suite.operator_password_file).await {
        Ok(Seeded::AlreadyThere) => {
            eprintln!("mtm-local: the demo world is already there");
            true
        }
        Ok(Seeded::Built { rooms, tickets }) => {
            eprintln!("mtm-local: built the demo world ({rooms} rooms, {tickets} incidents)");
            true
        }
        Err(error) => {
            eprintln!(
                "mtm-local: building the demo world failed: {error}; delete the data directory to start over"
            );
            false
        }
    }
}

fn mint_certs(dir: &std::path::Path) -> ExitCode {
    match mtm_plumbing::devcerts::ensure(dir, &mtm_plumbing::devcerts::SERVICES) {
        Ok(true) => {
            println!(
                "minted a CA and certificates for {} in {}",
                mtm_plumbing::devcerts::SERVICES.join(", "),
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Ok(false) => {
            println!(
                "{} already holds a complete set of certificates",
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("mtm-local: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn stop_requested() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
