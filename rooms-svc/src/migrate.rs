//! `rooms-svc migrate`: brings every provisioned customer store to this binary's schema
//! version ahead of a rollout (a Kubernetes Job), a bounded number at a time, with progress on
//! a terminal and in the logs. Each store is migrated in transactions and found current by a
//! later run, so a run killed halfway is finished by running it again. A store that cannot be
//! migrated is reported and the others go on; the exit code is non-zero when any failed.

mod progress;

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mtm_plumbing::CancellationToken;
use mtm_plumbing::telemetry::LogFormat;

use crate::StoreArgs;
use crate::locator::Templates;
use crate::names::CustomerId;
use crate::store::schema::{self, Outcome};
pub use progress::{Progress, Summary};

/// Flags of `rooms-svc migrate`, with `MTM_*` environment fallbacks for the store settings.
#[derive(Clone, Debug, clap::Parser)]
#[command(
    name = "rooms-svc migrate",
    bin_name = "rooms-svc migrate",
    version,
    about = "Brings every provisioned customer store to this rooms-svc's schema version, a bounded number at a time. Safe to run again: stores already migrated are skipped, so a run that was killed is finished by the next. Exit code 0 when every store is migrated, 1 when some could not be (each is logged), 2 when the stores cannot be listed."
)]
pub struct MigrateArgs {
    /// Where the customer stores live (as for the service).
    #[command(flatten)]
    pub stores: StoreArgs,

    /// Stores migrated at the same time (each holds one connection).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,

    /// Seconds between progress lines in the log.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub progress_interval_secs: u64,

    /// Log line format on standard error.
    #[arg(long, env = "MTM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// Runs `rooms-svc migrate` with its arguments (the first one naming the command).
pub async fn main<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args = <MigrateArgs as clap::Parser>::parse_from(args);
    let telemetry = match mtm_plumbing::telemetry::init(crate::SERVICE_NAME, args.log_format) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("rooms-svc migrate: {error}");
            return ExitCode::FAILURE;
        }
    };
    let code = match run(&args, mtm_plumbing::server::shutdown_on_signals()).await {
        Ok(summary) if summary.complete() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(message) => {
            tracing::error!(error = %message, "the stores cannot be migrated");
            eprintln!("rooms-svc migrate: {message}");
            ExitCode::from(2)
        }
    };
    telemetry.shutdown().await;
    code
}

/// Migrates every store the flags name; stops taking stores when `stop` is cancelled (the
/// ones under way finish). `Err` when the stores cannot be listed.
pub async fn run(args: &MigrateArgs, stop: CancellationToken) -> Result<Summary, String> {
    let templates = Arc::new(args.stores.templates()?);
    let customers = crate::locator::provisioned(&templates)
        .await
        .map_err(|error| format!("listing the customer stores: {}", error.with_causes()))?;
    tracing::info!(
        stores = customers.len(),
        schema_version = schema::version(),
        concurrency = args.concurrency,
        "migrating the customer stores"
    );
    let progress = Arc::new(Progress::new(customers.len()));
    let reporter = tokio::spawn(progress::report(
        progress.clone(),
        Duration::from_secs(args.progress_interval_secs),
    ));
    let queue = Arc::new(Mutex::new(customers.into_iter()));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency {
        let (queue, templates, progress, stop) = (
            queue.clone(),
            templates.clone(),
            progress.clone(),
            stop.clone(),
        );
        workers.spawn(async move {
            while !stop.is_cancelled() {
                let next = queue
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .next();
                let Some(customer) = next else { break };
                progress.record(&customer, migrate_one(&templates, &customer).await);
            }
        });
    }
    while let Some(joined) = workers.join_next().await {
        if let Err(error) = joined {
            tracing::error!(%error, "a migration worker ended abnormally");
        }
    }
    progress.finish();
    if let Err(error) = reporter.await {
        tracing::warn!(%error, "the progress reporter ended abnormally");
    }
    Ok(progress.summary())
}

/// What happened to one store: `None` when it was deleted before its turn came.
type StoreResult = Result<Option<Outcome>, String>;

async fn migrate_one(templates: &Templates, customer: &CustomerId) -> StoreResult {
    let target = templates.target(customer).map_err(|e| e.with_causes())?;
    let Some(db) = target
        .connect_existing(1)
        .await
        .map_err(|e| e.with_causes())?
    else {
        return Ok(None);
    };
    let outcome = schema::bring_up_to_date(&db, customer).await;
    if let Err(error) = db.close().await {
        tracing::debug!(customer = %customer, %error, "closing a migrated store");
    }
    outcome.map(Some).map_err(|e| e.with_causes())
}
