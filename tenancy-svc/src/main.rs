//! The `tenancy-svc` binary: parses flags and environment, then serves.

use clap::Parser;
use tenancy_svc::{Config, DEFAULT_PORT, SERVICE_NAME, serve};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = Config::parse();
    let settings = config.backend.server.clone();
    mtm_plumbing::server::run_main(
        SERVICE_NAME,
        &settings,
        DEFAULT_PORT,
        |listener, health, shutdown| serve(config, listener, health, shutdown),
    )
    .await
}
