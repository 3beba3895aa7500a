//! Telemetry from a room's device: last-seen time and versions, and device signals that open
//! a signal ticket (unless the room is suppressed) or resolve it when they clear. Audited as
//! rooms-svc itself.

use mtm_proto::mtm::audit::v1::AuditCategory;
use mtm_proto::mtm::common::v1::Actor;
use mtm_proto::mtm::rooms::v1::{
    EnrolmentState, RecordTelemetryRequest, TicketCategory, TicketSeverity, TicketStatus,
};
use sea_orm::sea_query::Query;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};

use super::change::{NewTicket, history, insert_ticket};
use super::{category_name, recount_rooms, room_ids, status_name};
use crate::audit::Act;
use crate::context::{Caller, Scope};
use crate::error::{Check, Error};
use crate::store::Store;
use crate::store::entity::{ticket, ticket_room};
use crate::store::stats;
use crate::time::now_micros;

/// Applies one telemetry report of room `id`; returns the tickets it opened or resolved.
pub async fn record_telemetry(
    store: &Store,
    id: &str,
    request: &RecordTelemetryRequest,
) -> Result<Vec<String>, Error> {
    let customer = store.customer();
    let mut check = Check::default();
    for (i, signal) in request.signals.iter().enumerate() {
        check.check(
            matches!(
                TicketCategory::try_from(signal.category),
                Err(_) | Ok(TicketCategory::Unspecified | TicketCategory::RecordedIssue)
            ),
            &format!("signals[{i}].category"),
            "must be a device signal category",
        );
        check.check(
            !signal.healthy && TicketSeverity::try_from(signal.severity).is_err(),
            &format!("signals[{i}].severity"),
            "unknown severity",
        );
    }
    check.done()?;
    let system = Caller::system();
    let txn = store.write().await?;
    let current = crate::store::rooms::find(&txn, customer, &Scope::All, id).await?;
    if current.enrolment_state != EnrolmentState::Enrolled as i32 {
        return Err(Error::precondition(
            customer.child("rooms", id),
            "the room is not enrolled",
        ));
    }
    let now = now_micros();
    let observed = request
        .observe_time
        .as_ref()
        .map(crate::time::micros)
        .unwrap_or(now)
        .min(now);
    let mut row = current.clone().into_active_model();
    if current.last_telemetry_time.is_none_or(|t| observed > t) {
        row.last_telemetry_time = Set(Some(observed));
    }
    if !request.app_version.is_empty() {
        row.app_version = Set(request.app_version.clone());
    }
    if !request.os_version.is_empty() {
        row.os_version = Set(request.os_version.clone());
    }
    row.update(&txn).await?;
    crate::store::rooms::record_versions(
        &txn,
        current.device_type,
        &request.app_version,
        &request.os_version,
        observed,
    )
    .await?;
    let mut affected = Vec::new();
    for signal in &request.signals {
        let on_room = Query::select()
            .column(ticket_room::Column::TicketId)
            .from(ticket_room::Entity)
            .and_where(ticket_room::Column::RoomId.eq(id))
            .to_owned();
        let open = ticket::Entity::find()
            .filter(ticket::Column::Id.in_subquery(on_room))
            .filter(ticket::Column::Category.eq(signal.category))
            .filter(ticket::Column::Status.ne(TicketStatus::Resolved as i32))
            .filter(ticket::Column::CreatedByPartner.eq(""))
            .all(&txn)
            .await?;
        let open: Vec<_> = open
            .into_iter()
            .filter(|t| super::decode_actor(&t.created_by).is_ok_and(|a| a.user.is_empty()))
            .collect();
        let category = category_name(signal.category).to_lowercase();
        if signal.healthy {
            for ticket in open {
                let name = customer.child("tickets", &ticket.id);
                let changes = vec![(
                    "status".to_owned(),
                    status_name(ticket.status),
                    status_name(TicketStatus::Resolved as i32),
                )];
                let mut row = ticket.clone().into_active_model();
                row.status = Set(TicketStatus::Resolved as i32);
                row.resolve_time = Set(Some(now));
                row.update_time = Set(now);
                row.revision = Set(ticket.revision + 1);
                row.update(&txn).await?;
                history(
                    &txn,
                    &ticket.id,
                    &Actor::default(),
                    "signal_cleared",
                    &changes,
                    now,
                )
                .await?;
                stats::adjust(&txn, 0, 0, -1, Some((store, now))).await?;
                recount_rooms(&txn, &room_ids(&txn, &ticket.id).await?).await?;
                Act::new(
                    customer,
                    AuditCategory::Ticket,
                    "signal_cleared",
                    name.clone(),
                )
                .success(&txn, &system, &ticket.title, Vec::new())
                .await?;
                affected.push(name);
            }
        } else if open.is_empty() && !current.suppressed {
            let severity = if signal.severity == 0 {
                TicketSeverity::Warning as i32
            } else {
                signal.severity
            };
            let title = format!("{} signal on {}", category, current.display_name);
            let category_value =
                TicketCategory::try_from(signal.category).unwrap_or(TicketCategory::Unspecified);
            let inserted = insert_ticket(
                store,
                &txn,
                &Actor::default(),
                NewTicket {
                    rooms: std::slice::from_ref(&current.id),
                    title: &title,
                    description: &signal.detail,
                    category: category_value,
                    severity,
                    high_impact: false,
                },
            )
            .await?;
            let name = customer.child("tickets", &inserted.id);
            Act::new(customer, AuditCategory::Ticket, "create", name.clone())
                .success(
                    &txn,
                    &system,
                    &inserted.title,
                    vec![("signal".into(), category)],
                )
                .await?;
            affected.push(name);
        }
    }
    Act::new(
        customer,
        AuditCategory::Room,
        "record_telemetry",
        customer.child("rooms", id),
    )
    .success(&txn, &system, &current.display_name, Vec::new())
    .await?;
    txn.commit().await?;
    Ok(affected)
}
