//! `roles`: customer roles and partner roles with their permissions.

use sea_orm::entity::prelude::*;

/// One role.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "roles")]
pub struct Model {
    /// Resource name.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// The customer id.
    pub customer: String,
    /// For partner roles, the relationship's name.
    pub relationship: Option<String>,
    /// Display name, unique under the same parent.
    pub display_name: String,
    /// Description.
    pub description: String,
    /// Permission names, one per line.
    pub permissions: String,
    /// Built-in (R31).
    pub built_in: bool,
    /// Opaque version.
    pub etag: String,
    /// Creation, Unix microseconds.
    pub create_time: i64,
    /// Last change, Unix microseconds.
    pub update_time: i64,
}

/// No relations are navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
