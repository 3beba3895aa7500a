//! The gateway's own series, next to the per-method RPC ones (server side, and client side
//! towards each backend) every service has: per *all tickets* request, the customers asked, failed
//! and late; and the calls the rate limits refused, by the bucket that refused them.

use std::sync::OnceLock;

use mtm_plumbing::metrics::{self, Counter, Histogram, KeyValue};
use tonic::Code;

/// Bucket bounds of the customers-per-request histogram.
const CUSTOMER_BOUNDS: [f64; 13] = [
    0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0,
];

/// Records one fan-out: `asked` customers, and the status of each one left out (DEADLINE_EXCEEDED
/// is late, any other code failed).
pub fn fanout(asked: usize, left_out: impl Iterator<Item = Code>) {
    static CUSTOMERS: OnceLock<Histogram<u64>> = OnceLock::new();
    let customers = CUSTOMERS.get_or_init(|| {
        metrics::meter("gateway")
            .u64_histogram("mtm.gateway.fanout.customers")
            .with_unit("{customer}")
            .with_description("Customers per all-tickets request, by outcome (asked, failed, late)")
            .with_boundaries(CUSTOMER_BOUNDS.to_vec())
            .build()
    });
    let (mut failed, mut late) = (0u64, 0u64);
    for code in left_out {
        if code == Code::DeadlineExceeded {
            late += 1;
        } else {
            failed += 1;
        }
    }
    let asked = u64::try_from(asked).unwrap_or(u64::MAX);
    for (outcome, count) in [("asked", asked), ("failed", failed), ("late", late)] {
        customers.record(count, &[KeyValue::new("outcome", outcome)]);
    }
}

/// Counts one call refused by the rate limit bucket of `scope` (principal, address, tenant).
pub fn rate_limited(scope: &'static str) {
    static REFUSALS: OnceLock<Counter<u64>> = OnceLock::new();
    REFUSALS
        .get_or_init(|| {
            metrics::meter("gateway")
                .u64_counter("mtm.gateway.rate_limit.refusals")
                .with_unit("{call}")
                .with_description("Calls refused by a rate limit, by the bucket's scope")
                .build()
        })
        .add(1, &[KeyValue::new("scope", scope)]);
}
