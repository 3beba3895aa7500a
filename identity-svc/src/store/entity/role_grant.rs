//! A directory role held by a user in its tenant.

use sea_orm::entity::prelude::*;

/// One grant of one role to one user.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "directory_role_grants")]
pub struct Model {
    /// The user's resource name.
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_name: String,
    /// `mtm.common.v1.DirectoryRole` as its number.
    #[sea_orm(primary_key, auto_increment = false)]
    pub role: i32,
    /// The user's tenant id.
    pub tenant_id: String,
    /// Grant time, microseconds since the Unix epoch.
    pub grant_time: i64,
}

/// No navigable relations are declared; foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
