//! The aggregated tickets view across the partner's three customers, one of whose stores is
//! down: the other two answer, the third is named (R25).

use std::collections::BTreeSet;

use mtm_e2e::Suite;
use mtm_e2e::world::{self, Offer, PARTNER};
use mtm_proto::mtm::common::v1::RoomScope;
use mtm_proto::mtm::gateway::v1::ListAllTicketsRequest;
use mtm_proto::mtm::gateway::v1::aggregated_ticket_service_client::AggregatedTicketServiceClient;
use tonic::Code;

use super::cast::{ADATUM, Cast, FABRIKAM, FLEET_ADMINS, NORTHWIND};
use super::reads::names;

/// Northwind and Adatum invite the partner for all their rooms and a tenant manager accepts
/// both; with the view turned on, the primary admin lists every ticket while Adatum's store
/// is unavailable.
pub async fn all_tickets_survive_an_unavailable_customer(cast: &mut Cast, suite: &mut Suite) {
    for (index, spec) in [(1, NORTHWIND), (2, ADATUM)] {
        let offer = Offer {
            partner_domain: PARTNER.domain.to_owned(),
            invited_upns: vec![PARTNER.upn("admin")],
            room_scope: RoomScope {
                all_rooms: true,
                ..Default::default()
            },
            lifetime_days: 7,
            manual_approval: Vec::new(),
        };
        let invitations =
            world::invite_partner(&cast.customer_admins[index], &spec.customer(), &offer)
                .await
                .expect("invite the partner");
        let relationship = world::accept_invitation(
            &cast.tenant_manager,
            &invitations[0].name,
            &[PARTNER.group(FLEET_ADMINS)],
        )
        .await
        .expect("accept");
        cast.relationships.push(relationship.name);
    }

    let mut view = AggregatedTicketServiceClient::new(cast.channel.clone());
    let disabled = view
        .list_all_tickets(cast.primary_admin.call(ListAllTicketsRequest::default()))
        .await
        .expect_err("the view is off until the user turns it on");
    assert_eq!(disabled.code(), Code::FailedPrecondition, "{disabled:?}");
    world::enable_all_tickets_view(&cast.primary_admin)
        .await
        .expect("turn on the all-tickets view");

    suite
        .make_customer_store_unavailable(ADATUM.id)
        .await
        .expect("Adatum's store goes down");
    let page = view
        .list_all_tickets(cast.primary_admin.call(ListAllTicketsRequest {
            page_size: 50,
            ..Default::default()
        }))
        .await
        .expect("the view answers despite Adatum")
        .into_inner();
    let customers: BTreeSet<String> = page.tickets.iter().map(|t| t.customer.clone()).collect();
    assert_eq!(
        customers,
        names([&FABRIKAM.customer(), &NORTHWIND.customer()])
    );
    let tickets: BTreeSet<String> = page
        .tickets
        .iter()
        .filter_map(|t| t.ticket.as_ref().map(|t| t.name.clone()))
        .collect();
    assert!(tickets.contains(&cast.rooms.spree_ticket), "{tickets:?}");
    assert!(
        !tickets.contains(&cast.rooms.seine_ticket),
        "a ticket outside Fabrikam's scope leaked: {tickets:?}"
    );
    assert_eq!(
        tickets.len(),
        2,
        "Fabrikam's Spree ticket and Northwind's: {tickets:?}"
    );
    assert_eq!(
        page.failed_customers.len(),
        1,
        "{:?}",
        page.failed_customers
    );
    let failed = &page.failed_customers[0];
    assert_eq!(failed.customer, ADATUM.customer());
    assert_eq!(failed.display_name, ADATUM.display_name);
    assert_ne!(failed.code, Code::Ok as i32);
    assert_eq!(page.customer_count, 3);
}
