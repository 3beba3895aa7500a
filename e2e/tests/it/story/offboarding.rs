//! Fabrikam narrows the partner's scope, then removes the partner (R17, R18).

use mtm_e2e::world::PARTNER;
use mtm_proto::mtm::common::v1::RoomScope;
use mtm_proto::mtm::gateway::v1::ListMyCustomersRequest;
use mtm_proto::mtm::gateway::v1::workspace_service_client::WorkspaceServiceClient;
use mtm_proto::mtm::rbac::v1::ListRolesRequest;
use mtm_proto::mtm::rbac::v1::role_service_client::RoleServiceClient;
use mtm_proto::mtm::rooms::v1::ticket_service_client::TicketServiceClient;
use mtm_proto::mtm::rooms::v1::{GetTicketRequest, Ticket, TicketStatus, UpdateTicketRequest};
use mtm_proto::mtm::tenancy::v1::relationship_service_client::RelationshipServiceClient;
use mtm_proto::mtm::tenancy::v1::{
    ListManagedCustomersRequest, RemovePartnerRequest, UpdateRelationshipScopeRequest,
};
use prost_types::FieldMask;

use super::cast::{Cast, FABRIKAM, NORTHWIND};
use super::reads::{assert_out_of_reach, assert_refused, names, room, rooms_seen, tickets_seen};

/// The customer narrows the scope from the Berlin site to the Spree room; the primary admin's
/// very next list shows only Spree, and Tiergarten is out of reach.
pub async fn customer_narrows_the_scope(cast: &Cast) {
    let narrowed = RelationshipServiceClient::new(cast.channel.clone())
        .update_relationship_scope(cast.fabrikam_admin().call(UpdateRelationshipScopeRequest {
            name: cast.fabrikam_relationship().to_owned(),
            room_scope: Some(RoomScope {
                rooms: vec![cast.rooms.spree.clone()],
                ..Default::default()
            }),
            etag: String::new(),
        }))
        .await
        .expect("narrow the scope")
        .into_inner()
        .relationship
        .expect("relationship");
    assert_eq!(
        narrowed.room_scope.map(|s| s.rooms),
        Some(vec![cast.rooms.spree.clone()])
    );
    let seen = rooms_seen(&cast.primary_admin, &FABRIKAM.customer())
        .await
        .expect("primary admin lists rooms");
    assert_eq!(seen, names([&cast.rooms.spree]));
    assert_out_of_reach(
        room(&cast.primary_admin, &cast.rooms.tiergarten).await,
        "a room that just left the scope",
    );
}

/// The customer removes the partner; from then on the primary admin and the helpdesk user
/// are refused at Fabrikam, its roles are gone, its relationship shows as terminated by the
/// customer, and Fabrikam is no longer among the customers to switch to (R24).
pub async fn customer_removes_the_partner(cast: &Cast) {
    let mut relationships = RelationshipServiceClient::new(cast.channel.clone());
    let unconfirmed = relationships
        .remove_partner(cast.fabrikam_admin().call(RemovePartnerRequest {
            name: cast.fabrikam_relationship().to_owned(),
            confirm: false,
            etag: String::new(),
        }))
        .await
        .expect_err("removal needs confirmation (R16)");
    assert_eq!(unconfirmed.code(), tonic::Code::InvalidArgument);
    let removed = relationships
        .remove_partner(cast.fabrikam_admin().call(RemovePartnerRequest {
            name: cast.fabrikam_relationship().to_owned(),
            confirm: true,
            etag: String::new(),
        }))
        .await
        .expect("remove the partner")
        .into_inner()
        .relationship
        .expect("relationship");
    assert!(removed.terminate_time.is_some(), "{removed:?}");

    let customer = FABRIKAM.customer();
    assert_refused(
        rooms_seen(&cast.primary_admin, &customer).await,
        "the primary admin lists rooms",
    );
    assert_refused(
        room(&cast.primary_admin, &cast.rooms.spree).await,
        "the primary admin reads a room",
    );
    assert_refused(
        tickets_seen(&cast.helpdesk, &customer).await,
        "the helpdesk user lists tickets",
    );
    let mut tickets = TicketServiceClient::new(cast.channel.clone());
    assert_refused(
        tickets
            .get_ticket(cast.helpdesk.call(GetTicketRequest {
                name: cast.rooms.spree_ticket.clone(),
                ..Default::default()
            }))
            .await,
        "the helpdesk user reads a ticket",
    );
    assert_refused(
        tickets
            .update_ticket(cast.helpdesk.call(UpdateTicketRequest {
                ticket: Some(Ticket {
                    name: cast.rooms.spree_ticket.clone(),
                    status: TicketStatus::AssignedToProvider.into(),
                    ..Default::default()
                }),
                update_mask: Some(FieldMask {
                    paths: vec!["status".to_owned()],
                }),
            }))
            .await,
        "the helpdesk user updates a ticket",
    );
    assert_refused(
        RoleServiceClient::new(cast.channel.clone())
            .list_roles(cast.primary_admin.call(ListRolesRequest {
                parent: cast.fabrikam_relationship().to_owned(),
                ..Default::default()
            }))
            .await,
        "the primary admin lists the relationship's roles",
    );
    let managed = relationships
        .list_managed_customers(cast.primary_admin.call(ListManagedCustomersRequest {
            parent: PARTNER.partner(),
            ..Default::default()
        }))
        .await
        .expect("the partner lists its managed customers")
        .into_inner()
        .relationships;
    assert!(
        managed.iter().all(|r| r.customer != customer),
        "Fabrikam is still listed as managed: {managed:?}"
    );
    let switchable = WorkspaceServiceClient::new(cast.channel.clone())
        .list_my_customers(cast.primary_admin.call(ListMyCustomersRequest::default()))
        .await
        .expect("the primary admin lists the customers it can switch to")
        .into_inner()
        .customers;
    let switchable: Vec<&str> = switchable.iter().map(|c| c.customer.as_str()).collect();
    assert!(
        !switchable.contains(&customer.as_str())
            && switchable.contains(&NORTHWIND.customer().as_str()),
        "{switchable:?}"
    );
}
