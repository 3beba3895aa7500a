//! The schema, built only by these migrations, in order.

mod m20261123_000001_create_directories;
mod m20261123_000002_create_users;
mod m20261123_000003_create_groups;
mod m20261123_000004_create_directory_role_grants;
mod m20261123_000005_create_identity_providers;
mod m20261123_000006_create_signing_keys;
mod m20261123_000007_create_idempotency_keys;
mod m20261123_000008_create_directory_epoch;

use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Runs identity-svc's migrations.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_directories::Migration),
            Box::new(m20261123_000002_create_users::Migration),
            Box::new(m20261123_000003_create_groups::Migration),
            Box::new(m20261123_000004_create_directory_role_grants::Migration),
            Box::new(m20261123_000005_create_identity_providers::Migration),
            Box::new(m20261123_000006_create_signing_keys::Migration),
            Box::new(m20261123_000007_create_idempotency_keys::Migration),
            Box::new(mtm_plumbing::audit::migration::CreateAuditRecords),
            Box::new(m20261123_000008_create_directory_epoch::Migration),
        ]
    }
}
