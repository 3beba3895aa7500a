//! The first answer to a create carrying a `request_id`, so a retry returns it again.

use sea_orm::entity::prelude::*;

/// One remembered create.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    /// The request id (a UUID).
    #[sea_orm(primary_key, auto_increment = false)]
    pub request_id: String,
    /// The method it was used with.
    pub method: String,
    /// The request as encoded (without its request id), base64.
    pub fingerprint: String,
    /// The resource the first call created.
    pub resource: String,
    /// When, microseconds since the Unix epoch.
    pub create_time: i64,
}

/// No navigable relations are declared.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
