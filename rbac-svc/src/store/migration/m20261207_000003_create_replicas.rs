//! The replica lease table: each rbac-svc replica on PostgreSQL holds a row with the time its
//! lease runs out and the newest revision its index has applied (`crate::lease`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Creates the `replicas` table.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000003_create_replicas"
    }
}

#[derive(DeriveIden)]
enum Replicas {
    Table,
    Id,
    LeaseUntil,
    Applied,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Replicas::Table)
                    .col(text(Replicas::Id).primary_key())
                    .col(timestamp_with_time_zone(Replicas::LeaseUntil))
                    .col(big_integer(Replicas::Applied))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Replicas::Table).to_owned())
            .await
    }
}
