//! `mtm-load` for a few seconds against a freshly started suite (SQLite, no Cerbos): every
//! target's every answer must be the verified one. Nothing about speed is asserted.

use std::time::Duration;

use mtm_bench::load::fixture::FixtureOptions;
use mtm_bench::load::rounds::Plan;
use mtm_bench::load::run::{LoadOptions, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_under_load_is_the_verified_one() {
    let bin_dir = mtm_e2e::ensure_built().expect("the service binaries build");
    let options = LoadOptions {
        fixture: FixtureOptions {
            bin_dir,
            connections: 2,
            cerbos: None,
        },
        plan: Plan {
            rounds: 2,
            seconds: Duration::from_millis(300),
            warmup: Duration::from_millis(100),
            in_flight: 8,
        },
        only: Vec::new(),
    };
    let results = run(&options, |step| eprintln!("{step}"))
        .await
        .expect("the load run completes");
    assert_eq!(results.targets.len(), 10, "every target but Cerbos's");
    for measured in &results.targets {
        let outcome = &measured.outcome;
        assert_eq!(
            (outcome.wrong, outcome.errors),
            (0, 0),
            "{}: {:?}",
            measured.target.name,
            outcome.first_problem
        );
        assert!(outcome.calls > 0, "{} was called", measured.target.name);
    }
}
