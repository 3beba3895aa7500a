//! Schema versions of customer stores, and which of them this binary serves.
//!
//! A store's schema version is the number of store migrations applied to it (sea-orm's
//! `seaql_migrations` table); a binary's is the number of migrations it ships. After every
//! migration run the store also records, in `store_schema`, the oldest binary version that
//! still serves it. A binary at version B opening a store at version V:
//! - V = B: serves it;
//! - V < B: migrates it to B, then serves it (every binary ships every migration since the
//!   first, so every older store can be brought up);
//! - V > B: serves it unchanged when the store says binaries from B on serve it (the newer
//!   migrations only added what older code ignores), and refuses it otherwise.
//!
//! Migrations never run backwards.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement, TransactionTrait, Value};
use sea_orm_migration::{MigratorTrait, SchemaManager};

use super::migration::Migrator;
use crate::error::Error;
use crate::names::CustomerId;

/// The oldest binary schema version that serves a store at this binary's version. Binaries
/// before version 3 do not read the store's record and stop at migrations they do not know,
/// so version 3 is also the oldest that serves a version-3 store. A later migration that
/// older binaries can ignore (a new table, a nullable column) keeps this value; one they
/// cannot work with raises it to its own version.
pub const OLDEST_READER: u32 = 3;

/// This binary's schema version: the number of store migrations it ships.
pub fn version() -> u32 {
    u32::try_from(Migrator::migrations().len()).unwrap_or(u32::MAX)
}

/// A store's schema as found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    /// Migrations applied.
    pub version: u32,
    /// Whether the applied migrations are the first ones this binary ships.
    known: bool,
    /// The store's record: (version, oldest binary version serving it), when it has one.
    record: Option<(u32, u32)>,
}

impl Found {
    /// The oldest binary version that serves the store: from its record when the record is
    /// for the version the store is at, otherwise only binaries of its own version.
    pub fn oldest_reader(&self) -> u32 {
        match self.record {
            Some((version, oldest)) if version == self.version => oldest.min(version),
            _ => self.version,
        }
    }

    /// What this binary does with the store.
    pub fn plan(&self) -> Plan {
        let own = version();
        if self.known && self.version <= own {
            if self.version == own && self.record == Some((own, OLDEST_READER)) {
                Plan::Current
            } else {
                Plan::Upgrade
            }
        } else if !self.known && self.version > own && self.oldest_reader() <= own {
            Plan::ServeNewer
        } else {
            Plan::Refuse
        }
    }
}

/// What a binary does with a store it opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// At this binary's version: served as is.
    Current,
    /// Older (or its record is missing): migrated, then served.
    Upgrade,
    /// Newer, and served unchanged by this binary.
    ServeNewer,
    /// Newer than this binary serves: refused.
    Refuse,
}

/// What [`bring_up_to_date`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing: the store was at this binary's version.
    Current,
    /// Migrated from this version to this binary's.
    Migrated {
        /// The version found.
        from: u32,
    },
    /// Nothing: the store is newer, and served by this binary.
    Newer {
        /// The version found.
        version: u32,
    },
}

/// Reads the store's schema version and record.
pub async fn read(db: &DatabaseConnection) -> Result<Found, DbErr> {
    let manager = SchemaManager::new(db);
    let applied: Vec<String> = if manager.has_table("seaql_migrations").await? {
        db.query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM seaql_migrations",
        ))
        .await?
        .iter()
        .map(|row| row.try_get_by_index(0))
        .collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    let own: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    // Migrations run in list order, whatever their names' order: the applied ones must be the
    // first ones of the list.
    let known = applied.len() <= own.len()
        && applied
            .iter()
            .all(|name| own[..applied.len()].contains(name));
    let record = if manager.has_table("store_schema").await? {
        match db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT version, oldest_reader FROM store_schema WHERE id = 1",
            ))
            .await?
        {
            Some(row) => {
                let version: i32 = row.try_get_by_index(0)?;
                let oldest: i32 = row.try_get_by_index(1)?;
                Some((
                    u32::try_from(version).unwrap_or(0),
                    u32::try_from(oldest).unwrap_or(0),
                ))
            }
            None => None,
        }
    } else {
        None
    };
    Ok(Found {
        version: u32::try_from(applied.len()).unwrap_or(u32::MAX),
        known,
        record,
    })
}

