//! `requests`: idempotency keys of creates, so a retry returns the first answer.

use sea_orm::entity::prelude::*;

/// One remembered create.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "requests")]
pub struct Model {
    /// The client's request id (a UUID).
    #[sea_orm(primary_key, auto_increment = false)]
    pub request_id: String,
    /// The RPC and the request without its id, to tell a retry from a reuse.
    pub fingerprint: String,
    /// The resource the first call created.
    pub resource: String,
    /// When, Unix microseconds.
    pub create_time: i64,
}

/// No relations are navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
