//! A tenant manager of a partner (R4).

use sea_orm::entity::prelude::*;

/// One user or group holding the tenant-manager role.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenant_managers")]
pub struct Model {
    /// Server-assigned id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The partner tenant id.
    pub partner_id: String,
    /// The user or group resource name.
    pub member: String,
    /// Display name when added.
    pub display_name: String,
    /// UPN, for users.
    pub upn: String,
    /// Encoded actor who added it.
    pub added_by: Vec<u8>,
    /// When it was added.
    pub create_time: i64,
}

/// No navigable relations are declared; foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
