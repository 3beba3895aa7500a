//! Creates `directory_role_grants`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, integer, string};

use super::m20261123_000002_create_users::Users;

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DirectoryRoleGrants::Table)
                    .col(string(DirectoryRoleGrants::UserName))
                    .col(integer(DirectoryRoleGrants::Role))
                    .col(string(DirectoryRoleGrants::TenantId))
                    .col(big_integer(DirectoryRoleGrants::GrantTime))
                    .primary_key(
                        Index::create()
                            .col(DirectoryRoleGrants::UserName)
                            .col(DirectoryRoleGrants::Role),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(DirectoryRoleGrants::Table, DirectoryRoleGrants::UserName)
                            .to(Users::Table, Users::Name)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("directory_role_grants_by_tenant")
                    .table(DirectoryRoleGrants::Table)
                    .col(DirectoryRoleGrants::TenantId)
                    .col(DirectoryRoleGrants::Role)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DirectoryRoleGrants::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum DirectoryRoleGrants {
    Table,
    UserName,
    Role,
    TenantId,
    GrantTime,
}
