//! `relationships`: partner–customer relationships mirrored from tenancy-svc.

use sea_orm::entity::prelude::*;

/// One relationship.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "relationships")]
pub struct Model {
    /// `customers/{c}/partnerRelationships/{r}`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// The customer id.
    pub customer: String,
    /// The partner tenant id.
    pub partner: String,
    /// Scope: every room.
    pub all_rooms: bool,
    /// Scope: room groups, one per line.
    pub room_groups: String,
    /// Scope: rooms, one per line.
    pub rooms: String,
    /// `mtm.common.v1.RelationshipState` value.
    pub state: i32,
    /// End time, Unix seconds.
    pub end_time: Option<i64>,
    /// Last change, Unix microseconds.
    pub update_time: i64,
}

/// No relations are navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
