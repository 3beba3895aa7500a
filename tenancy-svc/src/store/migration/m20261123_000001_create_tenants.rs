//! Creates `tenants`: every partner and customer known to MTM, with elite enrolment.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, boolean, string, string_null, string_uniq, text,
};

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .col(string(Tenants::Id).primary_key())
                    .col(string(Tenants::Kind))
                    .col(string(Tenants::DisplayName))
                    .col(string_uniq(Tenants::PrimaryDomain))
                    .col(text(Tenants::Domains))
                    .col(string(Tenants::State))
                    .col(boolean(Tenants::ElitePartner))
                    .col(big_integer_null(Tenants::EnrollTime))
                    .col(big_integer_null(Tenants::UnenrollTime))
                    .col(string(Tenants::FirstAdminUser))
                    .col(string(Tenants::FirstAdminUpn))
                    .col(string(Tenants::FirstAdminDisplayName))
                    .col(string_null(Tenants::FirstAdminPassword))
                    .col(string_null(Tenants::RequestId))
                    .col(big_integer(Tenants::CreateTime))
                    .col(big_integer(Tenants::UpdateTime))
                    .col(big_integer(Tenants::Version))
                    .col(big_integer(Tenants::Guard))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Tenants::Table).to_owned())
            .await
    }
}

/// Columns of `tenants`.
#[derive(DeriveIden)]
pub enum Tenants {
    /// The table.
    Table,
    /// The tenant id.
    Id,
    /// `PARTNER` or `CUSTOMER`.
    Kind,
    /// Human-readable name.
    DisplayName,
    /// The first domain.
    PrimaryDomain,
    /// Every domain, one per line.
    Domains,
    /// `PROVISIONING`, `ACTIVE` or `DELETING`.
    State,
    /// Whether enrolled as an elite partner (R1).
    ElitePartner,
    /// Last enrolment.
    EnrollTime,
    /// Last unenrolment.
    UnenrollTime,
    /// The first admin's resource name, once the directory exists.
    FirstAdminUser,
    /// The first admin's UPN.
    FirstAdminUpn,
    /// The first admin's display name.
    FirstAdminDisplayName,
    /// The first admin's initial password, kept only until the directory exists.
    FirstAdminPassword,
    /// The creating request's idempotency key.
    RequestId,
    /// Creation time, microseconds since the epoch.
    CreateTime,
    /// Last change.
    UpdateTime,
    /// Bumped on every change; the etag.
    Version,
    /// Bumped to serialise writers of the tenant's relationships.
    Guard,
}
