//! A DNS domain claimed by a tenant.

use sea_orm::entity::prelude::*;

/// One claimed domain; a domain belongs to at most one tenant.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "domains")]
pub struct Model {
    /// The lower-cased DNS name.
    #[sea_orm(primary_key, auto_increment = false)]
    pub domain_name: String,
    /// The owning tenant's id.
    pub tenant_id: String,
    /// Whether ownership was proved.
    pub verified: bool,
    /// The token published in the TXT record `mtm-verification=<token>`.
    pub verification_token: String,
    /// Creation time, microseconds since the Unix epoch.
    pub create_time: i64,
    /// Verification time, microseconds since the Unix epoch.
    pub verify_time: Option<i64>,
}

/// No navigable relations are declared; foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
