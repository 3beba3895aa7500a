//! When an app or OS version was first seen on a device type.

use sea_orm::entity::prelude::*;

/// A row of `version_seen`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "version_seen")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub device_type: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: String,
    pub first_seen_time: i64,
}

/// No relations are navigated; joins are written as subqueries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
