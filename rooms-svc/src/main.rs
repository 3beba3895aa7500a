//! The `rooms-svc` binary: `rooms-svc migrate …` migrates every customer store; otherwise it
//! parses flags and environment, then serves.

use clap::Parser;
use rooms_svc::{Config, DEFAULT_PORT, SERVICE_NAME, serve};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    if std::env::args_os()
        .nth(1)
        .is_some_and(|first| first == "migrate")
    {
        return rooms_svc::migrate::main(std::env::args_os().skip(1)).await;
    }
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
