//! A meeting room; health is derived from the ticket counters and telemetry time.

use sea_orm::entity::prelude::*;

/// A row of `room`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "room")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub display_name: String,
    pub resource_account_upn: String,
    pub room_group_id: String,
    pub country_or_region: String,
    pub city: String,
    pub building: String,
    pub floor: String,
    pub capacity: i32,
    pub size: i32,
    pub device_type: i32,
    pub model: String,
    pub app_version: String,
    pub os_version: String,
    pub update_ring_id: String,
    pub enrolment_state: i32,
    pub suppressed: bool,
    pub last_telemetry_time: Option<i64>,
    pub enroll_time: Option<i64>,
    pub open_ticket_count: i32,
    pub unhealthy_ticket_count: i32,
    pub create_time: i64,
    pub update_time: i64,
    pub revision: i64,
}

/// No relations are navigated; joins are written as subqueries.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
