//! The customer's enrolment key (one row, id 1): sealed value and hash.

use sea_orm::entity::prelude::*;

/// A row of `enrolment_key`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "enrolment_key")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub version: i32,
    pub sealed: Vec<u8>,
    pub key_hash: String,
    pub create_time: i64,
    pub reset_by: Option<Vec<u8>>,
    pub revision: i64,
}

/// No relations are navigated; joins are written as subqueries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
