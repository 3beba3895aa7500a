//! The store locator: which store holds a customer's data (R27), and a capped, least recently
//! used cache of open connection pools. Stores are opened lazily, migrated on first open,
//! closed when idle, and the pool of the least recently used store is closed first when the
//! cap is reached.

mod provisioned;
mod target;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{DatabaseConnection, TransactionTrait};
use sea_orm_migration::MigratorTrait;

use crate::activity::TicketActivity;
use crate::error::Error;
use crate::names::CustomerId;
use crate::store::migration::Migrator;
pub use target::{PLACEHOLDER, StoreTarget, Templates};

/// How stores are found and how many may be open.
#[derive(Clone, Debug)]
pub struct LocatorSettings {
    /// Where each customer's store lives.
    pub templates: Templates,
    /// At most this many pools are open at once.
    pub max_open_stores: usize,
    /// A pool unused this long is closed.
    pub idle_timeout: Duration,
    /// Connections per store pool.
    pub max_connections: u32,
}

/// An open connection pool; closed gracefully when the last handle goes.
#[derive(Debug)]
struct Pool(DatabaseConnection);

impl Drop for Pool {
    fn drop(&mut self) {
        let db = self.0.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = db.close().await {
                    tracing::warn!(%error, "closing a store pool");
                }
            });
        }
    }
}

/// A customer's open store.
#[derive(Clone, Debug)]
pub struct Store {
    customer: CustomerId,
    pool: Arc<Pool>,
    activity: Arc<TicketActivity>,
}

impl Store {
    /// The customer whose store it is.
    pub fn customer(&self) -> &CustomerId {
        &self.customer
    }

    /// The connection pool.
    pub fn db(&self) -> &DatabaseConnection {
        &self.pool.0
    }

    /// Raises the customer's newest-ticket bound to `time` (microseconds): called inside a
    /// change that gives a ticket that update time, before it commits (R25).
    pub async fn note_ticket_time(&self, time: i64) -> Result<(), Error> {
        self.activity.raise(&self.customer, time).await
    }

    /// Begins a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so concurrent changes queue instead of failing when they upgrade.
    pub async fn write(&self) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
        self.pool
            .0
            .begin_with_options(sea_orm::TransactionOptions {
                sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await
    }
}

struct Entry {
    pool: Arc<Pool>,
    last_used: Instant,
}

/// Finds, opens, provisions and deprovisions customer stores.
pub struct Locator {
    settings: LocatorSettings,
    activity: Arc<TicketActivity>,
    open: Mutex<HashMap<CustomerId, Entry>>,
    opening: Mutex<HashMap<CustomerId, Arc<tokio::sync::Mutex<()>>>>,
}

impl std::fmt::Debug for Locator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Locator")
            .field("open", &self.open_count())
            .finish()
    }
}

impl Locator {
    /// A locator with nothing open yet, keeping the stores' ticket activity in `activity`.
    pub fn new(settings: LocatorSettings, activity: Arc<TicketActivity>) -> Self {
        Self {
            settings,
            activity,
            open: Mutex::new(HashMap::new()),
            opening: Mutex::new(HashMap::new()),
        }
    }

    /// The most store pools open at once.
    pub fn max_open(&self) -> usize {
        self.settings.max_open_stores.max(1)
    }

    /// Number of store pools open now (never above the cap once a call has returned).
    pub fn open_count(&self) -> usize {
        self.lock_open().len()
    }

    fn lock_open(&self) -> std::sync::MutexGuard<'_, HashMap<CustomerId, Entry>> {
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn cached(&self, customer: &CustomerId) -> Option<Store> {
        let mut open = self.lock_open();
        let entry = open.get_mut(customer)?;
        entry.last_used = Instant::now();
        Some(Store {
            customer: customer.clone(),
            pool: entry.pool.clone(),
            activity: self.activity.clone(),
        })
    }

    fn opening_lock(&self, customer: &CustomerId) -> Arc<tokio::sync::Mutex<()>> {
        let mut opening = self
            .opening
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        opening.entry(customer.clone()).or_default().clone()
    }

