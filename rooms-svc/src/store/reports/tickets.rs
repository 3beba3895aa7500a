//! The ticket report: tickets opened and resolved per UTC day, severity and category in a
//! window, and the mean time to resolve, each grouped and summed by the database.

use std::collections::BTreeMap;

use mtm_proto::mtm::rooms::v1::{
    GetTicketReportResponse, ReportSubject, SeverityResolveTime, TicketDailyCount, TicketSeverity,
    TicketStatus,
};
use sea_orm::sea_query::{Alias, Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::{DAY_MICROS, subject_condition};
use crate::context::Scope;
use crate::error::Error;
use crate::names::CustomerId;
use crate::store::entity::ticket;
use crate::store::tickets::in_scope;
use crate::time::{timestamp, utc_day};

/// Longest ticket report window, in days.
const MAX_WINDOW_DAYS: i64 = 366;

/// Tickets of one day, severity and category: how many, and for resolutions the summed
/// time from creation to resolution.
#[derive(Debug)]
struct Group {
    day: i64,
    severity: i32,
    category: i32,
    tickets: i64,
    duration: i64,
}

/// The tickets in scope of `subject` whose `time` falls in `[start, end)` (and, when
/// `resolved`, that are resolved), grouped by day of `time`, severity and category.
async fn grouped<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    subject: Option<sea_orm::Condition>,
    time: ticket::Column,
    window: (i64, i64),
    resolved: bool,
) -> Result<Vec<Group>, Error> {
    let mut query = ticket::Entity::find()
        .filter(in_scope(scope, subject))
        .filter(time.gte(window.0))
        .filter(time.lt(window.1));
    if resolved {
        query = query.filter(ticket::Column::Status.eq(TicketStatus::Resolved as i32));
    }
    let duration = Expr::col(ticket::Column::ResolveTime)
        .sub(Expr::col(ticket::Column::CreateTime))
        .sum()
        .cast_as(Alias::new("BIGINT"));
    let rows: Vec<(i64, i32, i32, i64, Option<i64>)> = query
        .select_only()
        .expr_as(Expr::col(time).div(DAY_MICROS), "day")
        .column(ticket::Column::Severity)
        .column(ticket::Column::Category)
        .column_as(ticket::Column::Id.count(), "tickets")
        .expr_as(duration, "duration")
        .group_by(Expr::col(Alias::new("day")))
        .group_by(ticket::Column::Severity)
        .group_by(ticket::Column::Category)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(day, severity, category, tickets, duration)| Group {
            day,
            severity,
            category,
            tickets,
            duration: duration.unwrap_or(0),
        })
        .collect())
}

fn mean(total: i64, n: i64) -> Option<prost_types::Duration> {
    if n <= 0 {
        return None;
    }
    let mean = total / n;
    Some(prost_types::Duration {
        seconds: mean / 1_000_000,
        nanos: i32::try_from((mean % 1_000_000) * 1000).unwrap_or(0),
    })
}

fn count(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
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
    let window = (start, end);
    let opened = grouped(
        db,
        scope,
        subject.clone(),
        ticket::Column::CreateTime,
        window,
        false,
    )
    .await?;
    let resolved = grouped(
        db,
        scope,
        subject,
        ticket::Column::ResolveTime,
        window,
        true,
    )
    .await?;
    let mut daily: BTreeMap<(i64, i32, i32), (i64, i64)> = BTreeMap::new();
    for group in &opened {
        daily
            .entry((group.day, group.severity, group.category))
            .or_default()
            .0 += group.tickets;
    }
    let mut by_severity: BTreeMap<i32, (i64, i64)> = BTreeMap::new();
    for group in &resolved {
        daily
            .entry((group.day, group.severity, group.category))
            .or_default()
            .1 += group.tickets;
        let severity = by_severity.entry(group.severity).or_default();
        severity.0 += group.tickets;
        severity.1 += group.duration;
    }
    let resolved_count: i64 = resolved.iter().map(|g| g.tickets).sum();
    let resolved_time: i64 = resolved.iter().map(|g| g.duration).sum();
    Ok(GetTicketReportResponse {
        generate_time: Some(timestamp(now)),
        start_time: Some(timestamp(start)),
        end_time: Some(timestamp(end)),
        daily_counts: daily
            .into_iter()
            .map(|((day, severity, category), (o, r))| TicketDailyCount {
                date: utc_day(day * DAY_MICROS),
                severity,
                category,
                opened_count: count(o),
                resolved_count: count(r),
            })
            .collect(),
        opened_count: count(opened.iter().map(|g| g.tickets).sum()),
        resolved_count: count(resolved_count),
        mean_time_to_resolve: mean(resolved_time, resolved_count),
        resolve_times_by_severity: [TicketSeverity::Important, TicketSeverity::Warning]
            .into_iter()
            .filter_map(|severity| {
                let (n, total) = by_severity.get(&(severity as i32)).copied()?;
                Some(SeverityResolveTime {
                    severity: severity as i32,
                    resolved_count: count(n),
                    mean_time_to_resolve: mean(total, n),
                })
            })
            .collect(),
    })
}
