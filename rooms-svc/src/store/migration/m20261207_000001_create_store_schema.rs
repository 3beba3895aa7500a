//! The store's schema record: the schema version the store was last migrated to and the
//! oldest rooms-svc schema version that still serves it (see `store::schema`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Creates the `store_schema` table (one row, written after every migration run).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("store_schema")
                    .col(integer("id").primary_key())
                    .col(integer("version"))
                    .col(integer("oldest_reader"))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("store_schema").take())
            .await
    }
}
