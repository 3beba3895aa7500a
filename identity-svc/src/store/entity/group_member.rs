//! A direct membership of a user or group in a security group.

use sea_orm::entity::prelude::*;

/// One edge of the membership graph.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "group_members")]
pub struct Model {
    /// The containing group's resource name.
    #[sea_orm(primary_key, auto_increment = false)]
    pub group_name: String,
    /// The member's resource name (a user or a group).
    #[sea_orm(primary_key, auto_increment = false)]
    pub member_name: String,
    /// `mtm.identity.v1.MemberKind` as its number.
    pub member_kind: i32,
    /// The tenant of both ends.
    pub tenant_id: String,
}

/// No navigable relations are declared; foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
