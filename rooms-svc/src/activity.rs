//! Ticket activity: for every customer store, a time no ticket of the store is newer than,
//! kept in rooms-svc's own small database beside the stores. The gateway reads it for all of
//! a caller's customers in one query to skip, without opening their stores, the customers
//! that cannot contribute to a page of the *all tickets* view (R25).
//!
//! The time is an upper bound: it is raised, rounded up to the next whole second, *before* a
//! ticket change commits in the customer's store, and never lowered, not even when a store is
//! deleted (its bound becomes "unknown", the largest value). So on every replica it is at
//! least the newest ticket's update time once that ticket can be read. A customer without a
//! row, or whose store was deleted, is unknown and must be asked; 0 means the store has no
//! tickets.

use std::collections::HashMap;
use std::sync::Mutex;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use sea_orm_migration::MigratorTrait;

use crate::error::Error;
use crate::names::CustomerId;

/// What `{customer}` becomes in the stores' template to name the activity database by
/// default, beside the stores (same directory or server): never a customer id (ids start
/// with a letter or digit), so it is never mistaken for a store.
pub const DATABASE_ID: &str = "_ticket-activity";

/// Connections of the activity database's pool.
const MAX_CONNECTIONS: u32 = 4;

/// The bound of a customer whose store was deleted: unknown for good.
const UNKNOWN: i64 = i64::MAX;

/// Customers read per query.
const READ_CHUNK: usize = 1000;

const MICROS_PER_SECOND: i64 = 1_000_000;

/// The newest-ticket bounds of every store, and what this process has already written.
#[derive(Debug)]
pub struct TicketActivity {
    db: DatabaseConnection,
    /// Bounds this process has written: the row holds at least as much, so a change at or
    /// before one of them needs no write.
    written: Mutex<HashMap<CustomerId, i64>>,
}

/// `time` rounded up to the next whole second (at least one microsecond later), so a busy
/// store raises its bound at most once a second.
fn bound_for(time: i64) -> i64 {
    (time.div_euclid(MICROS_PER_SECOND) + 1).saturating_mul(MICROS_PER_SECOND)
}

impl TicketActivity {
    /// Opens (creating and migrating when needed) the activity database at `url`.
    pub async fn open(url: &str) -> Result<Self, Error> {
        let db = mtm_plumbing::store::open(url, MAX_CONNECTIONS).await?;
        migration::Migrator::up(&db, None).await?;
        Ok(Self {
            db,
            written: Mutex::new(HashMap::new()),
        })
    }

    fn lock_written(&self) -> std::sync::MutexGuard<'_, HashMap<CustomerId, i64>> {
        self.written
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Makes the customer's bound at least `time` (microseconds): called before a change
    /// that gives a ticket that update time commits, and with 0 when a store is created.
    pub async fn raise(&self, customer: &CustomerId, time: i64) -> Result<(), Error> {
        if self
            .lock_written()
            .get(customer)
            .is_some_and(|written| *written >= time)
        {
            return Ok(());
        }
        let bound = if time > 0 { bound_for(time) } else { 0 };
        self.upsert(customer, bound).await?;
        let mut written = self.lock_written();
        let entry = written.entry(customer.clone()).or_insert(bound);
        *entry = Ord::max(*entry, bound);
        Ok(())
    }

    /// `INSERT … ON CONFLICT DO UPDATE` keeping the larger bound.
    async fn upsert(&self, customer: &CustomerId, bound: i64) -> Result<(), Error> {
        let current = Expr::col((table::Activity::Table, table::Activity::NewestBound));
        let incoming = Expr::col((Alias::new("excluded"), table::Activity::NewestBound));
        let statement = Query::insert()
            .into_table(table::Activity::Table)
            .columns([table::Activity::Customer, table::Activity::NewestBound])
            .values_panic([customer.as_str().into(), bound.into()])
            .on_conflict(
                OnConflict::column(table::Activity::Customer)
                    .value(
                        table::Activity::NewestBound,
                        Expr::case(incoming.clone().gt(current.clone()), incoming).finally(current),
                    )
                    .to_owned(),
            )
            .to_owned();
        self.db.execute(&statement).await?;
        Ok(())
    }

    /// Makes the customer unknown for good (its store was deleted): a bound never goes down,
    /// so what other replicas remember having written stays true.
    pub async fn forget(&self, customer: &CustomerId) -> Result<(), Error> {
        self.upsert(customer, UNKNOWN).await?;
        self.lock_written().insert(customer.clone(), UNKNOWN);
        Ok(())
    }

