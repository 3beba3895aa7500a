//! One change of a ticket; `changes` is a JSON list of `[field, old, new]`.

use sea_orm::entity::prelude::*;

/// A row of `ticket_history`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket_history")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub ticket_id: String,
    pub actor: Vec<u8>,
    pub create_time: i64,
    pub action: String,
    #[sea_orm(column_type = "Text")]
    pub changes: String,
}

/// No relations are navigated; joins are written as subqueries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
