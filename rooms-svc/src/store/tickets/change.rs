//! Changes to tickets: recording an incident, editing, messages, closing a recorded issue.
//! Each is one transaction that keeps the history, the rooms' counters, the store counters
//! and the audit log in step.

use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::common::v1::Actor;
use mtm_proto::mtm::rooms::v1::{
    CreateIncidentRequest, Ticket, TicketCategory, TicketSeverity, TicketStatus, TicketView,
};
use sea_orm::{ActiveModelTrait, ConnectionTrait, IntoActiveModel, Set};

use super::{encode_changes, find, recount_rooms, room_ids, severity_name, status_name, to_proto};
use crate::audit::Act;
use crate::context::Caller;
use crate::error::{Check, Error};
use crate::names::parse_child_of;
use crate::store::Store;
use crate::store::entity::{ticket, ticket_history, ticket_room};
use crate::store::{encode_actor, idempotency, stats};
use crate::time::{now_micros, stale};

/// Most bytes of a message's text.
const MAX_TEXT: usize = 16 * 1024;

type Changes = Vec<(String, String, String)>;

/// Appends a history entry.
pub async fn history<C: ConnectionTrait>(
    db: &C,
    ticket_id: &str,
    actor: &Actor,
    action: &str,
    changes: &Changes,
    at: i64,
) -> Result<(), Error> {
    ticket_history::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        ticket_id: Set(ticket_id.to_owned()),
        actor: Set(encode_actor(actor)),
        create_time: Set(at),
        action: Set(action.to_owned()),
        changes: Set(encode_changes(changes)),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// What a new ticket holds.
#[derive(Debug)]
pub struct NewTicket<'a> {
    /// Ids of its rooms.
    pub rooms: &'a [String],
    /// Its title.
    pub title: &'a str,
    /// Its description.
    pub description: &'a str,
    /// Its category.
    pub category: TicketCategory,
    /// Its severity (`TicketSeverity`).
    pub severity: i32,
    /// Whether it has a high impact.
    pub high_impact: bool,
}

/// Inserts a new open ticket with its `created` history entry inside `db`, a transaction of
/// `store`, and updates the counters. Returns the row.
pub async fn insert_ticket<C: ConnectionTrait>(
    store: &Store,
    db: &C,
    actor: &Actor,
    new: NewTicket<'_>,
) -> Result<ticket::Model, Error> {
    let NewTicket {
        rooms,
        title,
        description,
        category,
        severity,
        high_impact,
    } = new;
    let now = now_micros();
    let inserted = ticket::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        title: Set(title.to_owned()),
        description: Set(description.to_owned()),
        category: Set(category as i32),
        severity: Set(severity),
        high_impact: Set(high_impact),
        status: Set(TicketStatus::NeedsAction as i32),
        created_by: Set(encode_actor(actor)),
        created_by_partner: Set(actor.partner.clone()),
        close_reason: Set(String::new()),
        message_count: Set(0),
        create_time: Set(now),
        update_time: Set(now),
        resolve_time: Set(None),
        revision: Set(1),
    }
    .insert(db)
    .await?;
    for room_id in rooms {
        ticket_room::ActiveModel {
            ticket_id: Set(inserted.id.clone()),
            room_id: Set(room_id.clone()),
        }
        .insert(db)
        .await?;
    }
    history(db, &inserted.id, actor, "created", &Vec::new(), now).await?;
    recount_rooms(db, rooms).await?;
    stats::adjust(db, 0, 1, 1, Some((store, now))).await?;
    Ok(inserted)
}

/// Records a customer incident on one or more rooms, all in the caller's scope.
pub async fn create_incident(
    store: &Store,
    caller: &Caller,
    request: &CreateIncidentRequest,
    key: Option<idempotency::Key>,
) -> Result<Ticket, Error> {
    let customer = store.customer();
    let act = Act::new(
        customer,
        AuditCategory::Ticket,
        "create_incident",
        customer.child("tickets", "-"),
    );
    let outcome = async {
        let mut check = Check::default();
        check.check(
            request.rooms.is_empty() || request.rooms.len() > 100,
            "rooms",
            "name 1 to 100 rooms",
        );
        check.check(
            request.title.trim().is_empty() || request.title.len() > 256,
            "title",
            "required, at most 256 bytes",
        );
        check.check(
            request.description.len() > MAX_TEXT,
            "description",
            "at most 16 KiB",
        );
        check.check(
            !matches!(
                TicketSeverity::try_from(request.severity),
                Ok(TicketSeverity::Important | TicketSeverity::Warning)
            ),
            "severity",
            "must be IMPORTANT or WARNING",
        );
        check.done()?;
        let mut rooms = Vec::new();
        for (i, name) in request.rooms.iter().enumerate() {
            let id = parse_child_of(customer, &format!("rooms[{i}]"), name, "rooms")?;
            if !rooms.contains(&id) {
                rooms.push(id);
            }
        }
        // Rooms are locked in one order, so concurrent incidents cannot deadlock.
        rooms.sort();
        let txn = store.write().await?;
        if let Some(key) = &key
            && let Some(previous) = key.replay(&txn).await?
        {
            let id = parse_child_of(customer, "ticket", &previous, "tickets")?;
            let (model, visible) = find(&txn, customer, &caller.scope, &id).await?;
            return to_proto(&txn, customer, &model, visible, TicketView::Full).await;
        }
        for id in &rooms {
            crate::store::rooms::find(&txn, customer, &caller.scope, id).await?;
        }
        let inserted = insert_ticket(
            store,
            &txn,
            &caller.actor,
            NewTicket {
                rooms: &rooms,
                title: request.title.trim(),
                description: &request.description,
                category: TicketCategory::RecordedIssue,
                severity: request.severity,
                high_impact: request.high_impact,
            },
        )
        .await?;
        let name = customer.child("tickets", &inserted.id);
        if let Some(key) = &key {
            key.remember(&txn, &name).await?;
        }
        let mut act = act.clone();
        act.object_id = name;
        act.success(
            &txn,
            caller,
            &inserted.title,
            vec![("rooms".into(), rooms.join(","))],
        )
        .await?;
        let visible = super::visible_rooms(&txn, customer, &caller.scope, &inserted.id).await?;
        let ticket = to_proto(&txn, customer, &inserted, visible, TicketView::Full).await?;
        txn.commit().await?;
        Ok(ticket)
    }
    .await;
    act.finish(store, caller, outcome).await
}

