//! The migration that creates `audit_records`; every service lists it in its migrator.

use sea_orm_migration::prelude::*;

/// Creates `audit_records` and its list index.
#[derive(DeriveMigrationName)]
pub struct CreateAuditRecords;

#[derive(DeriveIden)]
enum AuditRecords {
    Table,
    Id,
    Parent,
    CreateTimeUs,
    TargetTenant,
    Category,
    Operation,
    ObjectId,
    ObjectName,
    Result,
    ActorUser,
    ActorUpn,
    ActorDisplayName,
    ActorTenant,
    ActorPartner,
    ActorRelationship,
    ActorOperator,
    TraceId,
    RequestId,
    StatusCode,
    StatusMessage,
    ApprovalRequest,
    Details,
    Source,
}

#[async_trait::async_trait]
impl MigrationTrait for CreateAuditRecords {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let text = |column: AuditRecords| ColumnDef::new(column).text().not_null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(AuditRecords::Table)
                    .col(
                        ColumnDef::new(AuditRecords::Id)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(text(AuditRecords::Parent))
                    .col(
                        ColumnDef::new(AuditRecords::CreateTimeUs)
                            .big_integer()
                            .not_null(),
                    )
                    .col(text(AuditRecords::TargetTenant))
                    .col(ColumnDef::new(AuditRecords::Category).integer().not_null())
                    .col(text(AuditRecords::Operation))
                    .col(text(AuditRecords::ObjectId))
                    .col(text(AuditRecords::ObjectName))
                    .col(ColumnDef::new(AuditRecords::Result).integer().not_null())
                    .col(text(AuditRecords::ActorUser))
                    .col(text(AuditRecords::ActorUpn))
                    .col(text(AuditRecords::ActorDisplayName))
                    .col(text(AuditRecords::ActorTenant))
                    .col(text(AuditRecords::ActorPartner))
                    .col(text(AuditRecords::ActorRelationship))
                    .col(
                        ColumnDef::new(AuditRecords::ActorOperator)
                            .boolean()
                            .not_null(),
                    )
                    .col(text(AuditRecords::TraceId))
                    .col(text(AuditRecords::RequestId))
                    .col(
                        ColumnDef::new(AuditRecords::StatusCode)
                            .integer()
                            .not_null(),
                    )
                    .col(text(AuditRecords::StatusMessage))
                    .col(text(AuditRecords::ApprovalRequest))
                    .col(text(AuditRecords::Details))
                    .col(text(AuditRecords::Source))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_records_by_parent_time")
                    .table(AuditRecords::Table)
                    .col(AuditRecords::Parent)
                    .col(AuditRecords::CreateTimeUs)
                    .col(AuditRecords::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditRecords::Table).to_owned())
            .await
    }
}
