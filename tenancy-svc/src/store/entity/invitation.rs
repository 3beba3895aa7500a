//! An invitation of one partner UPN by a customer (R8, R11).

use sea_orm::entity::prelude::*;

/// One invitation.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invitations")]
pub struct Model {
    /// Server-assigned id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The inviting customer.
    pub customer_id: String,
    /// The invited partner.
    pub partner_id: String,
    /// `RELATIONSHIP` or `PRIMARY_ADMIN`.
    pub kind: String,
    /// `PENDING`, `ACCEPTED`, `WITHDRAWN` or `EXPIRED`.
    pub state: String,
    /// The invited UPN, lower-cased.
    pub invitee_upn: String,
    /// The partner domain as given.
    pub partner_domain: String,
    /// Encoded room scope.
    pub room_scope: Vec<u8>,
    /// Encoded scope summary.
    pub scope_summary: Vec<u8>,
    /// Encoded change-control policy.
    pub change_control: Vec<u8>,
    /// 1 to 30.
    pub lifetime_days: i32,
    /// Encoded creator.
    pub created_by: Vec<u8>,
    /// When the terms were accepted.
    pub terms_accept_time: i64,
    /// Creation time.
    pub create_time: i64,
    /// Expiry while pending.
    pub expire_time: i64,
    /// When it left PENDING.
    pub state_time: Option<i64>,
    /// Encoded actor of the state change.
    pub state_changed_by: Option<Vec<u8>>,
    /// The relationship created or joined.
    pub relationship: Option<String>,
    /// The creating request's idempotency key.
    pub request_id: Option<String>,
    /// The etag.
    pub version: i64,
}

/// No navigable relations are declared; foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
