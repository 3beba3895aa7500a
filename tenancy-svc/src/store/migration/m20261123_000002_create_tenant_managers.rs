//! Creates `tenant_managers`: users and groups of a partner holding the tenant-manager role (R4).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, blob, string};

use super::m20261123_000001_create_tenants::Tenants;

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TenantManagers::Table)
                    .col(string(TenantManagers::Id).primary_key())
                    .col(string(TenantManagers::PartnerId))
                    .col(string(TenantManagers::Member))
                    .col(string(TenantManagers::DisplayName))
                    .col(string(TenantManagers::Upn))
                    .col(blob(TenantManagers::AddedBy))
                    .col(big_integer(TenantManagers::CreateTime))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TenantManagers::Table, TenantManagers::PartnerId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("tenant_managers_by_member")
                    .table(TenantManagers::Table)
                    .col(TenantManagers::PartnerId)
                    .col(TenantManagers::Member)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TenantManagers::Table).to_owned())
            .await
    }
}

/// Columns of `tenant_managers`.
#[derive(DeriveIden)]
pub enum TenantManagers {
    /// The table.
    Table,
    /// Server-assigned id.
    Id,
    /// The partner tenant id.
    PartnerId,
    /// `tenants/{partner}/users/{user}` or `tenants/{partner}/groups/{group}`.
    Member,
    /// The member's display name when added.
    DisplayName,
    /// The member's UPN, for users.
    Upn,
    /// The encoded `mtm.common.v1.Actor` who added it.
    AddedBy,
    /// When it was added.
    CreateTime,
}
