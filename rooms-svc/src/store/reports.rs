//! Reports computed from the customer's own store (R27), over the rooms in the caller's scope
//! only (R21): fleet health now, tickets over a window, and update compliance per ring. The
//! counting and grouping happen in SQL, so a report never loads the rooms or tickets it counts.

mod compliance;
mod tickets;

use mtm_proto::mtm::rooms::v1::{
    DeviceTypeCount, EnrolmentState, EnrolmentStateCount, GetHealthReportResponse, HealthCount,
    ReportSubject, RoomHealth, TicketSeverity, TicketStatus, report_subject,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use super::entity::{room, ticket};
use super::rooms::Clock;
use super::tickets::in_scope;
use crate::context::Scope;
use crate::error::Error;
use crate::names::{CustomerId, parse_child_of};
use crate::time::timestamp;
pub use compliance::update_compliance;
pub use tickets::tickets;

const DAY_MICROS: i64 = 86_400_000_000;

/// The extra condition on `room` a report subject sets (none for the whole customer).
pub fn subject_condition(
    customer: &CustomerId,
    subject: Option<&ReportSubject>,
) -> Result<Option<Condition>, Error> {
    Ok(match subject.and_then(|s| s.subject.as_ref()) {
        None => None,
        Some(report_subject::Subject::RoomGroup(name)) => {
            let id = parse_child_of(customer, "subject.room_group", name, "roomGroups")?;
            Some(Condition::all().add(room::Column::RoomGroupId.eq(id)))
        }
        Some(report_subject::Subject::UpdateRing(name)) => {
            let id = parse_child_of(customer, "subject.update_ring", name, "updateRings")?;
            Some(Condition::all().add(room::Column::UpdateRingId.eq(id)))
        }
    })
}

/// The rooms a report covers: those in `scope` and of the subject.
pub fn covered_rooms(scope: &Scope, subject: &Option<Condition>) -> Select<room::Entity> {
    let mut query = room::Entity::find().filter(scope.room_condition());
    if let Some(extra) = subject {
        query = query.filter(extra.clone());
    }
    query
}

/// A count from the database as a report field.
fn count(n: u64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The rooms of `query` counted per value of `column`, in value order.
async fn count_by<C: ConnectionTrait>(
    db: &C,
    query: Select<room::Entity>,
    column: room::Column,
) -> Result<Vec<(i32, i64)>, Error> {
    Ok(query
        .select_only()
        .column(column)
        .column_as(room::Column::Id.count(), "room_count")
        .group_by(column)
        .order_by_asc(column)
        .into_tuple::<(i32, i64)>()
        .all(db)
        .await?)
}

fn count_of(groups: &[(i32, i64)], value: i32) -> i32 {
    groups
        .iter()
        .find(|(v, _)| *v == value)
        .map_or(0, |(_, n)| count(u64::try_from(*n).unwrap_or(0)))
}

/// Rooms by health, enrolment state and device type, and open tickets, now.
pub async fn health<C: ConnectionTrait>(
    db: &C,
    customer: &CustomerId,
    scope: &Scope,
    subject: Option<&ReportSubject>,
) -> Result<GetHealthReportResponse, Error> {
    let subject = subject_condition(customer, subject)?;
    let clock = Clock::of(db).await?;
    let rooms = || covered_rooms(scope, &subject);
    let mut rooms_by_health = Vec::with_capacity(3);
    for health in [
        RoomHealth::Healthy,
        RoomHealth::Unhealthy,
        RoomHealth::Disconnected,
    ] {
        let n = rooms()
            .filter(clock.health_condition(health as i32))
            .count(db)
            .await?;
        rooms_by_health.push(HealthCount {
            health: health as i32,
            room_count: count(n),
        });
    }
    let states = count_by(db, rooms(), room::Column::EnrolmentState).await?;
    let rooms_by_enrolment_state = [
        EnrolmentState::Onboarding,
        EnrolmentState::Enrolled,
        EnrolmentState::Unenrolled,
    ]
    .into_iter()
    .map(|s| EnrolmentStateCount {
        enrolment_state: s as i32,
        room_count: count_of(&states, s as i32),
    })
    .collect();
    let rooms_by_device_type = count_by(db, rooms(), room::Column::DeviceType)
        .await?
        .into_iter()
        .map(|(device_type, n)| DeviceTypeCount {
            device_type,
            room_count: count(u64::try_from(n).unwrap_or(0)),
        })
        .collect();
    let open = || {
        ticket::Entity::find()
            .filter(in_scope(scope, subject.clone()))
            .filter(ticket::Column::Status.ne(TicketStatus::Resolved as i32))
    };
    Ok(GetHealthReportResponse {
        generate_time: Some(timestamp(clock.now)),
        room_count: count(rooms().count(db).await?),
        rooms_by_health,
        rooms_by_enrolment_state,
        rooms_by_device_type,
        suppressed_room_count: count(
            rooms()
                .filter(room::Column::Suppressed.eq(true))
                .count(db)
                .await?,
        ),
        open_ticket_count: count(open().count(db).await?),
        open_important_ticket_count: count(
            open()
                .filter(ticket::Column::Severity.eq(TicketSeverity::Important as i32))
                .count(db)
                .await?,
        ),
    })
}
