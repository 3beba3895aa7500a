//! A message on a ticket; `actor` is an encoded `mtm.common.v1.Actor`.

use sea_orm::entity::prelude::*;

/// A row of `ticket_message`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket_message")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub ticket_id: String,
    pub actor: Vec<u8>,
    pub create_time: i64,
    #[sea_orm(column_type = "Text")]
    pub text: String,
}

/// No relations are navigated; joins are written as subqueries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
