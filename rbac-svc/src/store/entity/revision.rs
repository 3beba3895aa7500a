//! `revisions`: the change log; every write adds one row per customer it changed, in the
//! write's own transaction, and replicas follow it.

use sea_orm::entity::prelude::*;

/// One revision.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "revisions")]
pub struct Model {
    /// The revision number, increasing.
    #[sea_orm(primary_key)]
    pub revision: i64,
    /// The customer id whose state changed.
    pub customer: String,
    /// When, Unix microseconds.
    pub create_time: i64,
}

/// No relations are navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
