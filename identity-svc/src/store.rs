//! The identity store: sea-orm entities, migrations and the query functions the handlers use.
//! Every mutation runs in one transaction.

pub mod directories;
pub mod domains;
pub mod entity;
pub mod epoch;
pub mod groups;
pub mod idempotency;
pub mod keys;
pub mod migration;
pub mod principals;
pub mod providers;
pub mod users;

use sea_orm::{DatabaseConnection, DbErr, SqlErr};
use sea_orm_migration::MigratorTrait;

/// Opens the store at `url` and brings its schema up to date.
pub async fn open(url: &str) -> Result<DatabaseConnection, mtm_plumbing::store::StoreError> {
    let db = mtm_plumbing::store::open(url, 8).await?;
    migration::Migrator::up(&db, None).await?;
    Ok(db)
}

/// The current time in microseconds since the Unix epoch, as stored.
pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Converts stored microseconds to a protobuf timestamp.
pub fn timestamp(micros: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: i32::try_from(micros.rem_euclid(1_000_000) * 1000).unwrap_or(0),
    }
}

/// Whether a database error is a unique-constraint violation.
pub fn is_unique_violation(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}
