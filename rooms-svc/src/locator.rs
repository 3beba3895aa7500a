//! The store locator: which store holds a customer's data (R27), and a capped, least recently
//! used cache of open connection pools. Stores are opened lazily, brought to this binary's
//! schema version on first open (or refused when newer than it serves, see `store::schema`),
//! closed when idle, and the pool of the least recently used store is closed first when the
//! cap is reached. Whoever watches first opens (the audit retention task) hears of each.

mod provisioned;
mod target;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;
use tokio::sync::mpsc;

use crate::activity::TicketActivity;
use crate::error::Error;
use crate::names::CustomerId;
use crate::store::schema::{self, Plan};
pub use crate::store::{Pool, Store};
pub use provisioned::provisioned;
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
    first_opens: Mutex<Option<mpsc::UnboundedSender<CustomerId>>>,
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
            first_opens: Mutex::new(None),
        }
    }

    /// The customers whose stores this process opens from now on, each time a closed store is
    /// opened; the previous watcher, if any, hears no more.
    pub fn watch_first_opens(&self) -> mpsc::UnboundedReceiver<CustomerId> {
        let (sender, receiver) = mpsc::unbounded_channel();
        *self
            .first_opens
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(sender);
        receiver
    }

    fn announce_first_open(&self, customer: &CustomerId) {
        let watcher = self
            .first_opens
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(sender) = watcher.as_ref() {
            // A watcher that has gone away just misses the news.
            let _ = sender.send(customer.clone());
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
        Some(Store::new(
            customer.clone(),
            entry.pool.clone(),
            self.activity.clone(),
        ))
    }

    /// The customer's store when a pool of it is open now; never opens one.
    pub fn if_open(&self, customer: &CustomerId) -> Option<Store> {
        self.cached(customer)
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

    /// The customer's store, opened (and brought to this binary's schema version) on first
    /// use. NOT_FOUND when the customer has no store: stores are only ever created by
    /// [`Locator::provision`]. UNAVAILABLE when it cannot be opened or its schema is newer
    /// than this binary serves.
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
            let found = schema::read(&db)
                .await
                .map_err(|error| unopenable(customer, error.into()))?;
            if found.plan() == Plan::Refuse {
                if let Err(error) = db.close().await {
                    tracing::warn!(%error, "closing a refused store");
                }
                return Err(schema::refusal(customer, &found));
            }
            schema::bring_up_to_date(&db, customer)
                .await
                .map_err(|error| unopenable(customer, error))?;
            self.note_activity(customer, &db).await?;
            let store = self.insert(customer, db).await;
            self.announce_first_open(customer);
            Ok(store)
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
            schema::bring_up_to_date(store.db(), customer).await?;
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
            schema::bring_up_to_date(store.db(), customer).await?;
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
                Pool::close_now(entry.pool).await;
            }
            self.settings.templates.target(customer)?.delete().await
        }
        .await;
        drop(lock);
        self.forget_opening(customer);
        result
    }

    async fn insert(&self, customer: &CustomerId, db: DatabaseConnection) -> Store {
        let pool = Pool::new(db);
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
            Pool::close_now(pool).await;
        }
        Store::new(customer.clone(), pool, self.activity.clone())
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
            Pool::close_now(pool).await;
        }
        count
    }

    /// Closes every open pool and the activity database (at shutdown).
    pub async fn close_all(&self) {
        let all: Vec<Arc<Pool>> = self.lock_open().drain().map(|(_, e)| e.pool).collect();
        for pool in all {
            Pool::close_now(pool).await;
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
        provisioned(&self.settings.templates).await
    }

    /// Closes the customer's pool when no call holds it.
    pub async fn close_if_unused(&self, customer: &CustomerId) {
        let unused = {
            let mut open = self.lock_open();
            let idle = open
                .get(customer)
                .is_some_and(|entry| Arc::strong_count(&entry.pool) == 1);
            if idle { open.remove(customer) } else { None }
        };
        if let Some(entry) = unused {
            Pool::close_now(entry.pool).await;
        }
    }

    /// Closes idle pools periodically until `shutdown`, then closes every pool.
    pub async fn run_idle_sweeper(self: Arc<Self>, shutdown: mtm_plumbing::CancellationToken) {
        let period =
            (self.settings.idle_timeout / 2).clamp(Duration::from_secs(1), Duration::from_secs(60));
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = ticker.tick() => {
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

/// A provisioned store that cannot be opened or brought up to date (a file that is not
/// readable or not a database, a server that does not answer, a database that refuses the
/// connection) is UNAVAILABLE: a condition of the store, not of the request, that may pass,
/// so callers retry and an aggregated view reports this one customer as failed. The cause
/// goes to the log; the caller learns only which customer's store it was.
fn unopenable(customer: &CustomerId, error: Error) -> Error {
    let chain = error.with_causes();
    tracing::warn!(customer = %customer, error = %chain, "a customer store cannot be opened");
    Error::Unavailable(format!(
        "the store of {} cannot be opened now",
        customer.name()
    ))
}
