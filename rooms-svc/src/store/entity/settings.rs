//! The customer's settings (one row, id 1).

use sea_orm::entity::prelude::*;

/// A row of `settings`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub display_name: String,
    pub partner_mfa_required: bool,
    pub audit_retention_days: i32,
    pub disconnected_after_minutes: i32,
    pub update_time: i64,
    pub revision: i64,
}

/// No relations are navigated; joins are written as subqueries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
