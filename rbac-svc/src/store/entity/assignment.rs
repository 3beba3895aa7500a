//! `role_assignments`: a role given to members over a scope.

use sea_orm::entity::prelude::*;

/// One assignment.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "role_assignments")]
pub struct Model {
    /// Resource name.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// The customer id.
    pub customer: String,
    /// For partner assignments, the relationship's name.
    pub relationship: Option<String>,
    /// Display name, unique under the same parent.
    pub display_name: String,
    /// The role's resource name.
    pub role: String,
    /// Users and groups, one per line.
    pub members: String,
    /// Scope: every room.
    pub all_rooms: bool,
    /// Scope: room groups, one per line.
    pub room_groups: String,
    /// Scope: rooms, one per line.
    pub rooms: String,
    /// Built-in (the *Primary admins* assignment).
    pub built_in: bool,
    /// Opaque version.
    pub etag: String,
    /// Creation, Unix microseconds.
    pub create_time: i64,
    /// Last change, Unix microseconds.
    pub update_time: i64,
}

/// No relations are navigated.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
