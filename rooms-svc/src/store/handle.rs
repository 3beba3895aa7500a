//! The handle of an open customer store: its connection pool, shared by every call using the
//! store and closed gracefully when the last handle goes, and the ticket activity bound a
//! ticket change raises before it commits (R25).

use std::sync::Arc;

use sea_orm::{DatabaseConnection, TransactionTrait};

use crate::activity::TicketActivity;
use crate::error::Error;
use crate::names::CustomerId;

/// An open connection pool; closed gracefully when the last handle goes.
#[derive(Debug)]
pub struct Pool(DatabaseConnection);

impl Pool {
    /// Wraps an open connection.
    pub fn new(db: DatabaseConnection) -> Arc<Self> {
        Arc::new(Self(db))
    }

    /// Closes the pool at once when nobody else holds it; otherwise it closes when the last
    /// in-flight call lets go of it.
    pub async fn close_now(pool: Arc<Self>) {
        if let Some(pool) = Arc::into_inner(pool) {
            let db = pool.0.clone();
            drop(pool);
            if let Err(error) = db.close().await {
                tracing::warn!(%error, "closing a store pool");
            }
        }
    }
}

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
    /// The handle of `customer`'s store open in `pool`, raising ticket bounds in `activity`.
    pub fn new(customer: CustomerId, pool: Arc<Pool>, activity: Arc<TicketActivity>) -> Self {
        Self {
            customer,
            pool,
            activity,
        }
    }

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
