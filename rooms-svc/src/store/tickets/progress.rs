//! Working on a ticket: messages from the people handling it, and closing a recorded issue
//! with a reason. Each is one transaction with its history entry and audit record.

use mtm_proto::mtm::rooms::v1::{Ticket, TicketCategory, TicketMessage, TicketStatus, TicketView};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};

use super::change::history;
use super::{
    category_name, find, message_to_proto, recount_rooms, room_ids, status_name, to_proto,
};
use crate::audit::Act;
use crate::context::Caller;
use crate::error::Error;
use crate::store::Store;
use crate::store::entity::ticket_message;
use crate::store::{encode_actor, idempotency, stats};
use crate::time::{now_micros, stale};

/// Most bytes of a message's text.
const MAX_TEXT: usize = 16 * 1024;

type Changes = Vec<(String, String, String)>;

/// Adds a message by the caller; idempotent on `key`.
pub async fn add_message(
    store: &Store,
    caller: &Caller,
    act: &Act,
    id: &str,
    text: &str,
    key: Option<idempotency::Key>,
) -> Result<TicketMessage, Error> {
    let customer = store.customer();
    if text.trim().is_empty() || text.len() > MAX_TEXT {
        return Err(Error::invalid("text", "required, at most 16 KiB"));
    }
    let ticket_name = customer.child("tickets", id);
    let txn = store.write().await?;
    let (current, _) = find(&txn, customer, &caller.scope, id).await?;
    if let Some(key) = &key
        && let Some(previous) = key.replay(&txn).await?
    {
        let message_id = previous.rsplit('/').next().unwrap_or_default().to_owned();
        let message = ticket_message::Entity::find_by_id(message_id)
            .one(&txn)
            .await?
            .ok_or_else(|| Error::not_found("mtm.rooms.v1.TicketMessage", previous.clone()))?;
        return message_to_proto(&ticket_name, message);
    }
    let now = now_micros();
    let message = ticket_message::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        ticket_id: Set(id.to_owned()),
        actor: Set(encode_actor(&caller.actor)),
        create_time: Set(now),
        text: Set(text.to_owned()),
    }
    .insert(&txn)
    .await?;
    let mut row = current.clone().into_active_model();
    row.message_count = Set(current.message_count + 1);
    row.update_time = Set(now);
    row.revision = Set(current.revision + 1);
    row.update(&txn).await?;
    history(&txn, id, &caller.actor, "message_added", &Vec::new(), now).await?;
    stats::adjust(&txn, 0, 0, 0, Some((store, now))).await?;
    let proto = message_to_proto(&ticket_name, message)?;
    if let Some(key) = &key {
        key.remember(&txn, &proto.name).await?;
    }
    act.success(
        &txn,
        caller,
        &current.title,
        vec![("message".into(), proto.name.clone())],
    )
    .await?;
    txn.commit().await?;
    Ok(proto)
}

/// Resolves a recorded issue with a reason.
pub async fn close_recorded_issue(
    store: &Store,
    caller: &Caller,
    act: &Act,
    id: &str,
    reason: &str,
    etag: &str,
) -> Result<Ticket, Error> {
    let customer = store.customer();
    if reason.trim().is_empty() || reason.len() > MAX_TEXT {
        return Err(Error::invalid("reason", "required, at most 16 KiB"));
    }
    let txn = store.write().await?;
    let (current, visible) = find(&txn, customer, &caller.scope, id).await?;
    if stale(etag, current.revision) {
        return Err(Error::StaleEtag(customer.child("tickets", id)));
    }
    let name = customer.child("tickets", id);
    if current.category != TicketCategory::RecordedIssue as i32 {
        return Err(Error::precondition(
            name,
            format!(
                "only recorded issues are closed this way; this is a {} ticket",
                category_name(current.category)
            ),
        ));
    }
    if current.status == TicketStatus::Resolved as i32 {
        return Err(Error::precondition(name, "the issue is already resolved"));
    }
    let now = now_micros();
    let changes: Changes = vec![
        (
            "status".into(),
            status_name(current.status),
            status_name(TicketStatus::Resolved as i32),
        ),
        ("close_reason".into(), String::new(), reason.to_owned()),
    ];
    let mut row = current.clone().into_active_model();
    row.status = Set(TicketStatus::Resolved as i32);
    row.close_reason = Set(reason.to_owned());
    row.resolve_time = Set(Some(now));
    row.update_time = Set(now);
    row.revision = Set(current.revision + 1);
    let updated = row.update(&txn).await?;
    history(&txn, id, &caller.actor, "closed", &changes, now).await?;
    stats::adjust(&txn, 0, 0, -1, Some((store, now))).await?;
    recount_rooms(&txn, &room_ids(&txn, id).await?).await?;
    act.success(
        &txn,
        caller,
        &updated.title,
        vec![("reason".into(), reason.to_owned())],
    )
    .await?;
    let ticket = to_proto(&txn, customer, &updated, visible, TicketView::Basic).await?;
    txn.commit().await?;
    Ok(ticket)
}
