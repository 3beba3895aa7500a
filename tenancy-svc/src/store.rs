//! The tenancy store: opening and migrating it, and the query functions the handlers use.

pub mod approvals;
pub mod entity;
pub mod invitations;
pub mod managers;
pub mod migration;
pub mod primary_admins;
pub mod relationships;
pub mod tenants;

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Statement};
use sea_orm_migration::MigratorTrait;

use crate::error::Result;

/// Opens the store at `url` and brings its schema up to date.
pub async fn open(url: &str) -> Result<DatabaseConnection> {
    let db = mtm_plumbing::store::open(url, 16).await?;
    migration::Migrator::up(&db, None).await?;
    Ok(db)
}

/// Microseconds since the Unix epoch, now.
pub fn now_us() -> i64 {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(elapsed.as_micros()).unwrap_or(i64::MAX)
}

/// A new server-assigned id (UUIDv7).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Begins a write transaction and serialises it with every other writer of tenant `tenant`'s
/// relationships by bumping its guard row first: a row lock on PostgreSQL, the write lock on
/// SQLite (taken at `BEGIN IMMEDIATE`, before anything is read, so no stale snapshot can be
/// upgraded).
pub async fn begin_guarded(db: &DatabaseConnection, tenant: &str) -> Result<DatabaseTransaction> {
    let txn = mtm_plumbing::store::begin_write(db).await?;
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => "UPDATE tenants SET guard = guard + 1 WHERE id = $1",
        _ => "UPDATE tenants SET guard = guard + 1 WHERE id = ?",
    };
    txn.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [tenant.into()],
    ))
    .await?;
    Ok(txn)
}

/// Encodes a protobuf message for a blob column.
pub fn encode<M: prost::Message>(message: &M) -> Vec<u8> {
    message.encode_to_vec()
}

/// Decodes a blob column; a damaged value reads as the default.
pub fn decode<M: prost::Message + Default>(bytes: &[u8]) -> M {
    M::decode(bytes).unwrap_or_default()
}
