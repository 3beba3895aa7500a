//! A member of a relationship's *Primary admins* role.

use sea_orm::entity::prelude::*;

/// One primary-admin entry.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "primary_admins")]
pub struct Model {
    /// Server-assigned id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The relationship.
    pub relationship_id: String,
    /// The user or group resource name.
    pub member: String,
    /// Display name when added.
    pub display_name: String,
    /// UPN, for users.
    pub upn: String,
    /// `PrimaryAdmin.Source` number.
    pub source: i32,
    /// For invitees: the accepted invitation.
    pub invitation: String,
    /// Encoded actor who added it.
    pub added_by: Vec<u8>,
    /// When added.
    pub create_time: i64,
    /// Removal under way, as earlier versions marked it before telling rbac-svc; no longer
    /// counts toward R14, and reconciliation finishes it.
    pub removing: bool,
}

/// No navigable relations are declared; foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
