//! Criterion benchmarks: one room-scoped `Check` per iteration, decided by the index, by
//! Cedar and by casbin, on the same generated scenario at 10, 1,000 and 10,000 customers.
//! Before timing, the three engines are checked to agree on the queries. Beside them,
//! `memory` follows a random chain of cache lines over as many bytes as the index holds at
//! that size: the machine's latency for the reads the index cannot keep in its caches.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use mtm_bench::casbin_engine::CasbinEngine;
use mtm_bench::cedar_engine::CedarEngine;
use mtm_bench::{Chase, Scenario, index_check};
use rbac_svc::catalogue::Perm;

const QUERIES: usize = 4096;

fn decisions(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut group = c.benchmark_group("check");
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for customers in [10, 1_000, 10_000] {
        let scenario = Scenario::generate(customers, QUERIES);
        let index = scenario.index();
        eprintln!(
            "index at {customers} customers: {} assignments, {} heap bytes, {} bytes per assignment",
            scenario.assignment_count(),
            index.heap_bytes(),
            index.heap_bytes() / scenario.assignment_count()
        );
        let cedar = CedarEngine::build(&scenario);
        let casbin = runtime.block_on(CasbinEngine::build(&scenario));
        let perms: Vec<Perm> = scenario
            .queries
            .iter()
            .map(|q| Perm::parse(q.permission).expect("known permission"))
            .collect();
        let requests: Vec<_> = scenario.queries.iter().map(CedarEngine::request).collect();
        let mut allowed = 0;
        for (i, q) in scenario.queries.iter().enumerate() {
            let by_index = index_check(&index, q, perms[i]);
            assert_eq!(
                by_index,
                cedar.check(&q.customer, &requests[i]),
                "cedar differs on {q:?}"
            );
            if i < 256 {
                assert_eq!(by_index, casbin.check(q), "casbin differs on {q:?}");
            }
            allowed += usize::from(by_index);
        }
        eprintln!(
            "{customers} customers: the engines agree; {allowed} of {QUERIES} queries allowed"
        );

        group.bench_with_input(BenchmarkId::new("index", customers), &customers, |b, _| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % QUERIES;
                black_box(index_check(&index, &scenario.queries[i], perms[i]))
            })
        });
        let chase = Chase::new(index.heap_bytes());
        group.bench_with_input(BenchmarkId::new("memory", customers), &customers, |b, _| {
            let mut line = 0;
            b.iter(|| {
                line = chase.next(line);
                black_box(line)
            })
        });
        drop(chase);
        group.bench_with_input(BenchmarkId::new("cedar", customers), &customers, |b, _| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % QUERIES;
                black_box(cedar.check(&scenario.queries[i].customer, &requests[i]))
            })
        });
        group.sample_size(if customers >= 1_000 { 10 } else { 100 });
        group.bench_with_input(BenchmarkId::new("casbin", customers), &customers, |b, _| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % QUERIES;
                black_box(casbin.check(&scenario.queries[i]))
            })
        });
        group.sample_size(100);
    }
    group.finish();
}

criterion_group!(benches, decisions);
criterion_main!(benches);
