//! The ticket list: the caller's scope and the filter in SQL, ordered by `update_time`
//! descending then id descending, resumable strictly after a position (page tokens and the
//! gateway's `start_after` are both positions, so pages never skip or repeat).

use mtm_proto::mtm::rooms::v1::{
    Ticket, TicketCategory, TicketPosition, TicketSeverity, TicketStatus, TicketView,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::{in_scope, to_proto, visible_rooms};
use crate::context::Scope;
use crate::error::Error;
use crate::names::{CustomerId, parse_child_of};
use crate::store::entity::{room, ticket};
use mtm_plumbing::filter::{self, Comparison, FieldSpec, Op};

/// The filterable fields of `ListTickets`.
pub const FILTER_FIELDS: FieldSpec<'static> = &[
    ("status", false),
    ("severity", false),
    ("category", false),
    ("high_impact", false),
    ("room", false),
    ("room_group", false),
    ("created_by.partner", false),
    ("create_time", true),
    ("update_time", true),
];

/// One page of tickets.
#[derive(Debug)]
pub struct Page {
    /// The tickets, in list order.
    pub tickets: Vec<Ticket>,
    /// Where the next page starts, when there is one: update time and ticket id.
    pub next: Option<(i64, String)>,
    /// Tickets in scope matching the filter.
    pub total: u64,
}

fn filter_condition(
    customer: &CustomerId,
    scope: &Scope,
    filter: &[Comparison],
) -> Result<Condition, Error> {
    let mut condition = in_scope(scope, None);
    for comparison in filter {
        let value = comparison.value.clone();
        let part = match comparison.field.as_str() {
            "status" => Condition::all().add(ticket::Column::Status.eq(filter::enumeration(
                comparison,
                "TICKET_STATUS_",
                |n| TicketStatus::from_str_name(n).map(|v| v as i32),
            )?)),
            "severity" => Condition::all().add(ticket::Column::Severity.eq(filter::enumeration(
                comparison,
                "TICKET_SEVERITY_",
                |n| TicketSeverity::from_str_name(n).map(|v| v as i32),
            )?)),
            "category" => Condition::all().add(ticket::Column::Category.eq(filter::enumeration(
                comparison,
                "TICKET_CATEGORY_",
                |n| TicketCategory::from_str_name(n).map(|v| v as i32),
            )?)),
            "high_impact" => {
                Condition::all().add(ticket::Column::HighImpact.eq(filter::boolean(comparison)?))
            }
            "room" => {
                let id = parse_child_of(customer, "filter", &value, "rooms")?;
                in_scope(scope, Some(Condition::all().add(room::Column::Id.eq(id))))
            }
            "room_group" => {
                let id = parse_child_of(customer, "filter", &value, "roomGroups")?;
                in_scope(
                    scope,
                    Some(Condition::all().add(room::Column::RoomGroupId.eq(id))),
                )
            }
            "created_by.partner" => {
                Condition::all().add(ticket::Column::CreatedByPartner.eq(value))
            }
            field => {
                let time = filter::time_micros(comparison).unwrap_or_default();
                let column = if field == "create_time" {
                    ticket::Column::CreateTime
                } else {
                    ticket::Column::UpdateTime
                };
                Condition::all().add(match comparison.op {
                    Op::Ge => column.gte(time),
                    Op::Le => column.lte(time),
                    Op::Eq => column.eq(time),
                })
            }
        };
        condition = condition.add(part);
    }
    Ok(condition)
}

/// A position from the gateway's `start_after`.
pub fn position_of(
    customer: &CustomerId,
    position: &TicketPosition,
) -> Result<(i64, String), Error> {
    let time = position
        .update_time
        .as_ref()
        .map(crate::time::micros)
        .ok_or_else(|| Error::invalid("start_after.update_time", "required"))?;
    let id = parse_child_of(customer, "start_after.ticket", &position.ticket, "tickets")?;
    Ok((time, id))
}

/// Up to `limit` tickets in scope matching `filter`, strictly after `after`.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    customer: &CustomerId,
    scope: &Scope,
    filter: &[Comparison],
    after: Option<(i64, String)>,
    limit: u64,
    view: TicketView,
) -> Result<Page, Error> {
    let condition = filter_condition(customer, scope, filter)?;
    let total = ticket::Entity::find()
        .filter(condition.clone())
        .count(db)
        .await?;
    let mut query = ticket::Entity::find().filter(condition);
    if let Some((time, id)) = &after {
        query = query.filter(
            Condition::any()
                .add(ticket::Column::UpdateTime.lt(*time))
                .add(
                    Condition::all()
                        .add(ticket::Column::UpdateTime.eq(*time))
                        .add(ticket::Column::Id.lt(id.clone())),
                ),
        );
    }
    let mut rows = query
        .order_by_desc(ticket::Column::UpdateTime)
        .order_by_desc(ticket::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = if more {
        rows.last().map(|r| (r.update_time, r.id.clone()))
    } else {
        None
    };
    let mut tickets = Vec::with_capacity(rows.len());
    for row in &rows {
        let rooms = visible_rooms(db, customer, scope, &row.id).await?;
        tickets.push(to_proto(db, customer, row, rooms, view).await?);
    }
    Ok(Page {
        tickets,
        next,
        total,
    })
}