    fn forget_opening(&self, customer: &CustomerId) {
        let mut opening = self
            .opening
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if opening
            .get(customer)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            opening.remove(customer);
        }
    }

    /// The customer's store, opened (and migrated) on first use. NOT_FOUND when the customer
    /// has no store: stores are only ever created by [`Locator::provision`].
    pub async fn open(&self, customer: &CustomerId) -> Result<Store, Error> {
        if let Some(store) = self.cached(customer) {
            return Ok(store);
        }
        let lock = self.opening_lock(customer);
        let result = async {
            let _guard = lock.lock().await;
            if let Some(store) = self.cached(customer) {
                return Ok(store);
            }
            let target = self.settings.templates.target(customer)?;
            let db = target
                .connect_existing(self.settings.max_connections)
                .await
                .map_err(|error| unopenable(customer, error))?
                .ok_or_else(|| Error::not_found("mtm.common.v1.Customer", customer.name()))?;
            bring_up_to_date(&db, customer)
                .await
                .map_err(|error| unopenable(customer, error))?;
            self.note_activity(customer, &db).await?;
            Ok(self.insert(customer, db).await)
        }
        .await;
        crate::metrics::store_open(&result);
        drop(lock);
        self.forget_opening(customer);
        result
    }

    /// Creates the customer's store unless it exists, migrates it and opens it.
    pub async fn provision(&self, customer: &CustomerId) -> Result<Store, Error> {
        if let Some(store) = self.cached(customer) {
            migrate(store.db()).await?;
            return Ok(store);
        }
        let lock = self.opening_lock(customer);
        let result = async {
            let _guard = lock.lock().await;
            let store = match self.cached(customer) {
                Some(store) => store,
                None => {
                    let target = self.settings.templates.target(customer)?;
                    let db = target.create(self.settings.max_connections).await?;
                    self.insert(customer, db).await
                }
            };
            migrate(store.db()).await?;
            self.note_activity(customer, store.db()).await?;
            Ok(store)
        }
        .await;
        drop(lock);
        self.forget_opening(customer);
        result
    }

    /// Records the store's newest ticket time as its activity bound; a store without
    /// counters yet is new and has no tickets.
    async fn note_activity(
        &self,
        customer: &CustomerId,
        db: &DatabaseConnection,
    ) -> Result<(), Error> {
        let newest = crate::store::stats::find(db)
            .await?
            .and_then(|counters| counters.newest_ticket_update_time)
            .unwrap_or(0);
        self.activity.raise(customer, newest).await
    }

    /// Deletes the customer's store and everything in it. Absent stores are fine.
    pub async fn deprovision(&self, customer: &CustomerId) -> Result<(), Error> {
        let lock = self.opening_lock(customer);
        let result = async {
            let _guard = lock.lock().await;
            self.activity.forget(customer).await?;
            let removed = self.lock_open().remove(customer);
            if let Some(entry) = removed {
                close_now(entry.pool).await;
            }
            self.settings.templates.target(customer)?.delete().await
        }
        .await;
        drop(lock);
        self.forget_opening(customer);
        result
    }

    async fn insert(&self, customer: &CustomerId, db: DatabaseConnection) -> Store {
        let pool = Arc::new(Pool(db));
        let evicted = {
            let mut open = self.lock_open();
            open.insert(
                customer.clone(),
                Entry {
                    pool: pool.clone(),
                    last_used: Instant::now(),
                },
            );
            let mut evicted = Vec::new();
            while open.len() > self.settings.max_open_stores.max(1) {
                // Pools no call is using go first, so they close before this call returns.
                let oldest = open
                    .iter()
                    .filter(|(id, _)| *id != customer)
                    .min_by_key(|(_, entry)| (Arc::strong_count(&entry.pool) > 1, entry.last_used))
                    .map(|(id, _)| id.clone());
                match oldest.and_then(|id| open.remove(&id)) {
                    Some(entry) => evicted.push(entry.pool),
                    None => break,
                }
            }
            evicted
        };
        for pool in evicted {
            close_now(pool).await;
        }
        Store {
            customer: customer.clone(),
            pool,
            activity: self.activity.clone(),
        }
    }

    /// Closes the pools unused for longer than the idle timeout; returns how many.
    pub async fn close_idle(&self) -> usize {
        let idle: Vec<Arc<Pool>> = {
            let mut open = self.lock_open();
            let now = Instant::now();
            let stale: Vec<CustomerId> = open
                .iter()
                .filter(|(_, entry)| {
                    now.duration_since(entry.last_used) >= self.settings.idle_timeout
                })
                .map(|(id, _)| id.clone())
                .collect();
            stale
                .iter()
                .filter_map(|id| open.remove(id).map(|entry| entry.pool))
                .collect()
        };
        let count = idle.len();
        for pool in idle {
            close_now(pool).await;
        }
        count
    }

    /// Closes every open pool and the activity database (at shutdown).
    pub async fn close_all(&self) {
        let all: Vec<Arc<Pool>> = self.lock_open().drain().map(|(_, e)| e.pool).collect();
        for pool in all {
            close_now(pool).await;
        }
        self.activity.close().await;
    }

    /// The newest-ticket bounds of the known customers among `customers`.
    pub async fn ticket_activity(
        &self,
        customers: &[CustomerId],
    ) -> Result<HashMap<CustomerId, i64>, Error> {
        self.activity.bounds(customers).await
    }

    /// Every customer with a store, open or not, in id order.
    pub async fn provisioned(&self) -> Result<Vec<CustomerId>, Error> {
        provisioned::provisioned(&self.settings.templates).await
    }

    /// Applies audit retention (R28) to every provisioned store. Stores that are closed are
    /// opened one at a time through the cache, so the pool cap holds, and closed again
    /// afterwards unless a call started using them meanwhile. Returns how many stores were
    /// swept.
    pub async fn purge_all_stores(&self) -> Result<usize, Error> {
        let mut swept = 0;
        for customer in self.provisioned().await? {
            let was_open = self.lock_open().contains_key(&customer);
            let store = match self.open(&customer).await {
                Ok(store) => store,
                Err(Error::NotFound { .. }) => continue,
                Err(error) => {
                    tracing::warn!(customer = %customer, %error, "audit retention sweep could not open a store");
                    continue;
                }
            };
            match crate::store::retention::purge(store.db(), &customer).await {
                Ok(purged) => {
                    swept += 1;
                    if purged > 0 {
                        tracing::info!(customer = %customer, purged, "audit records past retention deleted");
                    }
                }
                Err(error) => {
                    tracing::warn!(customer = %customer, %error, "audit retention sweep failed");
                }
            }
            drop(store);
            if !was_open {
                self.close_if_unused(&customer).await;
            }
        }
        Ok(swept)
    }

    /// Closes the customer's pool when no call holds it.
    async fn close_if_unused(&self, customer: &CustomerId) {
        let unused = {
            let mut open = self.lock_open();
            let idle = open
                .get(customer)
                .is_some_and(|entry| Arc::strong_count(&entry.pool) == 1);
            if idle { open.remove(customer) } else { None }
        };
        if let Some(entry) = unused {
            close_now(entry.pool).await;
        }
    }

    /// Closes idle pools periodically and applies audit retention daily until `shutdown`,
    /// then closes every pool.
    pub async fn run_idle_sweeper(self: Arc<Self>, shutdown: mtm_plumbing::CancellationToken) {
        let period =
            (self.settings.idle_timeout / 2).clamp(Duration::from_secs(1), Duration::from_secs(60));
        let mut ticker = tokio::time::interval(period);
        let mut last_purge = Instant::now();
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = ticker.tick() => {
                    if last_purge.elapsed() >= Duration::from_secs(24 * 3600) {
                        last_purge = Instant::now();
                        match self.purge_all_stores().await {
                            Ok(swept) => tracing::info!(swept, "audit retention sweep done"),
                            Err(error) => tracing::warn!(%error, "audit retention sweep could not list the stores"),
                        }
                    }
                    let closed = self.close_idle().await;
                    if closed > 0 {
                        tracing::debug!(closed, open = self.open_count(), "closed idle store pools");
                    }
                }
            }
        }
        self.close_all().await;
    }
}

