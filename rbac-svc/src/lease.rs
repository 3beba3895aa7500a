//! Replica membership on PostgreSQL: every replica holds a lease row in `replicas` (when the
//! lease runs out, in the database's clock, and the newest revision its index has applied).
//! A replica decides only while its own lease is valid; it renews the lease only when its index
//! has applied every committed revision, so a lease is a promise "I am caught up, or I stop
//! deciding before the lease runs out". A revoking write waits until every other replica with
//! a live lease has recorded the write's revision ([`Lease::barrier`]); a silent replica's
//! lease runs out within one lease length, and with it that replica's right to decide.
//!
//! Why a renewal cannot slip past a barrier: it runs under `LOCK TABLE revisions IN SHARE MODE`,
//! which waits for any write in progress (writes hold the table in EXCLUSIVE mode until they
//! commit). So a renewal either commits before a write's revision does, and the writer then sees
//! that live lease and waits for its acknowledgement, or it reads the log with that revision
//! in it and renews only if its index has applied it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use tokio::sync::watch;

use crate::error::Error;

/// The PostgreSQL notification channel a replica notifies on when it records an applied
/// revision.
pub const ACK_CHANNEL: &str = "rbac_acks";

/// How often a waiting writer looks at the lease table when no acknowledgement arrives.
const POLL: Duration = Duration::from_millis(25);

/// Lease rows that ran out this long ago are deleted by the next renewal of any replica.
const FORGET_AFTER_SECS: i64 = 600;

/// This replica's lease.
pub struct Lease {
    id: String,
    length: Duration,
    base: Instant,
    /// When this replica stops deciding, in nanoseconds after `base`; 0 before the first
    /// renewal.
    valid_until: AtomicU64,
    renewed: watch::Sender<u64>,
    acks: watch::Sender<u64>,
}

impl Lease {
    /// A lease of `length` for a new replica with a fresh id; not valid until renewed.
    pub fn new(length: Duration) -> Lease {
        Lease {
            id: uuid::Uuid::now_v7().simple().to_string(),
            length,
            base: Instant::now(),
            valid_until: AtomicU64::new(0),
            renewed: watch::Sender::new(0),
            acks: watch::Sender::new(0),
        }
    }

    /// This replica's id in the lease table.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The lease length.
    pub fn length(&self) -> Duration {
        self.length
    }

    /// When the lease, as this replica counts it, runs out (`None` before the first renewal).
    pub fn deadline(&self) -> Option<Instant> {
        match self.valid_until.load(Ordering::Acquire) {
            0 => None,
            nanos => Some(self.base + Duration::from_nanos(nanos)),
        }
    }

    /// Whether this replica may decide now.
    pub fn valid(&self) -> bool {
        self.deadline().is_some_and(|until| Instant::now() < until)
    }

    /// Changes on every successful renewal.
    pub fn renewals(&self) -> watch::Receiver<u64> {
        self.renewed.subscribe()
    }

    /// Called when another replica has announced an acknowledgement on [`ACK_CHANNEL`].
    pub fn acknowledged(&self) {
        self.acks.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Renews the lease if `applied` is the newest committed revision; returns whether it
    /// did. The local deadline counts from before the transaction began and ends a twentieth
    /// of the lease early, so it never outlives the row's `lease_until` (counted from the
    /// transaction's start in the database's clock).
    pub async fn renew(&self, db: &DatabaseConnection, applied: i64) -> Result<bool, Error> {
        let started = Instant::now();
        let millis = i64::try_from(self.length.as_millis()).unwrap_or(i64::MAX);
        let txn = db.begin().await?;
        txn.execute_unprepared("LOCK TABLE revisions IN SHARE MODE")
            .await?;
        let renewed = txn
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "INSERT INTO replicas (id, lease_until, applied) \
                 SELECT $1, now() + $3::float8 * interval '1 millisecond', $2 \
                 WHERE $2 >= (SELECT COALESCE(MAX(revision), 0) FROM revisions) \
                 ON CONFLICT (id) DO UPDATE SET lease_until = EXCLUDED.lease_until, \
                 applied = GREATEST(replicas.applied, EXCLUDED.applied)",
                [self.id.clone().into(), applied.into(), millis.into()],
            ))
            .await?
            .rows_affected()
            == 1;
        txn.execute_unprepared(&format!(
            "DELETE FROM replicas WHERE lease_until < now() - interval '{FORGET_AFTER_SECS} seconds'"
        ))
        .await?;
        txn.commit().await?;
        if renewed {
            let until = started + self.length - self.length / 20;
            let nanos = u64::try_from(until.duration_since(self.base).as_nanos())
                .unwrap_or(u64::MAX)
                .max(1);
            self.valid_until.fetch_max(nanos, Ordering::AcqRel);
            self.renewed.send_modify(|n| *n = n.wrapping_add(1));
        }
        Ok(renewed)
    }

    /// Records that this replica's index has applied `applied`, and announces it on
    /// [`ACK_CHANNEL`] when that is news.
    pub async fn acknowledge(&self, db: &DatabaseConnection, applied: i64) -> Result<(), Error> {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "WITH acked AS (UPDATE replicas SET applied = $2 WHERE id = $1 AND applied < $2 \
                 RETURNING 1) SELECT pg_notify('{ACK_CHANNEL}', '') FROM acked"
            ),
            [self.id.clone().into(), applied.into()],
        ))
        .await?;
        Ok(())
    }

    /// Waits until every other replica holding a live lease has applied `revision`. A replica
    /// that does not answer loses its lease within one lease length, so the wait ends by then;
    /// UNAVAILABLE (the write is committed; a retry confirms it) if it has not after two.
    pub async fn barrier(&self, db: &DatabaseConnection, revision: i64) -> Result<(), Error> {
        let give_up = Instant::now() + 2 * self.length;
        let mut acks = self.acks.subscribe();
        loop {
            acks.borrow_and_update();
            let behind = db
                .query_one_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT COUNT(*) FROM replicas WHERE id <> $1 AND applied < $2 \
                     AND lease_until > clock_timestamp()",
                    [self.id.clone().into(), revision.into()],
                ))
                .await?
                .map(|row| row.try_get_by_index::<i64>(0))
                .transpose()?
                .unwrap_or(0);
            if behind == 0 {
                return Ok(());
            }
            let left = give_up.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Unconfirmed(revision));
            }
            let _ = tokio::time::timeout(left.min(POLL), acks.changed()).await;
        }
    }
}
