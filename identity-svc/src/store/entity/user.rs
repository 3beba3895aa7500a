//! A user of a tenant's directory.

use sea_orm::entity::prelude::*;

/// One user; the UPN is stored lower-cased and unique across the system.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// Resource name `tenants/{tenant}/users/{user}`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// The owning tenant's id.
    pub tenant_id: String,
    /// The lower-cased UPN.
    #[sea_orm(unique)]
    pub upn: String,
    /// Human-readable name.
    pub display_name: String,
    /// Disabled users cannot sign in.
    pub enabled: bool,
    /// Argon2id PHC string, when a password is set.
    pub password_hash: Option<String>,
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
