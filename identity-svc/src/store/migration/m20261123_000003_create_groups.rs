//! Creates `security_groups` and `group_members`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, integer, string};

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
                    .table(SecurityGroups::Table)
                    .col(string(SecurityGroups::Name).primary_key())
                    .col(string(SecurityGroups::TenantId))
                    .col(string(SecurityGroups::DisplayName))
                    .col(string(SecurityGroups::Description))
                    .col(big_integer(SecurityGroups::CreateTime))
                    .col(big_integer(SecurityGroups::UpdateTime))
                    .col(big_integer(SecurityGroups::Version))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SecurityGroups::Table, SecurityGroups::TenantId)
                            .to(Directories::Table, Directories::TenantId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("security_groups_display_name")
                    .table(SecurityGroups::Table)
                    .col(SecurityGroups::TenantId)
                    .col(SecurityGroups::DisplayName)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GroupMembers::Table)
                    .col(string(GroupMembers::GroupName))
                    .col(string(GroupMembers::MemberName))
                    .col(integer(GroupMembers::MemberKind))
                    .col(string(GroupMembers::TenantId))
                    .primary_key(
                        Index::create()
                            .col(GroupMembers::GroupName)
                            .col(GroupMembers::MemberName),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(GroupMembers::Table, GroupMembers::GroupName)
                            .to(SecurityGroups::Table, SecurityGroups::Name)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("group_members_by_member")
                    .table(GroupMembers::Table)
                    .col(GroupMembers::MemberName)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("group_members_by_tenant")
                    .table(GroupMembers::Table)
                    .col(GroupMembers::TenantId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(GroupMembers::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SecurityGroups::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SecurityGroups {
    Table,
    Name,
    TenantId,
    DisplayName,
    Description,
    CreateTime,
    UpdateTime,
    Version,
}

#[derive(DeriveIden)]
enum GroupMembers {
    Table,
    GroupName,
    MemberName,
    MemberKind,
    TenantId,
}
