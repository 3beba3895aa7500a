//! `customers`: the customers provisioned in rbac-svc.

use sea_orm::entity::prelude::*;

/// One provisioned customer.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customers")]
pub struct Model {
    /// The customer's tenant id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The first MMR admin (R33).
    pub first_admin: String,
    /// When it was provisioned, Unix microseconds.
    pub create_time: i64,
}

/// No relations are navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
