//! Creates `invitations`: one row per invited UPN (R11), declined ones deleted (R12).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, blob, blob_null, integer, string, string_null,
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
                    .table(Invitations::Table)
                    .col(string(Invitations::Id).primary_key())
                    .col(string(Invitations::CustomerId))
                    .col(string(Invitations::PartnerId))
                    .col(string(Invitations::Kind))
                    .col(string(Invitations::State))
                    .col(string(Invitations::InviteeUpn))
                    .col(string(Invitations::PartnerDomain))
                    .col(blob(Invitations::RoomScope))
                    .col(blob(Invitations::ScopeSummary))
                    .col(blob(Invitations::ChangeControl))
                    .col(integer(Invitations::LifetimeDays))
                    .col(blob(Invitations::CreatedBy))
                    .col(big_integer(Invitations::TermsAcceptTime))
                    .col(big_integer(Invitations::CreateTime))
                    .col(big_integer(Invitations::ExpireTime))
                    .col(big_integer_null(Invitations::StateTime))
                    .col(blob_null(Invitations::StateChangedBy))
                    .col(string_null(Invitations::Relationship))
                    .col(string_null(Invitations::RequestId))
                    .col(big_integer(Invitations::Version))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Invitations::Table, Invitations::CustomerId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "invitations_by_customer",
                [Invitations::CustomerId, Invitations::CreateTime],
            ),
            (
                "invitations_by_partner",
                [Invitations::PartnerId, Invitations::CreateTime],
            ),
            (
                "invitations_by_state",
                [Invitations::State, Invitations::ExpireTime],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Invitations::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Invitations::Table).to_owned())
            .await
    }
}

/// Columns of `invitations`.
#[derive(DeriveIden)]
pub enum Invitations {
    /// The table.
    Table,
    /// Server-assigned id (UUIDv7).
    Id,
    /// The inviting customer.
    CustomerId,
    /// The invited partner.
    PartnerId,
    /// `RELATIONSHIP` or `PRIMARY_ADMIN`.
    Kind,
    /// `PENDING`, `ACCEPTED`, `WITHDRAWN` or `EXPIRED`.
    State,
    /// The invited UPN, lower-cased.
    InviteeUpn,
    /// The partner domain the customer gave.
    PartnerDomain,
    /// Encoded `mtm.common.v1.RoomScope`.
    RoomScope,
    /// Encoded `mtm.tenancy.v1.ScopeSummary`.
    ScopeSummary,
    /// Encoded `mtm.tenancy.v1.ChangeControlPolicy`.
    ChangeControl,
    /// 1 to 30.
    LifetimeDays,
    /// Encoded `mtm.common.v1.Actor`.
    CreatedBy,
    /// When the terms were accepted.
    TermsAcceptTime,
    /// When it was created.
    CreateTime,
    /// When it expires if still pending.
    ExpireTime,
    /// When it left PENDING.
    StateTime,
    /// Encoded actor who changed its state.
    StateChangedBy,
    /// The relationship it created or joined.
    Relationship,
    /// The creating request's idempotency key.
    RequestId,
    /// Bumped on every change; the etag.
    Version,
}
