//! Creates `approval_requests`: partner actions waiting for a customer admin (R29).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, blob, blob_null, integer, string, string_null, text,
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
                    .table(ApprovalRequests::Table)
                    .col(string(ApprovalRequests::Id).primary_key())
                    .col(string(ApprovalRequests::CustomerId))
                    .col(string(ApprovalRequests::RelationshipId))
                    .col(string(ApprovalRequests::PartnerId))
                    .col(string(ApprovalRequests::State))
                    .col(integer(ApprovalRequests::EventType))
                    .col(string(ApprovalRequests::Method))
                    .col(blob(ApprovalRequests::Action))
                    .col(string(ApprovalRequests::Target))
                    .col(text(ApprovalRequests::Summary))
                    .col(blob(ApprovalRequests::Requester))
                    .col(big_integer(ApprovalRequests::CreateTime))
                    .col(big_integer(ApprovalRequests::ExpireTime))
                    .col(blob_null(ApprovalRequests::DecidedBy))
                    .col(big_integer_null(ApprovalRequests::DecideTime))
                    .col(text(ApprovalRequests::DecisionReason))
                    .col(blob_null(ApprovalRequests::Outcome))
                    .col(big_integer(ApprovalRequests::UpdateTime))
                    .col(string_null(ApprovalRequests::RequestId).unique_key())
                    .col(big_integer(ApprovalRequests::Version))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApprovalRequests::Table, ApprovalRequests::CustomerId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("approval_requests_by_customer")
                    .table(ApprovalRequests::Table)
                    .col(ApprovalRequests::CustomerId)
                    .col(ApprovalRequests::CreateTime)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ApprovalRequests::Table).to_owned())
            .await
    }
}

/// Columns of `approval_requests`.
#[derive(DeriveIden)]
pub enum ApprovalRequests {
    /// The table.
    Table,
    /// Server-assigned id (UUIDv7).
    Id,
    /// The customer.
    CustomerId,
    /// The relationship the partner acted under.
    RelationshipId,
    /// The partner.
    PartnerId,
    /// `PENDING`, `APPROVED`, `REJECTED`, `EXPIRED` or `FAILED`.
    State,
    /// `ChangeControlEventType` number.
    EventType,
    /// The full gRPC method.
    Method,
    /// Encoded `google.protobuf.Any` of the original request.
    Action,
    /// The targeted resource.
    Target,
    /// One-line description.
    Summary,
    /// Encoded actor who asked.
    Requester,
    /// Submission time.
    CreateTime,
    /// Expiry while pending (7 days).
    ExpireTime,
    /// Encoded actor who decided.
    DecidedBy,
    /// Decision time.
    DecideTime,
    /// Reason given.
    DecisionReason,
    /// Encoded `ApprovalOutcome`.
    Outcome,
    /// Last change.
    UpdateTime,
    /// Submission idempotency key.
    RequestId,
    /// The etag.
    Version,
}
