//! The directories' change counter: one row, bumped by every directory write, so principal
//! caches on every replica notice a change on the next request.

use sea_orm::entity::prelude::*;

/// The single counter row (`id` 1).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "directory_epoch")]
pub struct Model {
    /// Always 1.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// Bumped by every committed directory write.
    pub epoch: i64,
}

/// No navigable relations are declared.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
