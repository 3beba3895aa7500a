//! Creates `identity_providers` (issuers unique across the system).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, string, string_uniq, text};

use super::m20261123_000001_create_directories::Directories;

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdentityProviders::Table)
                    .col(string(IdentityProviders::Name).primary_key())
                    .col(string(IdentityProviders::TenantId))
                    .col(string(IdentityProviders::DisplayName))
                    .col(string_uniq(IdentityProviders::Issuer))
                    .col(string(IdentityProviders::Audience))
                    .col(text(IdentityProviders::JwksJson))
                    .col(string(IdentityProviders::UpnClaim))
                    .col(big_integer(IdentityProviders::CreateTime))
                    .col(big_integer(IdentityProviders::UpdateTime))
                    .col(big_integer(IdentityProviders::Version))
                    .foreign_key(
                        ForeignKey::create()
                            .from(IdentityProviders::Table, IdentityProviders::TenantId)
                            .to(Directories::Table, Directories::TenantId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IdentityProviders::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum IdentityProviders {
    Table,
    Name,
    TenantId,
    DisplayName,
    Issuer,
    Audience,
    JwksJson,
    UpnClaim,
    CreateTime,
    UpdateTime,
    Version,
}
