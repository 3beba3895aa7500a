//! Following other replicas' writes and keeping the lease: on PostgreSQL a `LISTEN` on the
//! revision channel wakes the replica as soon as another one commits, and after applying it
//! records what it applied in its lease row (the acknowledgement a revoking writer waits for);
//! on every store the revision log is also polled every [`FOLLOW_INTERVAL`], so a lost
//! notification only delays, never loses, a change. A `Check` carrying `at_least_revision`
//! does not wait for either: it catches up on demand. [`renew`] renews the lease every third
//! of its length, after catching up.

use std::sync::Arc;
use std::time::Duration;

use mtm_plumbing::CancellationToken;
use sea_orm::DbBackend;
use sea_orm::sqlx::postgres::PgListener;

use crate::lease::{ACK_CHANNEL, Lease};
use crate::state::State;

/// How often a replica polls the revision log.
pub const FOLLOW_INTERVAL: Duration = Duration::from_secs(1);

/// The PostgreSQL notification channel every write notifies on commit.
pub const CHANNEL: &str = "rbac_revisions";

async fn listen(state: &State) -> Option<PgListener> {
    if state.db().get_database_backend() != DbBackend::Postgres {
        return None;
    }
    let pool = state.db().get_postgres_connection_pool();
    let mut listener = match PgListener::connect_with(pool).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::warn!(%error, "listening for revisions failed; polling only");
            return None;
        }
    };
    match listener.listen_all([CHANNEL, ACK_CHANNEL]).await {
        Ok(()) => Some(listener),
        Err(error) => {
            tracing::warn!(%error, "listening for revisions failed; polling only");
            None
        }
    }
}

/// Applies revisions committed elsewhere, and acknowledges them, until `shutdown` is
/// cancelled. Acknowledgements of other replicas wake this replica's waiting writers.
pub async fn follow(state: Arc<State>, shutdown: CancellationToken) {
    let mut listener = listen(&state).await;
    loop {
        let notified = async {
            match listener.as_mut() {
                Some(listener) => listener.recv().await.map(|n| n.channel() == ACK_CHANNEL),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(FOLLOW_INTERVAL) => {}
            received = notified => match received {
                Ok(true) => {
                    if let Some(lease) = state.lease() {
                        lease.acknowledged();
                    }
                    continue;
                }
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "revision notifications interrupted"),
            }
        }
        match state.catch_up().await {
            Ok(applied) => {
                if let Some(lease) = state.lease()
                    && let Err(error) = lease.acknowledge(state.db(), applied).await
                {
                    tracing::warn!(%error, "recording the applied revision failed");
                }
            }
            Err(error) => tracing::warn!(%error, "following the revision log failed"),
        }
    }
}

/// Renews the lease every third of its length until `shutdown` is cancelled: catches up, then
/// renews; a replica that cannot (the store is unreachable, or it is still behind) keeps
/// trying and, once the lease runs out, stops deciding.
pub async fn renew(state: Arc<State>, shutdown: CancellationToken) {
    let Some(lease) = state.lease() else {
        return;
    };
    let mut ticks = tokio::time::interval(lease.length() / 3);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = ticks.tick() => {}
        }
        if let Err(error) = renew_once(&state, lease).await {
            tracing::warn!(%error, "renewing the lease failed");
        }
    }
}

/// Catches up and renews, trying again at once if a write landed in between.
async fn renew_once(state: &State, lease: &Lease) -> Result<(), crate::error::Error> {
    for _ in 0..3 {
        let applied = state.catch_up().await?;
        if lease.renew(state.db(), applied).await? {
            return Ok(());
        }
    }
    tracing::warn!("the lease was not renewed: writes keep landing before the index applies them");
    Ok(())
}
