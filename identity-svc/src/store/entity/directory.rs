//! A tenant's directory: the tenant's display name and kind as copied from tenancy-svc.

use sea_orm::entity::prelude::*;

/// One row per tenant that has a directory.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "directories")]
pub struct Model {
    /// The `{tenant}` segment of `tenants/{tenant}`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: String,
    /// The tenant's display name.
    pub display_name: String,
    /// `mtm.common.v1.TenantKind` as its number.
    pub kind: i32,
    /// Creation time, microseconds since the Unix epoch.
    pub create_time: i64,
}

/// No navigable relations are declared; foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
