//! Following other replicas' writes: on PostgreSQL a `LISTEN` on the revision channel wakes the
//! replica as soon as another one commits; on every store the revision log is also polled every
//! [`FOLLOW_INTERVAL`], so a lost notification only delays, never loses, a change. A `Check`
//! carrying `at_least_revision` does not wait for either: it catches up on demand.

use std::sync::Arc;
use std::time::Duration;

use mtm_plumbing::CancellationToken;
use sea_orm::DbBackend;
use sea_orm::sqlx::postgres::PgListener;

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
    match listener.listen(CHANNEL).await {
        Ok(()) => Some(listener),
        Err(error) => {
            tracing::warn!(%error, "listening for revisions failed; polling only");
            None
        }
    }
}

/// Applies revisions committed elsewhere until `shutdown` is cancelled.
pub async fn follow(state: Arc<State>, shutdown: CancellationToken) {
    let mut listener = listen(&state).await;
    loop {
        let notified = async {
            match listener.as_mut() {
                Some(listener) => listener.recv().await.map(|_| ()),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(FOLLOW_INTERVAL) => {}
            received = notified => {
                if let Err(error) = received {
                    tracing::warn!(%error, "revision notifications interrupted");
                }
            }
        }
        if let Err(error) = state.catch_up().await {
            tracing::warn!(%error, "following the revision log failed");
        }
    }
}
