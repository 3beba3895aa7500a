//! Idempotency keys of creates.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Creates the `requests` table.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000002_create_requests"
    }
}

#[derive(DeriveIden)]
enum Requests {
    Table,
    RequestId,
    Fingerprint,
    Resource,
    CreateTime,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Requests::Table)
                    .col(text(Requests::RequestId).primary_key())
                    .col(text(Requests::Fingerprint))
                    .col(text(Requests::Resource))
                    .col(big_integer(Requests::CreateTime))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Requests::Table).to_owned())
            .await
    }
}
