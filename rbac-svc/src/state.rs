//! The shared state of one replica: the store, the decision index, the revision the index
//! has applied and, on PostgreSQL, the replica's lease. Writers commit to the store, then apply
//! to the index before they answer, and a write that takes access away also waits for every
//! other live replica to apply it ([`Effect::Revokes`]); decisions only read the index, and
//! only while the lease is valid.

use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Set,
    TransactionTrait,
};
use tokio::sync::{Mutex, MutexGuard, watch};

use crate::error::Error;
use crate::index::Index;
use crate::lease::Lease;
use crate::store;
use crate::store::entity::revision;

/// How long a decision waits for a replica to reach `at_least_revision`.
pub const CATCH_UP_WAIT: Duration = Duration::from_secs(2);

/// The state once the index is built; until then handlers answer UNAVAILABLE.
#[derive(Clone, Default)]
pub struct Ready(Arc<OnceLock<Arc<State>>>);

impl Ready {
    /// The state, or UNAVAILABLE while the index is still being built.
    pub fn get(&self) -> Result<&State, Error> {
        self.0.get().map(|state| &**state).ok_or(Error::Starting)
    }

    /// Publishes the built state.
    pub fn set(&self, state: Arc<State>) {
        let _ = self.0.set(state);
    }
}

/// One replica's state, shared by every handler.
pub struct State {
    db: DatabaseConnection,
    index: RwLock<Index>,
    applied: watch::Sender<i64>,
    writer: Mutex<()>,
    lease: Option<Lease>,
}

/// What a write does to access, which decides when it may answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// It only adds access (or changes nothing a decision reads): it answers once this
    /// replica has applied it; others follow within moments, and its revision as
    /// `at_least_revision` reads it anywhere.
    Grants,
    /// It may take access away: it answers only once every replica holding a live lease has
    /// applied it (the revocation barrier).
    Revokes,
}

/// The current time in Unix seconds (for relationship end times) and microseconds.
pub fn now() -> (i64, i64) {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (since.as_secs() as i64, since.as_micros() as i64)
}

impl State {
    /// Opens and migrates the store and builds the index from it. On PostgreSQL the replica
    /// then takes a lease of `lease` (renewed by [`crate::follow::renew`]).
    pub async fn open(url: &str, lease: Duration) -> Result<Arc<State>, Error> {
        let db = store::open(url).await?;
        let revision = store::latest_revision(&db).await?;
        let mut index = Index::new();
        for customer in store::load_all(&db).await? {
            index.put_customer(&customer);
        }
        index.set_revision(revision);
        tracing::info!(
            customers = index.customer_count(),
            revision,
            "decision index built"
        );
        let lease = (db.get_database_backend() == DbBackend::Postgres).then(|| Lease::new(lease));
        let state = Arc::new(State {
            db,
            index: RwLock::new(index),
            applied: watch::Sender::new(revision),
            writer: Mutex::new(()),
            lease,
        });
        if let Some(lease) = &state.lease {
            while !lease.renew(&state.db, state.catch_up().await?).await? {
                // Writes landed while the index was built; apply them and try again.
            }
            tracing::info!(replica = lease.id(), "lease taken");
        }
        Ok(state)
    }

    /// This replica's lease (PostgreSQL only: SQLite runs one replica).
    pub fn lease(&self) -> Option<&Lease> {
        self.lease.as_ref()
    }

    /// The store, for reads that are not decisions (role listings).
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The index, for decisions; UNAVAILABLE while the replica's lease is not valid (it
    /// could not renew it, or was not caught up when it tried), never an answer from state
    /// that may be older than a revocation that has returned.
    pub fn index(&self) -> Result<RwLockReadGuard<'_, Index>, Error> {
        if self.lease.as_ref().is_some_and(|lease| !lease.valid()) {
            return Err(Error::Fenced);
        }
        Ok(self.index.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// The revision the index has applied.
    pub fn applied(&self) -> i64 {
        *self.applied.borrow()
    }

    /// Waits until the index has applied `revision`, following the store's revision log
    /// meanwhile; UNAVAILABLE if it cannot within [`CATCH_UP_WAIT`].
    pub async fn at_least(&self, revision: i64) -> Result<(), Error> {
        if revision <= self.applied() {
            return Ok(());
        }
        let deadline = Instant::now() + CATCH_UP_WAIT;
        let mut changes = self.applied.subscribe();
        loop {
            self.catch_up().await?;
            if revision <= self.applied() {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Unavailable(revision));
            }
            let _ =
                tokio::time::timeout(left.min(Duration::from_millis(100)), changes.changed()).await;
        }
    }

