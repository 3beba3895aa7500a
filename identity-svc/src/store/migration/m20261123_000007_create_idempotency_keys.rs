//! Creates `idempotency_keys`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, string, text};

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(string(IdempotencyKeys::RequestId).primary_key())
                    .col(string(IdempotencyKeys::Method))
                    .col(text(IdempotencyKeys::Fingerprint))
                    .col(string(IdempotencyKeys::Resource))
                    .col(big_integer(IdempotencyKeys::CreateTime))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    RequestId,
    Method,
    Fingerprint,
    Resource,
    CreateTime,
}
