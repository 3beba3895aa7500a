//! Creates `relationships`; the unique `active_pair` (NULL once TERMINATED) keeps one live
//! relationship per pair (R15).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, blob, blob_null, boolean, integer, string, string_null,
};

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
                    .table(Relationships::Table)
                    .col(string(Relationships::Id).primary_key())
                    .col(string(Relationships::CustomerId))
                    .col(string(Relationships::PartnerId))
                    .col(string_null(Relationships::ActivePair).unique_key())
                    .col(string(Relationships::State))
                    .col(blob(Relationships::RoomScope))
                    .col(blob(Relationships::ScopeSummary))
                    .col(blob(Relationships::ChangeControl))
                    .col(string(Relationships::Invitation))
                    .col(big_integer_null(Relationships::EndTime))
                    .col(big_integer(Relationships::CreateTime))
                    .col(big_integer(Relationships::UpdateTime))
                    .col(big_integer_null(Relationships::TerminateTime))
                    .col(blob_null(Relationships::TerminatedBy))
                    .col(integer(Relationships::TerminationReason))
                    .col(boolean(Relationships::Terminating))
                    .col(big_integer(Relationships::Version))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Relationships::Table, Relationships::CustomerId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("relationships_by_partner")
                    .table(Relationships::Table)
                    .col(Relationships::PartnerId)
                    .col(Relationships::CustomerId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Relationships::Table).to_owned())
            .await
    }
}

/// Columns of `relationships`.
#[derive(DeriveIden)]
pub enum Relationships {
    /// The table.
    Table,
    /// Server-assigned id (UUIDv7), never reused.
    Id,
    /// The customer.
    CustomerId,
    /// The partner.
    PartnerId,
    /// `{customer}/{partner}` while not TERMINATED, NULL after; unique (R15).
    ActivePair,
    /// `ACTIVE`, `EXPIRED` or `TERMINATED`.
    State,
    /// Encoded `mtm.common.v1.RoomScope`.
    RoomScope,
    /// Encoded `mtm.tenancy.v1.ScopeSummary`.
    ScopeSummary,
    /// Encoded `mtm.tenancy.v1.ChangeControlPolicy`.
    ChangeControl,
    /// The invitation whose acceptance created it.
    Invitation,
    /// Optional end (R30).
    EndTime,
    /// First acceptance.
    CreateTime,
    /// Last change.
    UpdateTime,
    /// When terminated.
    TerminateTime,
    /// Encoded actor who terminated it.
    TerminatedBy,
    /// `Relationship.TerminationReason` number.
    TerminationReason,
    /// Set while a termination is under way: access is being removed in rbac-svc.
    Terminating,
    /// Bumped on every change; the etag.
    Version,
}
