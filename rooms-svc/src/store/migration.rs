//! The schema of a customer store, as sea-orm-migration migrations. Their number is the
//! schema version; `store::schema` decides when they run and which versions a binary serves.

use sea_orm_migration::prelude::*;

mod m20261123_000001_create_rooms_schema;
mod m20261207_000001_create_store_schema;

/// Runs the migrations of a customer store.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(mtm_plumbing::audit::migration::CreateAuditRecords),
            Box::new(m20261123_000001_create_rooms_schema::Migration),
            Box::new(m20261207_000001_create_store_schema::Migration),
        ]
    }
}

/// The name of the newest migration: the schema version of a migrated store.
pub fn schema_version() -> String {
    Migrator::migrations()
        .last()
        .map(|m| m.name().to_owned())
        .unwrap_or_default()
}
