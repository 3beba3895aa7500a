//! The schema of rbac-svc's store, as sea-orm-migration migrations.

mod m20261123_000001_create_rbac_tables;
mod m20261123_000002_create_requests;
mod m20261207_000003_create_replicas;

use sea_orm_migration::prelude::*;

/// Every migration, oldest first.
pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_rbac_tables::Migration),
            Box::new(m20261123_000002_create_requests::Migration),
            Box::new(mtm_plumbing::audit::migration::CreateAuditRecords),
            Box::new(m20261207_000003_create_replicas::Migration),
        ]
    }
}
