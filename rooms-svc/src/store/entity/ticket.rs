//! A ticket or recorded incident; `created_by` is an encoded `mtm.common.v1.Actor`.

use sea_orm::entity::prelude::*;

/// A row of `ticket`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub category: i32,
    pub severity: i32,
    pub high_impact: bool,
    pub status: i32,
    pub created_by: Vec<u8>,
    pub created_by_partner: String,
    #[sea_orm(column_type = "Text")]
    pub close_reason: String,
    pub message_count: i32,
    pub create_time: i64,
    pub update_time: i64,
    pub resolve_time: Option<i64>,
    pub revision: i64,
}

/// No relations are navigated; joins are written as subqueries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
