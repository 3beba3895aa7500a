//! Reports computed from the customer's own store (R27), over the rooms in the caller's scope
//! only (R21): fleet health now, tickets over a window, and update compliance per ring.

mod compliance;

use std::collections::BTreeMap;

use mtm_proto::mtm::rooms::v1::{
    DeviceTypeCount, EnrolmentState, EnrolmentStateCount, GetHealthReportResponse,
    GetTicketReportResponse, HealthCount, ReportSubject, RoomHealth, SeverityResolveTime,
    TicketDailyCount, TicketSeverity, TicketStatus, report_subject,
};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

use super::entity::{room, ticket};
use super::rooms::Clock;
use super::tickets::in_scope;
use crate::context::Scope;
use crate::error::Error;
use crate::names::{CustomerId, parse_child_of};
use crate::time::{timestamp, utc_day};
pub use compliance::update_compliance;

/// Longest ticket report window, in days.
const MAX_WINDOW_DAYS: i64 = 366;
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

/// The rooms a report covers.
pub async fn covered_rooms<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    subject: &Option<Condition>,
) -> Result<Vec<room::Model>, Error> {
    let mut query = room::Entity::find().filter(scope.room_condition());
    if let Some(extra) = subject {
        query = query.filter(extra.clone());
    }
    Ok(query.all(db).await?)
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
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
    let rooms = covered_rooms(db, scope, &subject).await?;
    let healths: Vec<RoomHealth> = rooms.iter().map(|r| clock.health(r)).collect();
    let rooms_by_health = [
        RoomHealth::Healthy,
        RoomHealth::Unhealthy,
        RoomHealth::Disconnected,
    ]
    .into_iter()
    .map(|h| HealthCount {
        health: h as i32,
        room_count: count(healths.iter().filter(|x| **x == h).count()),
    })
    .collect();
    let rooms_by_enrolment_state = [
        EnrolmentState::Onboarding,
        EnrolmentState::Enrolled,
        EnrolmentState::Unenrolled,
    ]
    .into_iter()
    .map(|s| EnrolmentStateCount {
        enrolment_state: s as i32,
        room_count: count(
            rooms
                .iter()
                .filter(|r| r.enrolment_state == s as i32)
                .count(),
        ),
    })
    .collect();
    let mut by_device: BTreeMap<i32, usize> = BTreeMap::new();
    for room in &rooms {
        *by_device.entry(room.device_type).or_default() += 1;
    }
    let open = ticket::Entity::find()
        .filter(in_scope(scope, subject.clone()))
        .filter(ticket::Column::Status.ne(TicketStatus::Resolved as i32))
        .all(db)
        .await?;
    Ok(GetHealthReportResponse {
        generate_time: Some(timestamp(clock.now)),
        room_count: count(rooms.len()),
        rooms_by_health,
        rooms_by_enrolment_state,
        rooms_by_device_type: by_device
            .into_iter()
            .map(|(device_type, n)| DeviceTypeCount {
                device_type,
                room_count: count(n),
            })
            .collect(),
        suppressed_room_count: count(rooms.iter().filter(|r| r.suppressed).count()),
        open_ticket_count: count(open.len()),
        open_important_ticket_count: count(
            open.iter()
                .filter(|t| t.severity == TicketSeverity::Important as i32)
                .count(),
        ),
    })
}

fn mean(durations: &[i64]) -> Option<prost_types::Duration> {
    if durations.is_empty() {
        return None;
    }
    let total: i128 = durations.iter().map(|d| i128::from(*d)).sum();
    let mean = i64::try_from(total / durations.len() as i128).unwrap_or(i64::MAX);
    Some(prost_types::Duration {
        seconds: mean / 1_000_000,
        nanos: i32::try_from((mean % 1_000_000) * 1000).unwrap_or(0),
    })
}

/// Tickets opened and resolved per day by severity and category in `[start, end)`, and the
/// mean time to resolve.
pub async fn tickets<C: ConnectionTrait>(
    db: &C,
    customer: &CustomerId,
    scope: &Scope,
    subject: Option<&ReportSubject>,
    start: Option<i64>,
    end: Option<i64>,
) -> Result<GetTicketReportResponse, Error> {
    let now = crate::time::now_micros();
    let end = end.unwrap_or(now);
    let start = start.unwrap_or(end - 30 * DAY_MICROS);
    if start >= end {
        return Err(Error::invalid("start_time", "must be before end_time"));
    }
    if end - start > MAX_WINDOW_DAYS * DAY_MICROS {
        return Err(Error::invalid(
            "start_time",
            "the window may span at most 366 days",
        ));
    }
    let subject = subject_condition(customer, subject)?;
    let rows = ticket::Entity::find()
        .filter(in_scope(scope, subject))
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(ticket::Column::CreateTime.gte(start))
                        .add(ticket::Column::CreateTime.lt(end)),
                )
                .add(
                    Condition::all()
                        .add(ticket::Column::ResolveTime.gte(start))
                        .add(ticket::Column::ResolveTime.lt(end)),
                ),
        )
        .all(db)
        .await?;
    let mut daily: BTreeMap<(String, i32, i32), (i32, i32)> = BTreeMap::new();
    let mut opened = 0;
    let mut resolved: Vec<(i32, i64)> = Vec::new();
    for row in &rows {
        if (start..end).contains(&row.create_time) {
            opened += 1;
            daily
                .entry((utc_day(row.create_time), row.severity, row.category))
                .or_default()
                .0 += 1;
        }
        if let Some(resolve) = row.resolve_time.filter(|t| (start..end).contains(t))
            && row.status == TicketStatus::Resolved as i32
        {
            resolved.push((row.severity, resolve - row.create_time));
            daily
                .entry((utc_day(resolve), row.severity, row.category))
                .or_default()
                .1 += 1;
        }
    }
    let all: Vec<i64> = resolved.iter().map(|(_, d)| *d).collect();
    Ok(GetTicketReportResponse {
        generate_time: Some(timestamp(now)),
        start_time: Some(timestamp(start)),
        end_time: Some(timestamp(end)),
        daily_counts: daily
            .into_iter()
            .map(|((date, severity, category), (o, r))| TicketDailyCount {
                date,
                severity,
                category,
                opened_count: o,
                resolved_count: r,
            })
            .collect(),
        opened_count: opened,
        resolved_count: count(resolved.len()),
        mean_time_to_resolve: mean(&all),
        resolve_times_by_severity: [TicketSeverity::Important, TicketSeverity::Warning]
            .into_iter()
            .filter_map(|severity| {
                let of: Vec<i64> = resolved
                    .iter()
                    .filter(|(s, _)| *s == severity as i32)
                    .map(|(_, d)| *d)
                    .collect();
                (!of.is_empty()).then(|| SeverityResolveTime {
                    severity: severity as i32,
                    resolved_count: count(of.len()),
                    mean_time_to_resolve: mean(&of),
                })
            })
            .collect(),
    })
}
