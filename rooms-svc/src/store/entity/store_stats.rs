//! Counters kept in step with every change, so store facts need no table scan (one row, id 1).

use sea_orm::entity::prelude::*;

/// A row of `store_stats`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "store_stats")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub room_count: i32,
    pub ticket_count: i32,
    pub open_ticket_count: i32,
    pub newest_ticket_update_time: Option<i64>,
}

/// No relations are navigated; joins are written as subqueries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
