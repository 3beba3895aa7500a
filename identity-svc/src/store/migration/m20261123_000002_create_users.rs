//! Creates `users` (UPN lower-cased and unique) and `user_preferences`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, boolean, string, string_null, string_uniq};

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
                    .table(Users::Table)
                    .col(string(Users::Name).primary_key())
                    .col(string(Users::TenantId))
                    .col(string_uniq(Users::Upn))
                    .col(string(Users::DisplayName))
                    .col(boolean(Users::Enabled))
                    .col(string_null(Users::PasswordHash))
                    .col(big_integer(Users::CreateTime))
                    .col(big_integer(Users::UpdateTime))
                    .col(big_integer(Users::Version))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Users::Table, Users::TenantId)
                            .to(Directories::Table, Directories::TenantId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("users_by_tenant")
                    .table(Users::Table)
                    .col(Users::TenantId)
                    .col(Users::Upn)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UserPreferences::Table)
                    .col(string(UserPreferences::UserName).primary_key())
                    .col(boolean(UserPreferences::AllTicketsViewEnabled))
                    .col(big_integer(UserPreferences::UpdateTime))
                    .col(big_integer(UserPreferences::Version))
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserPreferences::Table, UserPreferences::UserName)
                            .to(Users::Table, Users::Name)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UserPreferences::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}

/// Columns of `users`.
#[derive(DeriveIden)]
pub enum Users {
    /// The table.
    Table,
    /// Primary key.
    Name,
    /// Owning tenant.
    TenantId,
    /// Lower-cased UPN.
    Upn,
    /// Display name.
    DisplayName,
    /// Enabled flag.
    Enabled,
    /// Argon2id hash.
    PasswordHash,
    /// Creation time.
    CreateTime,
    /// Last change.
    UpdateTime,
    /// Etag version.
    Version,
}

#[derive(DeriveIden)]
enum UserPreferences {
    Table,
    UserName,
    AllTicketsViewEnabled,
    UpdateTime,
    Version,
}