/// Applies `paths` (`title`, `description`, `severity`, `high_impact`, `status`) of `input`.
pub async fn update(
    store: &Store,
    caller: &Caller,
    act: &Act,
    id: &str,
    input: &Ticket,
    paths: &[String],
) -> Result<Ticket, Error> {
    let customer = store.customer();
    let mut check = Check::default();
    check.check(paths.is_empty(), "update_mask", "name at least one field");
    for path in paths {
        match path.as_str() {
            "title" => {
                check.check(
                    input.title.trim().is_empty() || input.title.len() > 256,
                    "ticket.title",
                    "required, at most 256 bytes",
                );
            }
            "description" => {
                check.check(
                    input.description.len() > MAX_TEXT,
                    "ticket.description",
                    "at most 16 KiB",
                );
            }
            "severity" => {
                check.check(
                    !matches!(
                        TicketSeverity::try_from(input.severity),
                        Ok(TicketSeverity::Important | TicketSeverity::Warning)
                    ),
                    "ticket.severity",
                    "must be IMPORTANT or WARNING",
                );
            }
            "status" => {
                check.check(
                    TicketStatus::try_from(input.status).is_err() || input.status == 0,
                    "ticket.status",
                    "unknown status",
                );
            }
            "high_impact" => {}
            other => {
                check.check(true, "update_mask", format!("`{other}` cannot be updated"));
            }
        }
    }
    check.done()?;
    let txn = store.write().await?;
    let (current, visible) = find(&txn, customer, &caller.scope, id).await?;
    if stale(&input.etag, current.revision) {
        return Err(Error::StaleEtag(customer.child("tickets", id)));
    }
    let resolved = TicketStatus::Resolved as i32;
    if paths.iter().any(|p| p == "status")
        && input.status == resolved
        && current.status != resolved
        && current.category == TicketCategory::RecordedIssue as i32
    {
        return Err(Error::precondition(
            customer.child("tickets", id),
            "a recorded issue is resolved only by CloseRecordedIssue, with a reason",
        ));
    }
    let now = now_micros();
    let mut changes: Changes = Vec::new();
    let mut row = current.clone().into_active_model();
    for path in paths {
        match path.as_str() {
            "title" => {
                changes.push((
                    path.clone(),
                    current.title.clone(),
                    input.title.trim().to_owned(),
                ));
                row.title = Set(input.title.trim().to_owned());
            }
            "description" => {
                changes.push((
                    path.clone(),
                    current.description.clone(),
                    input.description.clone(),
                ));
                row.description = Set(input.description.clone());
            }
            "severity" => {
                changes.push((
                    path.clone(),
                    severity_name(current.severity),
                    severity_name(input.severity),
                ));
                row.severity = Set(input.severity);
            }
            "high_impact" => {
                changes.push((
                    path.clone(),
                    current.high_impact.to_string(),
                    input.high_impact.to_string(),
                ));
                row.high_impact = Set(input.high_impact);
            }
            _ => {
                changes.push((
                    path.clone(),
                    status_name(current.status),
                    status_name(input.status),
                ));
                row.status = Set(input.status);
                if input.status == resolved && current.status != resolved {
                    row.resolve_time = Set(Some(now));
                } else if input.status != resolved {
                    row.resolve_time = Set(None);
                }
            }
        }
    }
    row.update_time = Set(now);
    row.revision = Set(current.revision + 1);
    let updated = row.update(&txn).await?;
    history(&txn, id, &caller.actor, "updated", &changes, now).await?;
    let open_delta = match (current.status == resolved, updated.status == resolved) {
        (false, true) => -1,
        (true, false) => 1,
        _ => 0,
    };
    stats::adjust(&txn, 0, 0, open_delta, Some((store, now))).await?;
    recount_rooms(&txn, &room_ids(&txn, id).await?).await?;
    act.success(
        &txn,
        caller,
        &updated.title,
        changes
            .iter()
            .map(|(f, o, n)| (f.clone(), format!("{o} -> {n}")))
            .collect(),
    )
    .await?;
    let ticket = to_proto(&txn, customer, &updated, visible, TicketView::Basic).await?;
    txn.commit().await?;
    Ok(ticket)
}
