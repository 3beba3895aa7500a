//! rbac-svc's own series, next to the per-method RPC ones every service has: decisions by
//! result and how long the index took to make them, the decision index's size (assignments and
//! heap bytes), the revision it has applied, and how many committed revisions it is behind the
//! store (sampled every [`LAG_INTERVAL`]).

use std::sync::{Arc, OnceLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use mtm_plumbing::CancellationToken;
use mtm_plumbing::metrics::{self, Counter, Histogram, KeyValue};
use mtm_proto::mtm::rbac::v1 as pb;

use crate::index::Index;
use crate::state::State;
use crate::store;

/// How often the lag behind the store's newest revision is measured.
pub const LAG_INTERVAL: Duration = Duration::from_secs(5);

/// Bucket bounds of the decision latency, in milliseconds (one decision takes microseconds).
const DECISION_BOUNDS_MS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

struct Decisions {
    count: Counter<u64>,
    duration: Histogram<f64>,
}

fn decisions() -> &'static Decisions {
    static DECISIONS: OnceLock<Decisions> = OnceLock::new();
    DECISIONS.get_or_init(|| {
        let meter = metrics::meter("rbac-svc");
        Decisions {
            count: meter
                .u64_counter("mtm.rbac.decisions")
                .with_unit("{decision}")
                .with_description("Decisions made, by result (allow, deny, invalid)")
                .build(),
            duration: meter
                .f64_histogram("mtm.rbac.decision.duration")
                .with_unit("ms")
                .with_description("Time the index took to make one decision")
                .with_boundaries(DECISION_BOUNDS_MS.to_vec())
                .build(),
        }
    })
}

/// Runs `decide`, recording the decision's result and how long it took.
pub fn decided(decide: impl FnOnce() -> pb::Decision) -> pb::Decision {
    let started = Instant::now();
    let decision = decide();
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    let result = if decision.allowed {
        "allow"
    } else if decision.deny_reason == pb::DenyReason::Invalid as i32 {
        "invalid"
    } else {
        "deny"
    };
    let instruments = decisions();
    instruments.duration.record(millis, &[]);
    instruments.count.add(1, &[KeyValue::new("result", result)]);
    decision
}

/// The index when it may be read: [`State::index`] gives the read guard, or (while the
/// replica's lease is not valid) an error, when nothing is reported.
trait Readable<'a> {
    fn readable(self) -> Option<RwLockReadGuard<'a, Index>>;
}

impl<'a> Readable<'a> for RwLockReadGuard<'a, Index> {
    fn readable(self) -> Option<RwLockReadGuard<'a, Index>> {
        Some(self)
    }
}

impl<'a, E> Readable<'a> for Result<RwLockReadGuard<'a, Index>, E> {
    fn readable(self) -> Option<RwLockReadGuard<'a, Index>> {
        self.ok()
    }
}

/// Reports the index's size and applied revision at every collection, and measures its lag
/// behind the store every [`LAG_INTERVAL`], until `shutdown` is cancelled.
pub async fn observe(state: Arc<State>, shutdown: CancellationToken) {
    let meter = metrics::meter("rbac-svc");
    let of = state.clone();
    let _assignments = meter
        .u64_observable_gauge("mtm.rbac.index.assignments")
        .with_unit("{assignment}")
        .with_description("Assignments held by the decision index")
        .with_callback(move |observer| {
            if let Some(index) = of.index().readable() {
                observer.observe(index.assignment_count() as u64, &[]);
            }
        })
        .build();
    let of = state.clone();
    let _bytes = meter
        .u64_observable_gauge("mtm.rbac.index.size")
        .with_unit("By")
        .with_description("Estimated heap bytes of the decision index")
        .with_callback(move |observer| {
            if let Some(index) = of.index().readable() {
                observer.observe(index.heap_bytes() as u64, &[]);
            }
        })
        .build();
    let of = state.clone();
    let _applied = meter
        .i64_observable_gauge("mtm.rbac.revision.applied")
        .with_unit("{revision}")
        .with_description("Newest revision the decision index has applied")
        .with_callback(move |observer| observer.observe(of.applied(), &[]))
        .build();
    let lag = meter
        .i64_gauge("mtm.rbac.revision.lag")
        .with_unit("{revision}")
        .with_description("Committed revisions the decision index has not applied yet")
        .build();
    loop {
        match store::latest_revision(state.db()).await {
            Ok(latest) => lag.record((latest - state.applied()).max(0), &[]),
            Err(error) => tracing::warn!(%error, "reading the newest revision failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(LAG_INTERVAL) => {}
        }
    }
}
