//! Creates `primary_admins`: members of each relationship's *Primary admins* role (R10, R14).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, blob, boolean, integer, string};

use super::m20261123_000004_create_relationships::Relationships;

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PrimaryAdmins::Table)
                    .col(string(PrimaryAdmins::Id).primary_key())
                    .col(string(PrimaryAdmins::RelationshipId))
                    .col(string(PrimaryAdmins::Member))
                    .col(string(PrimaryAdmins::DisplayName))
                    .col(string(PrimaryAdmins::Upn))
                    .col(integer(PrimaryAdmins::Source))
                    .col(string(PrimaryAdmins::Invitation))
                    .col(blob(PrimaryAdmins::AddedBy))
                    .col(big_integer(PrimaryAdmins::CreateTime))
                    .col(boolean(PrimaryAdmins::Removing))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PrimaryAdmins::Table, PrimaryAdmins::RelationshipId)
                            .to(Relationships::Table, Relationships::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("primary_admins_by_member")
                    .table(PrimaryAdmins::Table)
                    .col(PrimaryAdmins::RelationshipId)
                    .col(PrimaryAdmins::Member)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PrimaryAdmins::Table).to_owned())
            .await
    }
}

/// Columns of `primary_admins`.
#[derive(DeriveIden)]
pub enum PrimaryAdmins {
    /// The table.
    Table,
    /// Server-assigned id (UUIDv7).
    Id,
    /// The relationship.
    RelationshipId,
    /// `tenants/{partner}/users/{user}` or `tenants/{partner}/groups/{group}`.
    Member,
    /// The member's display name when added.
    DisplayName,
    /// The member's UPN, for users.
    Upn,
    /// `PrimaryAdmin.Source` number.
    Source,
    /// For invitees: the accepted invitation.
    Invitation,
    /// Encoded actor who added it.
    AddedBy,
    /// When it was added.
    CreateTime,
    /// Set while its removal is under way in rbac-svc; no longer counts toward R14.
    Removing,
}
