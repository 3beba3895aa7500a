//! An external OIDC issuer a tenant trusts for its own users.

use sea_orm::entity::prelude::*;

/// One trusted issuer; an issuer is trusted by at most one tenant.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "identity_providers")]
pub struct Model {
    /// Resource name `tenants/{tenant}/identityProviders/{provider}`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// The owning tenant's id.
    pub tenant_id: String,
    /// Human-readable name.
    pub display_name: String,
    /// The issuer identifier (`iss`).
    #[sea_orm(unique)]
    pub issuer: String,
    /// The audience its tokens must carry.
    pub audience: String,
    /// The issuer's JWKS document.
    pub jwks_json: String,
    /// The claim holding the UPN; empty means the default chain.
    pub upn_claim: String,
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
