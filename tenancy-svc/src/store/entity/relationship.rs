//! A partner–customer relationship (R10, R15, R17, R30).

use sea_orm::entity::prelude::*;

/// One relationship.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "relationships")]
pub struct Model {
    /// Server-assigned id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The customer.
    pub customer_id: String,
    /// The partner.
    pub partner_id: String,
    /// `{customer}/{partner}` while not TERMINATED; unique.
    pub active_pair: Option<String>,
    /// `ACTIVE`, `EXPIRED` or `TERMINATED`.
    pub state: String,
    /// Encoded room scope.
    pub room_scope: Vec<u8>,
    /// Encoded scope summary.
    pub scope_summary: Vec<u8>,
    /// Encoded change-control policy.
    pub change_control: Vec<u8>,
    /// The invitation that created it.
    pub invitation: String,
    /// Optional end (R30).
    pub end_time: Option<i64>,
    /// Creation time.
    pub create_time: i64,
    /// Last change.
    pub update_time: i64,
    /// When terminated.
    pub terminate_time: Option<i64>,
    /// Encoded actor who terminated it.
    pub terminated_by: Option<Vec<u8>>,
    /// `Relationship.TerminationReason` number.
    pub termination_reason: i32,
    /// A termination is under way: rbac-svc has already forgotten the relationship, and
    /// reconciliation finishes it (see `sync::revoke`).
    pub terminating: bool,
    /// The etag.
    pub version: i64,
}

/// No navigable relations are declared; foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
