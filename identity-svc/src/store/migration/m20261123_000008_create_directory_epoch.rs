//! Creates `directory_epoch` with its single row.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, integer};

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DirectoryEpoch::Table)
                    .col(integer(DirectoryEpoch::Id).primary_key())
                    .col(big_integer(DirectoryEpoch::Epoch))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(DirectoryEpoch::Table)
                    .columns([DirectoryEpoch::Id, DirectoryEpoch::Epoch])
                    .values_panic([1.into(), 0.into()])
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DirectoryEpoch::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum DirectoryEpoch {
    Table,
    Id,
    Epoch,
}