    /// The bounds of the known customers among `customers` (microseconds; 0: no tickets).
    pub async fn bounds(
        &self,
        customers: &[CustomerId],
    ) -> Result<HashMap<CustomerId, i64>, Error> {
        let mut found = HashMap::with_capacity(customers.len());
        for chunk in customers.chunks(READ_CHUNK) {
            let statement = Query::select()
                .columns([table::Activity::Customer, table::Activity::NewestBound])
                .from(table::Activity::Table)
                .and_where(
                    Expr::col(table::Activity::Customer)
                        .is_in(chunk.iter().map(|c| c.as_str().to_owned())),
                )
                .to_owned();
            for row in self.db.query_all(&statement).await? {
                let id: String = row.try_get_by_index(0)?;
                let bound: i64 = row.try_get_by_index(1)?;
                if let Some(customer) = CustomerId::new(&id).filter(|_| bound != UNKNOWN) {
                    found.insert(customer, bound);
                }
            }
        }
        Ok(found)
    }

    /// Closes the pool (at shutdown).
    pub async fn close(&self) {
        if let Err(error) = self.db.clone().close().await {
            tracing::warn!(%error, "closing the ticket activity database");
        }
    }
}

mod table {
    use sea_orm::DeriveIden;

    /// `ticket_activity (customer PRIMARY KEY, newest_bound)`.
    #[derive(DeriveIden, Clone, Copy)]
    pub enum Activity {
        #[sea_orm(iden = "ticket_activity")]
        Table,
        Customer,
        NewestBound,
    }
}

mod migration {
    use sea_orm_migration::prelude::*;

    use super::table::Activity;

    /// The activity database's migrations.
    pub struct Migrator;

    impl MigratorTrait for Migrator {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            vec![Box::new(CreateTicketActivity)]
        }
    }

    #[derive(DeriveMigrationName)]
    struct CreateTicketActivity;

    #[async_trait::async_trait]
    impl MigrationTrait for CreateTicketActivity {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(Activity::Table)
                        .if_not_exists()
                        .col(
                            ColumnDef::new(Activity::Customer)
                                .string()
                                .not_null()
                                .primary_key(),
                        )
                        .col(
                            ColumnDef::new(Activity::NewestBound)
                                .big_integer()
                                .not_null(),
                        )
                        .to_owned(),
                )
                .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(id: &str) -> CustomerId {
        CustomerId::new(id).expect("id")
    }

    #[test]
    fn bounds_round_up_to_the_next_second() {
        assert_eq!(bound_for(0), 1_000_000);
        assert_eq!(bound_for(1), 1_000_000);
        assert_eq!(bound_for(999_999), 1_000_000);
        assert_eq!(bound_for(1_000_000), 2_000_000);
    }

    #[tokio::test]
    async fn r25_a_bound_only_grows_and_unknown_customers_are_left_out() {
        let dir = tempfile::tempdir().expect("tempdir");
        bounds_only_grow(&format!("sqlite://{}/activity.db", dir.path().display())).await;
    }

    #[cfg(feature = "postgres-tests")]
    #[tokio::test]
    async fn r25_a_bound_only_grows_and_unknown_customers_are_left_out_postgres() {
        let url = mtm_plumbing::testing::unique_postgres_url("mtm_activity");
        bounds_only_grow(&url).await;
        mtm_plumbing::testing::drop_postgres_database(&url).await;
    }

    async fn bounds_only_grow(url: &str) {
        let url = url.to_owned();
        let activity = TicketActivity::open(&url).await.expect("open");
        let (contoso, fabrikam, northwind) = (
            customer("contoso"),
            customer("fabrikam"),
            customer("northwind"),
        );
        activity.raise(&contoso, 0).await.expect("created");
        activity.raise(&fabrikam, 5_500_000).await.expect("raise");
        activity
            .raise(&fabrikam, 2_000_000)
            .await
            .expect("older change");
        let all = [contoso.clone(), fabrikam.clone(), northwind.clone()];
        let bounds = activity.bounds(&all).await.expect("read");
        assert_eq!(bounds.get(&contoso), Some(&0), "no tickets");
        assert_eq!(bounds.get(&fabrikam), Some(&6_000_000));
        assert_eq!(bounds.get(&northwind), None, "unknown");

        // A second process (a replica) sharing the database never lowers a bound it did not
        // write itself.
        let replica = TicketActivity::open(&url).await.expect("open again");
        replica
            .raise(&fabrikam, 3_000_000)
            .await
            .expect("older on the replica");
        replica.raise(&contoso, 0).await.expect("created again");
        let bounds = activity.bounds(&all).await.expect("read");
        assert_eq!(bounds.get(&fabrikam), Some(&6_000_000));
        assert_eq!(bounds.get(&contoso), Some(&0));

        replica.forget(&fabrikam).await.expect("forget");
        activity
            .raise(&fabrikam, 0)
            .await
            .expect("provisioned again");
        activity
            .raise(&fabrikam, 7_000_000)
            .await
            .expect("a ticket");
        let bounds = activity.bounds(&all).await.expect("read");
        assert_eq!(bounds.get(&fabrikam), None, "a deleted store stays unknown");
        activity.close().await;
        replica.close().await;
    }
}
