//! Customers, relationships, roles, assignments and the revision log.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Creates the tables.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000001_create_rbac_tables"
    }
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
    FirstAdmin,
    CreateTime,
}

#[derive(DeriveIden)]
enum Relationships {
    Table,
    Name,
    Customer,
    Partner,
    AllRooms,
    RoomGroups,
    Rooms,
    State,
    EndTime,
    UpdateTime,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    Name,
    Customer,
    Relationship,
    DisplayName,
    Description,
    Permissions,
    BuiltIn,
    Etag,
    CreateTime,
    UpdateTime,
}

#[derive(DeriveIden)]
enum RoleAssignments {
    Table,
    Name,
    Customer,
    Relationship,
    DisplayName,
    Role,
    Members,
    AllRooms,
    RoomGroups,
    Rooms,
    BuiltIn,
    Etag,
    CreateTime,
    UpdateTime,
}

#[derive(DeriveIden)]
enum Revisions {
    Table,
    Revision,
    Customer,
    CreateTime,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Customers::Table)
                    .col(text(Customers::Id).primary_key())
                    .col(text(Customers::FirstAdmin))
                    .col(big_integer(Customers::CreateTime))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Relationships::Table)
                    .col(text(Relationships::Name).primary_key())
                    .col(text(Relationships::Customer))
                    .col(text(Relationships::Partner))
                    .col(boolean(Relationships::AllRooms))
                    .col(text(Relationships::RoomGroups))
                    .col(text(Relationships::Rooms))
                    .col(integer(Relationships::State))
                    .col(big_integer_null(Relationships::EndTime))
                    .col(big_integer(Relationships::UpdateTime))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Roles::Table)
                    .col(text(Roles::Name).primary_key())
                    .col(text(Roles::Customer))
                    .col(text_null(Roles::Relationship))
                    .col(text(Roles::DisplayName))
                    .col(text(Roles::Description))
                    .col(text(Roles::Permissions))
                    .col(boolean(Roles::BuiltIn))
                    .col(text(Roles::Etag))
                    .col(big_integer(Roles::CreateTime))
                    .col(big_integer(Roles::UpdateTime))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RoleAssignments::Table)
                    .col(text(RoleAssignments::Name).primary_key())
                    .col(text(RoleAssignments::Customer))
                    .col(text_null(RoleAssignments::Relationship))
                    .col(text(RoleAssignments::DisplayName))
                    .col(text(RoleAssignments::Role))
                    .col(text(RoleAssignments::Members))
                    .col(boolean(RoleAssignments::AllRooms))
                    .col(text(RoleAssignments::RoomGroups))
                    .col(text(RoleAssignments::Rooms))
                    .col(boolean(RoleAssignments::BuiltIn))
                    .col(text(RoleAssignments::Etag))
                    .col(big_integer(RoleAssignments::CreateTime))
                    .col(big_integer(RoleAssignments::UpdateTime))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Revisions::Table)
                    .col(big_pk_auto(Revisions::Revision))
                    .col(text(Revisions::Customer))
                    .col(big_integer(Revisions::CreateTime))
                    .to_owned(),
            )
            .await?;
        for (name, table, column) in [
            (
                "relationships_customer",
                Relationships::Table.into_iden(),
                Relationships::Customer.into_iden(),
            ),
            (
                "roles_customer",
                Roles::Table.into_iden(),
                Roles::Customer.into_iden(),
            ),
            (
                "role_assignments_customer",
                RoleAssignments::Table.into_iden(),
                RoleAssignments::Customer.into_iden(),
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Revisions::Table.into_iden(),
            RoleAssignments::Table.into_iden(),
            Roles::Table.into_iden(),
            Relationships::Table.into_iden(),
            Customers::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