    /// Applies every revision committed since the last one applied (by this or another
    /// replica) to the index.
    pub async fn catch_up(&self) -> Result<i64, Error> {
        let _guard = self.writer.lock().await;
        self.catch_up_locked().await
    }

    async fn catch_up_locked(&self) -> Result<i64, Error> {
        let applied = self.applied();
        let pending = store::revisions_after(&self.db, applied).await?;
        let Some(&(newest, _)) = pending.last() else {
            return Ok(applied);
        };
        let mut customers: Vec<&str> = pending.iter().map(|(_, c)| c.as_str()).collect();
        customers.sort_unstable();
        customers.dedup();
        let mut loaded = Vec::with_capacity(customers.len());
        for customer in &customers {
            match store::load_customer(&self.db, customer).await {
                Ok(data) => loaded.push((*customer, data)),
                Err(error) => {
                    // Fail safe: what cannot be reloaded grants nothing until it can.
                    let mut index = self.index.write().unwrap_or_else(|p| p.into_inner());
                    for customer in &customers {
                        index.remove_customer(customer);
                    }
                    return Err(error);
                }
            }
        }
        {
            let mut index = self.index.write().unwrap_or_else(|p| p.into_inner());
            for (customer, data) in loaded {
                match data {
                    Some(data) => index.put_customer(&data),
                    None => index.remove_customer(customer),
                }
            }
            index.set_revision(newest);
        }
        self.applied.send_replace(newest);
        Ok(newest)
    }

    /// Starts a write: one writer at a time on this replica, one transaction, and on
    /// PostgreSQL a lock on the revision log so replicas commit revisions in order.
    pub async fn begin(&self) -> Result<Write<'_>, Error> {
        let guard = self.writer.lock().await;
        let txn = self.db.begin().await?;
        if txn.get_database_backend() == DbBackend::Postgres {
            txn.execute_unprepared("LOCK TABLE revisions IN EXCLUSIVE MODE")
                .await?;
        }
        Ok(Write {
            state: self,
            _guard: guard,
            txn,
        })
    }
}

/// A write in progress; dropping it rolls back.
pub struct Write<'a> {
    state: &'a State,
    _guard: MutexGuard<'a, ()>,
    /// The transaction to write in.
    pub txn: DatabaseTransaction,
}

impl Write<'_> {
    /// Records a revision for the changed customer, commits, and applies the change to the
    /// index before returning the new revision; with [`Effect::Revokes`], also waits for the
    /// revocation barrier. With no customer changed, nothing is recorded and the current
    /// revision is returned; a revoking write that changed nothing (a retry) still waits for
    /// the barrier at that revision, so its answer means the same.
    pub async fn commit(self, changed: Option<&str>, effect: Effect) -> Result<i64, Error> {
        let state = self.state;
        let revision = self.record(changed, effect).await?;
        if let (Effect::Revokes, Some(lease)) = (effect, &state.lease) {
            lease.barrier(&state.db, revision).await?;
        }
        Ok(revision)
    }

    /// Commits (or rolls back when nothing changed) and applies to the index; the writer lock
    /// is released on return.
    async fn record(self, changed: Option<&str>, effect: Effect) -> Result<i64, Error> {
        let Some(customer) = changed else {
            self.txn.rollback().await?;
            return match effect {
                Effect::Grants => Ok(self.state.applied()),
                Effect::Revokes => self.state.catch_up_locked().await,
            };
        };
        let (_, micros) = now();
        revision::ActiveModel {
            customer: Set(customer.to_owned()),
            create_time: Set(micros),
            ..Default::default()
        }
        .insert(&self.txn)
        .await?;
        if self.txn.get_database_backend() == DbBackend::Postgres {
            self.txn
                .execute_unprepared(&format!("NOTIFY {}", crate::follow::CHANNEL))
                .await?;
        }
        self.txn.commit().await?;
        self.state.catch_up_locked().await
    }
}
