//! The fuzzer: generated and mutated requests to every public method of the gateway, as the
//! demo world's partner and customer users and anonymously, on the real binaries over SQLite
//! and PostgreSQL. No answer may be INTERNAL or UNKNOWN or a broken stream, no service may
//! panic, and no answer may carry another tenant's names.
//!
//! A run is deterministic for its seed and bounded: `MTM_FUZZ_ITERATIONS` rounds over every
//! (method, caller) pair (default 2), stopping early after `MTM_FUZZ_SECONDS` (default 300);
//! `MTM_FUZZ_SEED` picks another seed. Long runs: `MTM_FUZZ_ITERATIONS=200
//! MTM_FUZZ_SECONDS=3600 cargo test -p mtm-e2e fuzz`.

mod call;
mod generate;

use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mtm_e2e::api::Session;
use mtm_e2e::world::{CUSTOMERS, PARTNER};
use prost::Message;
use prost_reflect::{DescriptorPool, MethodDescriptor};

use crate::support::options_in;
use generate::Rng;

/// A caller of the fuzzed requests and the names its answers must never carry.
struct Caller {
    label: String,
    token: Option<String>,
    foreign: Vec<String>,
}

/// The run's bounds, from the environment (read, never set).
struct Bounds {
    iterations: usize,
    time: Duration,
    seed: u64,
}

impl Bounds {
    fn from_env() -> Self {
        let number = |key: &str, default: u64| {
            std::env::var(key)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        Self {
            iterations: usize::try_from(number("MTM_FUZZ_ITERATIONS", 2)).unwrap_or(2),
            time: Duration::from_secs(number("MTM_FUZZ_SECONDS", 300)),
            seed: number("MTM_FUZZ_SEED", 0x6d74_6d2d_6675_7a7a),
        }
    }
}

/// Every method of every public service (not `*InternalService`) in the descriptor set.
fn public_methods() -> Vec<MethodDescriptor> {
    let pool = DescriptorPool::decode(mtm_proto::FILE_DESCRIPTOR_SET).expect("descriptor set");
    pool.services()
        .filter(|s| s.full_name().starts_with("mtm.") && !s.name().ends_with("InternalService"))
        .flat_map(|s| s.methods().collect::<Vec<_>>())
        .collect()
}

/// Names of customers other than `own` (none for the anonymous caller, who sees nothing).
fn names_of_other_customers(own: &[&str]) -> Vec<String> {
    CUSTOMERS
        .iter()
        .filter(|c| !own.contains(&c.id))
        .flat_map(|c| {
            [
                format!("customers/{}/", c.id),
                format!("tenants/{}/", c.id),
                format!("@{}", c.domain),
            ]
        })
        .collect()
}

/// The demo users the fuzzer calls as: each customer's MMR admin (who must never see another
/// customer), the partner's admin, a fleet admin and a helpdesk user (who must never see
/// Adatum's data: its invitation is still pending), and no token at all.
async fn callers(channel: &tonic::transport::Channel) -> Vec<Caller> {
    let mut callers = Vec::new();
    for customer in &CUSTOMERS {
        let session = Session::demo_user(channel.clone(), &customer.upn("mmr-admin"))
            .await
            .expect("customer admin signs in");
        callers.push(Caller {
            label: session.upn.clone(),
            token: Some(session_token(&session)),
            foreign: names_of_other_customers(&[customer.id]),
        });
    }
    for local in ["admin", "lena", "hugo"] {
        let session = Session::demo_user(channel.clone(), &PARTNER.upn(local))
            .await
            .expect("partner user signs in");
        callers.push(Caller {
            label: session.upn.clone(),
            token: Some(session_token(&session)),
            foreign: vec!["customers/adatum/".to_owned()],
        });
    }
    callers.push(Caller {
        label: "anonymous".to_owned(),
        token: None,
        foreign: names_of_other_customers(&[]),
    });
    callers
}

/// The bearer token a session sends.
fn session_token(session: &Session) -> String {
    let request = session.call(());
    request
        .metadata()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .expect("a bearer token")
        .to_owned()
}

/// Lines of the services' logs that report a panic.
fn panics_in_logs(logs: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(logs).expect("logs directory").flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        found.extend(
            text.lines()
                .filter(|line| line.contains("panicked at") || line.contains("RUST_BACKTRACE"))
                .map(|line| format!("{}: {line}", entry.file_name().to_string_lossy())),
        );
    }
    found
}

