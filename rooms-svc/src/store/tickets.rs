//! Tickets and recorded incidents: the API view with only the rooms the caller may see
//! (R34), the scoped list in its stable order with cursors, and the counters a ticket keeps
//! on its rooms (open tickets, and the open IMPORTANT tickets and recorded issues that make a
//! room UNHEALTHY).

mod change;
mod list;
mod progress;
mod signals;

use mtm_proto::mtm::rooms::v1::{
    Ticket, TicketCategory, TicketFieldChange, TicketHistoryEntry, TicketMessage, TicketRoom,
    TicketSeverity, TicketStatus, TicketView,
};
use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, Order, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::decode_actor;
use super::entity::{room, ticket, ticket_history, ticket_message, ticket_room};
use crate::context::Scope;
use crate::error::Error;
use crate::names::CustomerId;
use crate::time::{etag, timestamp, timestamp_opt};
pub use change::{create_incident, update};
pub use list::{FILTER_FIELDS, KEY_PARTS, ListQuery, ORDER, list, position_from_key, position_of};
pub use progress::{add_message, close_recorded_issue};
pub use signals::record_telemetry;

/// The resource type in errors.
pub const KIND: &str = "mtm.rooms.v1.Ticket";

/// `SELECT id FROM room WHERE <scope>`.
fn rooms_in(scope: &Scope) -> SelectStatement {
    Query::select()
        .column(room::Column::Id)
        .from(room::Entity)
        .cond_where(scope.room_condition())
        .to_owned()
}

/// The tickets with at least one room in `scope` that also satisfies `extra` (a condition
/// on `room`), as a condition on `ticket`.
pub fn in_scope(scope: &Scope, extra: Option<Condition>) -> Condition {
    if scope.is_all() && extra.is_none() {
        return Condition::all();
    }
    let mut rooms = rooms_in(scope);
    if let Some(extra) = extra {
        rooms.cond_where(extra);
    }
    let tickets = Query::select()
        .column(ticket_room::Column::TicketId)
        .from(ticket_room::Entity)
        .and_where(ticket_room::Column::RoomId.in_subquery(rooms))
        .to_owned();
    Condition::all().add(ticket::Column::Id.in_subquery(tickets))
}

/// The ticket's rooms that `scope` covers, with their names and groups.
pub async fn visible_rooms<C: ConnectionTrait>(
    db: &C,
    customer: &CustomerId,
    scope: &Scope,
    ticket_id: &str,
) -> Result<Vec<TicketRoom>, Error> {
    let mut rooms = visible_rooms_of(db, customer, scope, &[ticket_id.to_owned()]).await?;
    Ok(rooms.remove(ticket_id).unwrap_or_default())
}

/// The rooms that `scope` covers of each of the tickets `ticket_ids`, by display name then
/// id, in one query; tickets without such rooms are left out.
pub async fn visible_rooms_of<C: ConnectionTrait>(
    db: &C,
    customer: &CustomerId,
    scope: &Scope,
    ticket_ids: &[String],
) -> Result<HashMap<String, Vec<TicketRoom>>, Error> {
    let mut by_ticket: HashMap<String, Vec<TicketRoom>> = HashMap::new();
    if ticket_ids.is_empty() {
        return Ok(by_ticket);
    }
    let statement = Query::select()
        .column((ticket_room::Entity, ticket_room::Column::TicketId))
        .columns([
            (room::Entity, room::Column::Id),
            (room::Entity, room::Column::DisplayName),
            (room::Entity, room::Column::RoomGroupId),
        ])
        .from(ticket_room::Entity)
        .inner_join(
            room::Entity,
            Expr::col((room::Entity, room::Column::Id))
                .equals((ticket_room::Entity, ticket_room::Column::RoomId)),
        )
        .and_where(
            Expr::col((ticket_room::Entity, ticket_room::Column::TicketId))
                .is_in(ticket_ids.iter().cloned()),
        )
        .cond_where(scope.room_condition())
        .order_by((room::Entity, room::Column::DisplayName), Order::Asc)
        .order_by((room::Entity, room::Column::Id), Order::Asc)
        .to_owned();
    for row in db.query_all(&statement).await? {
        let ticket_id: String = row.try_get_by_index(0)?;
        let room_id: String = row.try_get_by_index(1)?;
        let display_name: String = row.try_get_by_index(2)?;
        let group_id: String = row.try_get_by_index(3)?;
        by_ticket.entry(ticket_id).or_default().push(TicketRoom {
            room: customer.child("rooms", &room_id),
            display_name,
            room_group: customer.child("roomGroups", &group_id),
        });
    }
    Ok(by_ticket)
}

/// Ticket `id` with its rooms in `scope`; NOT_FOUND when it is missing or none of its rooms
/// is in scope (R37).
pub async fn find<C: ConnectionTrait>(
    db: &C,
    customer: &CustomerId,
    scope: &Scope,
    id: &str,
) -> Result<(ticket::Model, Vec<TicketRoom>), Error> {
    let not_found = || Error::not_found(KIND, customer.child("tickets", id));
    let model = ticket::Entity::find_by_id(id.to_owned())
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let rooms = visible_rooms(db, customer, scope, id).await?;
    if rooms.is_empty() {
        return Err(not_found());
    }
    Ok((model, rooms))
}

