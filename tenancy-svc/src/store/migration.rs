//! The schema, built only by these migrations, in order (the shared audit table included).

mod m20261123_000001_create_tenants;
mod m20261123_000002_create_tenant_managers;
mod m20261123_000003_create_invitations;
mod m20261123_000004_create_relationships;
mod m20261123_000005_create_primary_admins;
mod m20261123_000006_create_approval_requests;

use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Runs tenancy-svc's migrations.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(mtm_plumbing::audit::migration::CreateAuditRecords),
            Box::new(m20261123_000001_create_tenants::Migration),
            Box::new(m20261123_000002_create_tenant_managers::Migration),
            Box::new(m20261123_000003_create_invitations::Migration),
            Box::new(m20261123_000004_create_relationships::Migration),
            Box::new(m20261123_000005_create_primary_admins::Migration),
            Box::new(m20261123_000006_create_approval_requests::Migration),
        ]
    }
}