/// Seeds the demo world, fuzzes every public method as every caller, and returns the faults.
async fn fuzz(suite: &mtm_e2e::Suite, bounds: &Bounds) -> Vec<String> {
    let channel = suite.gateway_channel().await.expect("gateway channel");
    mtm_e2e::demo::seed(channel.clone(), &suite.operator_password_file)
        .await
        .expect("demo world");
    let callers = callers(&channel).await;
    let methods = public_methods();
    assert!(methods.len() > 80, "{} public methods", methods.len());
    let mut rng = Rng::new(bounds.seed);
    let started = Instant::now();
    let mut faults = Vec::new();
    let mut calls = 0usize;
    'rounds: for round in 0..bounds.iterations {
        for method in &methods {
            for caller in &callers {
                if started.elapsed() > bounds.time {
                    break 'rounds;
                }
                let message = generate::message(&mut rng, &method.input(), 3);
                let mut body = message.encode_to_vec();
                let mutated = rng.chance(20);
                if mutated {
                    body = generate::mutate(&mut rng, body);
                }
                let answer = call::call(
                    channel.clone(),
                    method,
                    Bytes::from(body),
                    caller.token.as_deref(),
                )
                .await;
                calls += 1;
                if let Some(fault) = call::fault(&answer, &caller.foreign) {
                    faults.push(format!(
                        "round {round}, {} as {}{}: {fault}; request {}",
                        method.full_name(),
                        caller.label,
                        if mutated { " (mutated bytes)" } else { "" },
                        generate::describe(&message),
                    ));
                }
            }
        }
    }
    eprintln!(
        "fuzz: {calls} calls over {} public methods in {:?}, seed {:#x}",
        methods.len(),
        started.elapsed(),
        bounds.seed
    );
    faults
}

fn report(mut faults: Vec<String>, panics: Vec<String>) {
    faults.sort();
    faults.dedup();
    assert!(
        faults.is_empty() && panics.is_empty(),
        "{} faulty answers:\n{}\n{} panics in service logs:\n{}",
        faults.len(),
        faults.join("\n"),
        panics.len(),
        panics.join("\n")
    );
}

#[tokio::test]
async fn fuzzed_requests_to_every_public_method_fail_cleanly_and_leak_nothing() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let options = options_in(&dir);
    let suite = mtm_e2e::Suite::start(&options).await.expect("suite starts");
    let faults = fuzz(&suite, &Bounds::from_env()).await;
    suite.stop().await;
    report(faults, panics_in_logs(&dir.path().join("logs")));
}

#[cfg(feature = "postgres-tests")]
#[tokio::test]
async fn fuzzed_requests_to_every_public_method_fail_cleanly_and_leak_nothing_postgres() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut options = options_in(&dir);
    options.stores =
        mtm_e2e::Stores::unique_postgres(mtm_plumbing::testing::postgres_server_url(), "mtm_fuzz");
    let stores = options.stores.clone();
    let suite = mtm_e2e::Suite::start(&options).await.expect("suite starts");
    let run = tokio::spawn(async move {
        let faults = fuzz(&suite, &Bounds::from_env()).await;
        suite.stop().await;
        faults
    })
    .await;
    stores
        .drop_all()
        .await
        .expect("drop the fuzzer's databases");
    match run {
        Ok(faults) => report(faults, panics_in_logs(&dir.path().join("logs"))),
        Err(panic) => std::panic::resume_unwind(panic.into_panic()),
    }
}