/// Migrates a store just opened and applies audit retention (R28) to it.
async fn bring_up_to_date(db: &DatabaseConnection, customer: &CustomerId) -> Result<(), Error> {
    migrate(db).await?;
    let purged = crate::store::retention::purge(db, customer).await?;
    if purged > 0 {
        tracing::info!(customer = %customer, purged, "audit records past retention deleted");
    }
    Ok(())
}

/// A provisioned store that cannot be opened or brought up to date (a file that is not
/// readable or not a database, a server that does not answer, a database that refuses the
/// connection) is UNAVAILABLE: a condition of the store, not of the request, that may pass,
/// so callers retry and an aggregated view reports this one customer as failed. The cause
/// goes to the log; the caller learns only which customer's store it was.
fn unopenable(customer: &CustomerId, error: Error) -> Error {
    let mut chain = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    tracing::warn!(customer = %customer, error = %chain, "a customer store cannot be opened");
    Error::Unavailable(format!(
        "the store of {} cannot be opened now",
        customer.name()
    ))
}

/// Runs the store's pending migrations. On SQLite they run in one transaction, so a new
/// store costs one durable commit instead of one per statement.
async fn migrate(db: &DatabaseConnection) -> Result<(), Error> {
    if db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        if Migrator::get_pending_migrations(db).await?.is_empty() {
            return Ok(());
        }
        let txn = db.begin().await?;
        Migrator::up(&txn, None).await?;
        txn.commit().await?;
        Ok(())
    } else {
        Ok(Migrator::up(db, None).await?)
    }
}

/// Closes a pool at once when nobody else holds it; otherwise it closes when the last
/// in-flight call lets go of it.
async fn close_now(pool: Arc<Pool>) {
    if let Some(pool) = Arc::into_inner(pool) {
        let db = pool.0.clone();
        drop(pool);
        if let Err(error) = db.close().await {
            tracing::warn!(%error, "closing a store pool");
        }
    }
}