/// The refusal of a store newer than this binary serves: UNAVAILABLE, because another replica
/// (of the newer release a rolling upgrade is bringing in) serves it, so a retry may pass.
pub fn refusal(customer: &CustomerId, found: &Found) -> Error {
    tracing::warn!(
        customer = %customer,
        store_version = found.version,
        oldest_reader = found.oldest_reader(),
        own_version = version(),
        "a customer store has a newer schema than this binary serves"
    );
    Error::Unavailable(format!(
        "the store of {} has schema version {}, served by rooms-svc from schema version {} on; \
         this one has version {}",
        customer.name(),
        found.version,
        found.oldest_reader(),
        version()
    ))
}

/// Brings the store to this binary's version unless it is current or newer; refuses a store
/// newer than this binary serves. On SQLite the migrations and the record are one
/// transaction; on PostgreSQL each migration is one, and the record follows. A migration
/// that loses a race with another process migrating the same store counts as done once the
/// store is found current.
pub async fn bring_up_to_date(
    db: &DatabaseConnection,
    customer: &CustomerId,
) -> Result<Outcome, Error> {
    let found = read(db).await?;
    match found.plan() {
        Plan::Current => Ok(Outcome::Current),
        Plan::ServeNewer => Ok(Outcome::Newer {
            version: found.version,
        }),
        Plan::Refuse => Err(refusal(customer, &found)),
        Plan::Upgrade => match migrate(db).await {
            Ok(()) => Ok(Outcome::Migrated {
                from: found.version,
            }),
            Err(error) if matches!(read(db).await.map(|f| f.plan()), Ok(Plan::Current)) => {
                tracing::debug!(customer = %customer, %error, "migrated meanwhile by another process");
                Ok(Outcome::Current)
            }
            Err(error) => Err(error.into()),
        },
    }
}

async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        let txn = db
            .begin_with_options(sea_orm::TransactionOptions {
                sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?;
        Migrator::up(&txn, None).await?;
        record(&txn).await?;
        txn.commit().await
    } else {
        Migrator::up(db, None).await?;
        record(db).await
    }
}

/// Writes this binary's version and [`OLDEST_READER`] into the store's record (after its
/// migrations ran).
pub async fn record<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => {
            "INSERT INTO store_schema (id, version, oldest_reader) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET version = $1, oldest_reader = $2"
        }
        _ => {
            "INSERT INTO store_schema (id, version, oldest_reader) VALUES (1, ?1, ?2) \
             ON CONFLICT (id) DO UPDATE SET version = ?1, oldest_reader = ?2"
        }
    };
    let own = i32::try_from(version()).unwrap_or(i32::MAX);
    let oldest = i32::try_from(OLDEST_READER).unwrap_or(i32::MAX);
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [Value::from(own), Value::from(oldest)],
    ))
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(version: u32, known: bool, record: Option<(u32, u32)>) -> Found {
        Found {
            version,
            known,
            record,
        }
    }

    #[test]
    fn plans_follow_the_compatibility_rule() {
        let own = version();
        let current = Some((own, OLDEST_READER));
        assert_eq!(found(own, true, current).plan(), Plan::Current);
        assert_eq!(
            found(own, true, None).plan(),
            Plan::Upgrade,
            "record missing"
        );
        assert_eq!(found(own - 1, true, None).plan(), Plan::Upgrade);
        assert_eq!(found(0, true, None).plan(), Plan::Upgrade, "empty store");
        assert_eq!(
            found(own + 1, false, Some((own + 1, own))).plan(),
            Plan::ServeNewer
        );
        assert_eq!(
            found(own + 1, false, Some((own + 1, own + 1))).plan(),
            Plan::Refuse
        );
        assert_eq!(
            found(own + 2, false, Some((own + 1, own))).plan(),
            Plan::Refuse,
            "a record left behind by an interrupted run claims nothing"
        );
        assert_eq!(
            found(own, false, current).plan(),
            Plan::Refuse,
            "another lineage"
        );
    }
}
