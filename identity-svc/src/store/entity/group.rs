//! A security group of a tenant's directory.

use sea_orm::entity::prelude::*;

/// One security group; display names are unique within a tenant.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "security_groups")]
pub struct Model {
    /// Resource name `tenants/{tenant}/groups/{group}`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// The owning tenant's id.
    pub tenant_id: String,
    /// Human-readable name.
    pub display_name: String,
    /// What the group is for.
    pub description: String,
    /// Creation time, microseconds since the Unix epoch.
    pub create_time: i64,
    /// Last change, microseconds since the Unix epoch.
    pub update_time: i64,
    /// Bumped on every change; the etag.
    pub version: i64,
}

/// No navigable relations are declared; foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
