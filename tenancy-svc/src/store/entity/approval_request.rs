//! A partner action waiting for, or decided by, a customer admin (R29).

use sea_orm::entity::prelude::*;

/// One approval request.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "approval_requests")]
pub struct Model {
    /// Server-assigned id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The customer.
    pub customer_id: String,
    /// The relationship.
    pub relationship_id: String,
    /// The partner.
    pub partner_id: String,
    /// Lifecycle state.
    pub state: String,
    /// `ChangeControlEventType` number.
    pub event_type: i32,
    /// The full gRPC method.
    pub method: String,
    /// Encoded `google.protobuf.Any`.
    pub action: Vec<u8>,
    /// The targeted resource.
    pub target: String,
    /// One-line description.
    pub summary: String,
    /// Encoded requester.
    pub requester: Vec<u8>,
    /// Submission time.
    pub create_time: i64,
    /// Expiry while pending.
    pub expire_time: i64,
    /// Encoded decider.
    pub decided_by: Option<Vec<u8>>,
    /// Decision time.
    pub decide_time: Option<i64>,
    /// Reason given.
    pub decision_reason: String,
    /// Encoded outcome.
    pub outcome: Option<Vec<u8>>,
    /// Last change.
    pub update_time: i64,
    /// Submission idempotency key.
    pub request_id: Option<String>,
    /// The etag.
    pub version: i64,
}

/// No navigable relations are declared; foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
