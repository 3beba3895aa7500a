//! Creates `signing_keys`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_integer_null, integer, string, string_null};

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .col(string(SigningKeys::Kid).primary_key())
                    .col(string(SigningKeys::PrivateSeed))
                    .col(string(SigningKeys::PublicX))
                    .col(integer(SigningKeys::State))
                    .col(big_integer(SigningKeys::CreateTime))
                    .col(big_integer_null(SigningKeys::RetireTime))
                    .col(string_null(SigningKeys::RequestId).unique_key())
                    .col(string_null(SigningKeys::ReplacedKid))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SigningKeys::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Kid,
    PrivateSeed,
    PublicX,
    State,
    CreateTime,
    RetireTime,
    RequestId,
    ReplacedKid,
}
