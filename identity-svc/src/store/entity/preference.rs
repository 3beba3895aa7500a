//! A user's own preferences (R25's *all tickets* view).

use sea_orm::entity::prelude::*;

/// One user's preferences; absent means defaults.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_preferences")]
pub struct Model {
    /// The user's resource name.
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_name: String,
    /// Whether the aggregated tickets view is on.
    pub all_tickets_view_enabled: bool,
    /// Last change, microseconds since the Unix epoch.
    pub update_time: i64,
    /// Bumped on every change; the etag.
    pub version: i64,
}

/// No navigable relations are declared; foreign keys live in the migrations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
