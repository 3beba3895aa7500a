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

use super::{in_scope, to_proto, visible_rooms_of};
use crate::context::Scope;
use crate::cursor::{Page, refused};
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

/// The order of `ListTickets`; it also binds the list's page tokens.
pub const ORDER: &str = "tickets by update_time desc, id desc";
/// Values in a ticket's sort key: update time and id.
pub const KEY_PARTS: usize = 2;

/// What to list.
#[derive(Debug)]
pub struct ListQuery<'a> {
    /// The parsed filter.
    pub filter: &'a [Comparison],
    /// List strictly after this position (update time, ticket id).
    pub after: Option<(i64, String)>,
    /// Most tickets returned.
    pub limit: u64,
    /// How much of each ticket.
    pub view: TicketView,
    /// Whether to count every ticket matching (`total`); 0 otherwise.
    pub count: bool,
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

/// A position from a page token's sort key.
pub fn position_from_key(key: &[String]) -> Result<(i64, String), Error> {
    match key {
        [time, id] => Ok((time.parse().map_err(|_| refused())?, id.clone())),
        _ => Err(refused()),
    }
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

/// Up to `query.limit` tickets in scope matching the filter, strictly after `query.after`,
/// each with its rooms in scope (one query for all of the page's rooms).
pub async fn list<C: ConnectionTrait>(
    db: &C,
    customer: &CustomerId,
    scope: &Scope,
    query: &ListQuery<'_>,
) -> Result<Page<Ticket>, Error> {
    let condition = filter_condition(customer, scope, query.filter)?;
    let total = if query.count {
        ticket::Entity::find()
            .filter(condition.clone())
            .count(db)
            .await?
    } else {
        0
    };
    let mut select = ticket::Entity::find().filter(condition);
    if let Some((time, id)) = &query.after {
        select = select.filter(
            Condition::any()
                .add(ticket::Column::UpdateTime.lt(*time))
                .add(
                    Condition::all()
                        .add(ticket::Column::UpdateTime.eq(*time))
                        .add(ticket::Column::Id.lt(id.clone())),
                ),
        );
    }
    let rows = select
        .order_by_desc(ticket::Column::UpdateTime)
        .order_by_desc(ticket::Column::Id)
        .limit(query.limit + 1)
        .all(db)
        .await?;
    let rows = Page::cut(rows, query.limit, total, |r| {
        vec![r.update_time.to_string(), r.id.clone()]
    });
    let ids: Vec<String> = rows.items.iter().map(|r| r.id.clone()).collect();
    let mut rooms = visible_rooms_of(db, customer, scope, &ids).await?;
    let mut tickets = Vec::with_capacity(rows.items.len());
    for row in &rows.items {
        let visible = rooms.remove(&row.id).unwrap_or_default();
        tickets.push(to_proto(db, customer, row, visible, query.view).await?);
    }
    Ok(Page {
        items: tickets,
        next: rows.next,
        total,
    })
}
