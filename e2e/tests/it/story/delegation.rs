//! Inside Fabrikam's relationship: the primary admin sees only the rooms in scope and
//! delegates a *Helpdesk* role, whose holders work tickets and nothing else.

use std::collections::BTreeSet;

use mtm_e2e::world::{self, HELPDESK_PERMISSIONS, PARTNER};
use mtm_proto::mtm::rooms::v1::room_service_client::RoomServiceClient;
use mtm_proto::mtm::rooms::v1::ticket_service_client::TicketServiceClient;
use mtm_proto::mtm::rooms::v1::update_ring_service_client::UpdateRingServiceClient;
use mtm_proto::mtm::rooms::v1::{
    GetTicketRequest, ListUpdateRingsRequest, Room, Ticket, TicketStatus, UpdateRoomRequest,
    UpdateTicketRequest,
};
use prost_types::FieldMask;

use super::cast::{Cast, FABRIKAM};
use super::reads::{assert_out_of_reach, assert_refused, names, room, rooms_seen, tickets_seen};

/// The primary admin lists Fabrikam's rooms: the Berlin site's, not Paris's (R21).
pub async fn primary_admin_sees_only_the_scope(cast: &Cast) {
    let customer = FABRIKAM.customer();
    let seen = rooms_seen(&cast.primary_admin, &customer)
        .await
        .expect("primary admin lists rooms");
    assert_eq!(seen, names([&cast.rooms.spree, &cast.rooms.tiergarten]));
    assert_out_of_reach(
        room(&cast.primary_admin, &cast.rooms.seine).await,
        "the primary admin reads a room outside the scope",
    );
    // `update_rings.view` needs the permission in any assignment; the rings still count only
    // the rooms in the caller's scope (R34), not none and not the customer's all.
    let rings = UpdateRingServiceClient::new(cast.primary_admin.channel())
        .list_update_rings(cast.primary_admin.call(ListUpdateRingsRequest {
            parent: customer.clone(),
            ..Default::default()
        }))
        .await
        .expect("primary admin lists update rings")
        .into_inner()
        .update_rings;
    let counted: i32 = rings.iter().map(|ring| ring.room_count).sum();
    assert_eq!(counted, 2, "rings count the two rooms in scope: {rings:?}");
}

/// The primary admin creates *Helpdesk* with ticket permissions only and assigns it to the
/// partner's helpdesk group (R20).
pub async fn primary_admin_delegates_helpdesk(cast: &mut Cast) {
    let (role, assignment) = world::create_helpdesk_role(
        &cast.primary_admin,
        cast.fabrikam_relationship(),
        &[PARTNER.group("helpdesk")],
    )
    .await
    .expect("create and assign Helpdesk");
    assert_eq!(role.display_name, "Helpdesk");
    let granted: BTreeSet<&str> = role.permissions.iter().map(String::as_str).collect();
    assert_eq!(granted, BTreeSet::from(HELPDESK_PERMISSIONS));
    assert_eq!(role.relationship, cast.fabrikam_relationship());
    assert_eq!(assignment.role, role.name);
    assert_eq!(assignment.members, vec![PARTNER.group("helpdesk")]);
}

/// A helpdesk user sees the tickets in scope, moves one on, and cannot change a room.
pub async fn helpdesk_updates_tickets_only(cast: &Cast) {
    let customer = FABRIKAM.customer();
    let helpdesk = &cast.helpdesk;
    let tickets = tickets_seen(helpdesk, &customer)
        .await
        .expect("helpdesk lists tickets");
    assert_eq!(tickets, names([&cast.rooms.spree_ticket]));

    let mut client = TicketServiceClient::new(cast.channel.clone());
    let updated = client
        .update_ticket(helpdesk.call(UpdateTicketRequest {
            ticket: Some(Ticket {
                name: cast.rooms.spree_ticket.clone(),
                status: TicketStatus::PendingInvestigation.into(),
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["status".to_owned()],
            }),
        }))
        .await
        .expect("helpdesk updates a ticket")
        .into_inner()
        .ticket
        .expect("ticket");
    assert_eq!(updated.status(), TicketStatus::PendingInvestigation);
    assert_out_of_reach(
        client
            .get_ticket(helpdesk.call(GetTicketRequest {
                name: cast.rooms.seine_ticket.clone(),
                ..Default::default()
            }))
            .await,
        "helpdesk reads a ticket outside the scope",
    );

    let before = room(&cast.primary_admin, &cast.rooms.spree)
        .await
        .expect("room before");
    let refused = RoomServiceClient::new(cast.channel.clone())
        .update_room(helpdesk.call(UpdateRoomRequest {
            room: Some(Room {
                name: cast.rooms.spree.clone(),
                display_name: "Renamed by helpdesk".to_owned(),
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["display_name".to_owned()],
            }),
        }))
        .await;
    assert_refused(refused, "helpdesk renames a room");
    let after = room(&cast.primary_admin, &cast.rooms.spree)
        .await
        .expect("room after");
    assert_eq!(after.display_name, before.display_name);
    assert_eq!(after.etag, before.etag);
}
