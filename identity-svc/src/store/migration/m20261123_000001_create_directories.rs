//! Creates `directories` (one per tenant) and `domains`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_integer_null, boolean, integer, string};

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Directories::Table)
                    .col(string(Directories::TenantId).primary_key())
                    .col(string(Directories::DisplayName))
                    .col(integer(Directories::Kind))
                    .col(big_integer(Directories::CreateTime))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Domains::Table)
                    .col(string(Domains::DomainName).primary_key())
                    .col(string(Domains::TenantId))
                    .col(boolean(Domains::Verified))
                    .col(string(Domains::VerificationToken))
                    .col(big_integer(Domains::CreateTime))
                    .col(big_integer_null(Domains::VerifyTime))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Domains::Table, Domains::TenantId)
                            .to(Directories::Table, Directories::TenantId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("domains_by_tenant")
                    .table(Domains::Table)
                    .col(Domains::TenantId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Domains::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Directories::Table).to_owned())
            .await
    }
}

/// Columns of `directories`.
#[derive(DeriveIden)]
pub enum Directories {
    /// The table.
    Table,
    /// Primary key.
    TenantId,
    /// Display name.
    DisplayName,
    /// Tenant kind.
    Kind,
    /// Creation time.
    CreateTime,
}

#[derive(DeriveIden)]
enum Domains {
    Table,
    DomainName,
    TenantId,
    Verified,
    VerificationToken,
    CreateTime,
    VerifyTime,
}
