//! An Ed25519 key that signs (ACTIVE) or only verifies (RETIRED) access tokens.

use sea_orm::entity::prelude::*;

/// One signing key; exactly one is ACTIVE.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    /// The key id (`kid`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    /// The private seed, base64url without padding.
    pub private_seed: String,
    /// The public key, base64url without padding (JWK `x`).
    pub public_x: String,
    /// `mtm.identity.v1.SigningKey.State` as its number.
    pub state: i32,
    /// Creation time, microseconds since the Unix epoch.
    pub create_time: i64,
    /// Retirement time, microseconds since the Unix epoch.
    pub retire_time: Option<i64>,
    /// The rotation request that created it, for idempotent retries.
    #[sea_orm(unique)]
    pub request_id: Option<String>,
    /// The key that was retired when this one was created.
    pub replaced_kid: Option<String>,
}

/// No navigable relations are declared; foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
