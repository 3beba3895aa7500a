//! `mtm-local`: runs the whole MTM suite on this machine: the four backends and the gateway as
//! separate processes, mTLS between them, development certificates minted on first run, then
//! prints the gateway address and a grpcurl command to try. Ctrl-C stops everything.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mtm_e2e::{Suite, SuiteOptions, ensure_built};

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
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(Command::MintCerts { dir }) = &args.command {
        return mint_certs(dir);
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
    let options = SuiteOptions {
        data_dir: data_dir.clone(),
        gateway_listen: args.gateway_listen,
        bin_dir,
        env: Vec::new(),
    };
    let mut suite = match Suite::start(&options).await {
        Ok(suite) => suite,
        Err(error) => {
            eprintln!("mtm-local: the suite did not start: {error}");
            return ExitCode::FAILURE;
        }
    };
    let ca = suite.ca_file.display().to_string();
    let gateway = suite.gateway_addr;
    println!("MTM is running: gateway on {gateway} (TLS, CA certificate {ca})");
    println!("logs: {}", data_dir.join("logs").display());
    println!("List the public services:");
    println!("  grpcurl -cacert {ca} {gateway} list");
    println!("Ask the gateway whether every backend is serving:");
    println!("  grpcurl -cacert {ca} {gateway} mtm.gateway.v1.StatusService/GetStatus");
    println!("Sign in as a demo user (every demo password is mtm-demo-password):");
    println!(
        "  grpcurl -cacert {ca} -d '{{\"upn\":\"admin@fabrikam.com\",\"password\":\"mtm-demo-password\"}}' {gateway} mtm.identity.v1.AuthService/SignIn"
    );
    println!(
        "The operator signs in as \"operator\" with the password in {}",
        suite.operator_password_file.display()
    );
    println!("Press Ctrl-C to stop.");

    let failure = tokio::select! {
        () = stop_requested() => None,
        error = suite.wait_for_exit() => Some(error),
    };
    if let Some(error) = &failure {
        eprintln!("mtm-local: {error}");
    }
    eprintln!("mtm-local: stopping");
    let unclean = suite.stop().await;
    for problem in &unclean {
        eprintln!("mtm-local: {problem}");
    }
    if failure.is_none() && unclean.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
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
