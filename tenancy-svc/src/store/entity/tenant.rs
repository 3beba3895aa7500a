//! A tenant known to tenancy-svc.

use sea_orm::entity::prelude::*;

/// One partner or customer tenant.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    /// The tenant id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// `PARTNER` or `CUSTOMER`.
    pub kind: String,
    /// Human-readable name.
    pub display_name: String,
    /// The first domain.
    pub primary_domain: String,
    /// Every domain, one per line.
    pub domains: String,
    /// `PROVISIONING`, `ACTIVE` or `DELETING`.
    pub state: String,
    /// Elite enrolment (R1).
    pub elite_partner: bool,
    /// Last enrolment, microseconds since the epoch.
    pub enroll_time: Option<i64>,
    /// Last unenrolment.
    pub unenroll_time: Option<i64>,
    /// The first admin's resource name, once created.
    pub first_admin_user: String,
    /// The first admin's UPN.
    pub first_admin_upn: String,
    /// The first admin's display name.
    pub first_admin_display_name: String,
    /// The initial password, kept only until the directory exists.
    pub first_admin_password: Option<String>,
    /// The creating request's idempotency key.
    pub request_id: Option<String>,
    /// Creation time.
    pub create_time: i64,
    /// Last change.
    pub update_time: i64,
    /// The etag.
    pub version: i64,
    /// Bumped to serialise writers of this tenant's relationships.
    pub guard: i64,
}

/// No navigable relations are declared; foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
