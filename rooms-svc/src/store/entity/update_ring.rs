//! An update ring.

use sea_orm::entity::prelude::*;

/// A row of `update_ring`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "update_ring")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub display_name: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub ring_order: i32,
    pub deferral_days: i32,
    pub rollout_days: i32,
    pub test_days: i32,
    pub built_in: bool,
    pub create_time: i64,
    pub update_time: i64,
    pub revision: i64,
}

/// No relations are navigated; joins are written as subqueries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
