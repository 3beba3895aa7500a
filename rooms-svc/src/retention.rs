//! The audit retention task (R28): deletes each store's audit records past the customer's
//! retention soon after this process first opens the store, and sweeps every provisioned
//! store, open or not, once a day.

use std::sync::Arc;
use std::time::Duration;

use mtm_plumbing::CancellationToken;

use crate::error::Error;
use crate::locator::Locator;
use crate::names::CustomerId;

const DAY: Duration = Duration::from_secs(24 * 3600);

/// Purges the stores the locator opens, and all of them daily, until `shutdown`.
pub async fn run(locator: Arc<Locator>, shutdown: CancellationToken) {
    let mut first_opens = locator.watch_first_opens();
    let mut daily = tokio::time::interval_at(tokio::time::Instant::now() + DAY, DAY);
    daily.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            Some(customer) = first_opens.recv() => purge_open(&locator, &customer).await,
            _ = daily.tick() => match purge_all_stores(&locator).await {
                Ok(swept) => tracing::info!(swept, "audit retention sweep done"),
                Err(error) => tracing::warn!(%error, "audit retention sweep could not list the stores"),
            },
        }
    }
}

/// Purges a store just opened, unless it has been closed again meanwhile (its next opening
/// brings it back here).
async fn purge_open(locator: &Locator, customer: &CustomerId) {
    let Some(store) = locator.if_open(customer) else {
        return;
    };
    purge(&store).await;
}

async fn purge(store: &crate::store::Store) -> bool {
    match crate::store::retention::purge(store.db(), store.customer()).await {
        Ok(purged) => {
            if purged > 0 {
                tracing::info!(customer = %store.customer(), purged, "audit records past retention deleted");
            }
            true
        }
        Err(error) => {
            tracing::warn!(customer = %store.customer(), %error, "audit retention sweep failed");
            false
        }
    }
}

/// Applies audit retention to every provisioned store. Stores that are closed are opened one
/// at a time through the locator, so the pool cap holds, and closed again afterwards unless a
/// call started using them meanwhile. Returns how many stores were swept.
pub async fn purge_all_stores(locator: &Locator) -> Result<usize, Error> {
    let mut swept = 0;
    for customer in locator.provisioned().await? {
        let was_open = locator.if_open(&customer).is_some();
        let store = match locator.open(&customer).await {
            Ok(store) => store,
            Err(Error::NotFound { .. }) => continue,
            Err(error) => {
                tracing::warn!(customer = %customer, %error, "audit retention sweep could not open a store");
                continue;
            }
        };
        if purge(&store).await {
            swept += 1;
        }
        drop(store);
        if !was_open {
            locator.close_if_unused(&customer).await;
        }
    }
    Ok(swept)
}