/// The name of an enum value without its prefix, as history shows it.
pub fn status_name(value: i32) -> String {
    TicketStatus::try_from(value)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("TICKET_STATUS_")
                .to_owned()
        })
        .unwrap_or_default()
}

/// As [`status_name`], for severities.
pub fn severity_name(value: i32) -> String {
    TicketSeverity::try_from(value)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("TICKET_SEVERITY_")
                .to_owned()
        })
        .unwrap_or_default()
}

/// As [`status_name`], for categories.
pub fn category_name(value: i32) -> String {
    TicketCategory::try_from(value)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("TICKET_CATEGORY_")
                .to_owned()
        })
        .unwrap_or_default()
}

/// The API view; `FULL` adds messages and history.
pub async fn to_proto<C: ConnectionTrait>(
    db: &C,
    customer: &CustomerId,
    model: &ticket::Model,
    rooms: Vec<TicketRoom>,
    view: TicketView,
) -> Result<Ticket, Error> {
    let name = customer.child("tickets", &model.id);
    let (messages, history) = if view == TicketView::Full {
        let messages = ticket_message::Entity::find()
            .filter(ticket_message::Column::TicketId.eq(model.id.clone()))
            .order_by_asc(ticket_message::Column::CreateTime)
            .order_by_asc(ticket_message::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .map(|m| message_to_proto(&name, m))
            .collect::<Result<Vec<_>, _>>()?;
        let history = ticket_history::Entity::find()
            .filter(ticket_history::Column::TicketId.eq(model.id.clone()))
            .order_by_asc(ticket_history::Column::CreateTime)
            .order_by_asc(ticket_history::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .map(history_to_proto)
            .collect::<Result<Vec<_>, _>>()?;
        (messages, history)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(Ticket {
        name,
        title: model.title.clone(),
        description: model.description.clone(),
        rooms,
        category: model.category,
        severity: model.severity,
        high_impact: model.high_impact,
        status: model.status,
        created_by: Some(decode_actor(&model.created_by)?),
        message_count: model.message_count,
        messages,
        history,
        close_reason: model.close_reason.clone(),
        create_time: Some(timestamp(model.create_time)),
        update_time: Some(timestamp(model.update_time)),
        resolve_time: timestamp_opt(model.resolve_time),
        etag: etag(model.revision),
    })
}

/// The API view of a message of ticket `ticket_name`.
pub fn message_to_proto(
    ticket_name: &str,
    model: ticket_message::Model,
) -> Result<TicketMessage, Error> {
    Ok(TicketMessage {
        name: format!("{ticket_name}/messages/{}", model.id),
        text: model.text,
        author: Some(decode_actor(&model.actor)?),
        create_time: Some(timestamp(model.create_time)),
    })
}

fn history_to_proto(model: ticket_history::Model) -> Result<TicketHistoryEntry, Error> {
    let changes: Vec<(String, String, String)> = serde_json::from_str(&model.changes)
        .map_err(|e| Error::Corrupt(format!("ticket history: {e}")))?;
    Ok(TicketHistoryEntry {
        action: model.action,
        actor: Some(decode_actor(&model.actor)?),
        changes: changes
            .into_iter()
            .map(|(field, old_value, new_value)| TicketFieldChange {
                field,
                old_value,
                new_value,
            })
            .collect(),
        create_time: Some(timestamp(model.create_time)),
    })
}

/// Recomputes the ticket counters of `rooms` from their tickets.
pub async fn recount_rooms<C: ConnectionTrait>(db: &C, rooms: &[String]) -> Result<(), Error> {
    for room_id in rooms {
        let on_room = Query::select()
            .column(ticket_room::Column::TicketId)
            .from(ticket_room::Entity)
            .and_where(ticket_room::Column::RoomId.eq(room_id.clone()))
            .to_owned();
        let open = ticket::Entity::find()
            .filter(ticket::Column::Id.in_subquery(on_room.clone()))
            .filter(ticket::Column::Status.ne(TicketStatus::Resolved as i32));
        let open_count = open.clone().count(db).await?;
        let unhealthy = open
            .filter(
                Condition::any()
                    .add(ticket::Column::Severity.eq(TicketSeverity::Important as i32))
                    .add(ticket::Column::Category.eq(TicketCategory::RecordedIssue as i32)),
            )
            .count(db)
            .await?;
        room::Entity::update_many()
            .col_expr(
                room::Column::OpenTicketCount,
                Expr::val(i32::try_from(open_count).unwrap_or(i32::MAX)),
            )
            .col_expr(
                room::Column::UnhealthyTicketCount,
                Expr::val(i32::try_from(unhealthy).unwrap_or(i32::MAX)),
            )
            .filter(room::Column::Id.eq(room_id.clone()))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// All room ids of a ticket.
pub async fn room_ids<C: ConnectionTrait>(db: &C, ticket_id: &str) -> Result<Vec<String>, Error> {
    Ok(ticket_room::Entity::find()
        .filter(ticket_room::Column::TicketId.eq(ticket_id))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.room_id)
        .collect())
}

/// A history entry's changes as stored.
pub fn encode_changes(changes: &[(String, String, String)]) -> String {
    serde_json::to_string(changes).unwrap_or_else(|_| "[]".to_owned())
}
