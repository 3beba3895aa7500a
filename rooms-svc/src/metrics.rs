//! rooms-svc's own series, next to the per-method RPC ones every service has: the store pools
//! open against their cap, and store opens by result (opened, not_found, failed).

use std::sync::{Arc, OnceLock};

use mtm_plumbing::metrics::{self, Counter, KeyValue};
use tonic::Code;

use crate::error::Error;
use crate::locator::Locator;

/// Reports the open store pools and their cap at every collection.
pub fn observe(locator: &Arc<Locator>) {
    let meter = metrics::meter("rooms-svc");
    let of = Arc::downgrade(locator);
    let _open = meter
        .u64_observable_gauge("mtm.rooms.store.pools.open")
        .with_unit("{pool}")
        .with_description("Customer store connection pools open now")
        .with_callback(move |observer| {
            if let Some(locator) = of.upgrade() {
                observer.observe(locator.open_count() as u64, &[]);
            }
        })
        .build();
    let of = Arc::downgrade(locator);
    let _cap = meter
        .u64_observable_gauge("mtm.rooms.store.pools.limit")
        .with_unit("{pool}")
        .with_description("Most customer store pools open at once (--max-open-stores)")
        .with_callback(move |observer| {
            if let Some(locator) = of.upgrade() {
                observer.observe(locator.max_open() as u64, &[]);
            }
        })
        .build();
}

/// Counts one attempt to open a store whose pool was not open.
pub fn store_open<T>(result: &Result<T, Error>) {
    static OPENS: OnceLock<Counter<u64>> = OnceLock::new();
    let opens = OPENS.get_or_init(|| {
        metrics::meter("rooms-svc")
            .u64_counter("mtm.rooms.store.opens")
            .with_unit("{open}")
            .with_description("Store opens by result (opened, not_found, failed)")
            .build()
    });
    let result = match result {
        Ok(_) => "opened",
        Err(error) if error.code() == Code::NotFound => "not_found",
        Err(_) => "failed",
    };
    opens.add(1, &[KeyValue::new("result", result)]);
}
