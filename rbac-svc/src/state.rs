//! The shared state of one replica: the store, the decision index, and the revision the index
//! has applied. Writers commit to the store, then apply to the index before they answer;
//! decisions only read the index.

use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Set,
    TransactionTrait,
};
use tokio::sync::{Mutex, MutexGuard, watch};

use crate::error::Error;
use crate::index::Index;
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
}

/// The current time in Unix seconds (for relationship end times) and microseconds.
pub fn now() -> (i64, i64) {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (since.as_secs() as i64, since.as_micros() as i64)
}

impl State {
    /// Opens and migrates the store and builds the index from it.
    pub async fn open(url: &str) -> Result<Arc<State>, Error> {
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
        Ok(Arc::new(State {
            db,
            index: RwLock::new(index),
            applied: watch::Sender::new(revision),
            writer: Mutex::new(()),
        }))
    }

    /// The store, for reads that are not decisions (role listings).
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The index, for decisions.
    pub fn index(&self) -> RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(|p| p.into_inner())
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
    /// index before returning the new revision. With no customer changed, nothing is
    /// recorded and the current revision is returned.
    pub async fn commit(self, changed: Option<&str>) -> Result<i64, Error> {
        let Some(customer) = changed else {
            self.txn.rollback().await?;
            return Ok(self.state.applied());
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
