//! A room group (site).

use sea_orm::entity::prelude::*;

/// A row of `room_group`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "room_group")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub display_name: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub create_time: i64,
    pub update_time: i64,
    pub revision: i64,
}

/// No relations are navigated; joins are written as subqueries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
