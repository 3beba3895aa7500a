//! The *all tickets* view (R25) end to end: real identity-svc, tenancy-svc, rbac-svc,
//! rooms-svc and the gateway on 127.0.0.1:0 over mTLS. A partner serves three customers; the
//! view merges their tickets newest first, pages through them, respects each relationship's
//! room scope and names a customer whose store fails.

use std::collections::HashSet;

use mtm_proto::mtm::common::v1::RoomScope;
use mtm_proto::mtm::gateway::v1::aggregated_ticket_service_client::AggregatedTicketServiceClient;
use mtm_proto::mtm::gateway::v1::{ListAllTicketsRequest, ListAllTicketsResponse};
use mtm_proto::mtm::identity::v1::directory_service_client::DirectoryServiceClient;
use mtm_proto::mtm::rooms::v1::ticket_service_client::TicketServiceClient;
use mtm_proto::mtm::rooms::v1::{CreateIncidentRequest, TicketSeverity};
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::harness::Stack;
use crate::harness::calls::{all_rooms, all_tickets_view_on, bearer, req};
use crate::harness::direct::{Org, Person, World};

const PARTNER: &str = "northstar";
/// A customer the partner has nothing to do with.
const STRANGER: &str = "rowan";

/// A customer with two sites (`front`, `back`), one room each.
async fn customer_with_sites(world: &World, id: &str) -> Org {
    let customer = world.customer(id).await;
    for site in ["front", "back"] {
        let group = world.room_group(&customer, site, site).await;
        let room = format!("{site}-room");
        world
            .room_in(&customer, group, &room, &format!("{site} room"))
            .await;
    }
    customer
}

/// Opens an incident on `customer`'s room of `site`; returns the ticket name.
async fn incident(world: &World, customer: &Org, site: &str, title: &str) -> String {
    TicketServiceClient::new(world.stack.rooms.clone())
        .create_incident(req(
            CreateIncidentRequest {
                parent: customer.customer(),
                rooms: vec![format!("{}/rooms/{site}-room", customer.customer())],
                title: title.to_owned(),
                description: String::new(),
                severity: TicketSeverity::Warning.into(),
                high_impact: false,
                request_id: uuid::Uuid::new_v4().to_string(),
            },
            &customer.admin.context(),
        ))
        .await
        .expect("create incident")
        .into_inner()
        .ticket
        .expect("ticket")
        .name
}

/// Turns the *all tickets* view on for the signed-in user, through the gateway.
async fn enable_view(world: &World, who: &Person, token: &str) {
    DirectoryServiceClient::new(world.stack.public())
        .update_user_preferences(bearer(all_tickets_view_on(&who.principal.user), token))
        .await
        .expect("turn the all tickets view on");
}

/// One page of the *all tickets* view, through the gateway.
async fn list(
    world: &World,
    token: &str,
    page_size: i32,
    page_token: &str,
    filter: &str,
) -> Result<ListAllTicketsResponse, Status> {
    AggregatedTicketServiceClient::new(world.stack.public())
        .list_all_tickets(bearer(
            ListAllTicketsRequest {
                page_size,
                page_token: page_token.to_owned(),
                filter: filter.to_owned(),
            },
            token,
        ))
        .await
        .map(tonic::Response::into_inner)
}

/// What the tests share: the world, the partner admin (primary admin at every customer, at
/// `cedar` only for its `front` site), a helper who is primary admin at `alder` only, and the
/// tickets in creation order (oldest first) with the ones the partner admin may see.
struct Scenario {
    world: World,
    admin: (Person, String),
    helper: (Person, String),
    /// Every ticket, oldest first, with whether the partner admin's scope covers it.
    tickets: Vec<(String, bool)>,
}

async fn scenario() -> Scenario {
    // One open store at a time: every store is opened afresh when it is next used, so a
    // store broken on disk fails at once.
    let world = World::on(Stack::builder().max_open_stores(1).start().await);
    let partner = world.partner(PARTNER).await;
    // The customers the partner serves; cedar's store is broken in one test.
    let alder = customer_with_sites(&world, "alder").await;
    let birch = customer_with_sites(&world, "birch").await;
    let cedar = customer_with_sites(&world, "cedar").await;
    let stranger = customer_with_sites(&world, STRANGER).await;
    let partner_admin = partner.admin.clone();
    let helper = world.user(&partner, "helper").await;
    world
        .relate_people(
            &alder,
            &partner,
            &[&partner_admin, &helper],
            all_rooms(),
            None,
        )
        .await;
    world
        .relate_people(&birch, &partner, &[&partner_admin], all_rooms(), None)
        .await;
    let front_only = RoomScope {
        room_groups: vec!["customers/cedar/roomGroups/front".into()],
        ..Default::default()
    };
    world
        .relate_people(&cedar, &partner, &[&partner_admin], front_only, None)
        .await;

    let mut tickets = Vec::new();
    for round in 0..4 {
        for customer in [&alder, &birch, &cedar] {
            for site in ["front", "back"] {
                let name = incident(&world, customer, site, &format!("{site} issue {round}")).await;
                tickets.push((name, customer.id != "cedar" || site == "front"));
            }
        }
        incident(&world, &stranger, "front", "not the partner's").await;
    }
    let admin_token = world.sign_in(&partner_admin).await;
    let helper_token = world.sign_in(&helper).await;
    Scenario {
        world,
        admin: (partner_admin, admin_token),
        helper: (helper, helper_token),
        tickets,
    }
}

fn names(page: &ListAllTicketsResponse) -> Vec<String> {
    page.tickets
        .iter()
        .map(|t| t.ticket.as_ref().expect("ticket").name.clone())
        .collect()
}

/// The tickets the partner admin may see, newest first.
fn visible_newest_first(scenario: &Scenario) -> Vec<String> {
    scenario
        .tickets
        .iter()
        .rev()
        .filter(|(_, visible)| *visible)
        .map(|(name, _)| name.clone())
        .collect()
}

#[tokio::test]
async fn r25_view_merges_pages_and_respects_preference_and_scopes() {
    let scenario = scenario().await;
    let world = &scenario.world;
    let (admin, admin_token) = &scenario.admin;

    // R25: off by default.
    let refused = list(world, admin_token, 0, "", "")
        .await
        .expect_err("the view is off");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let info = refused.get_details_error_info().expect("error info");
    assert_eq!(info.reason, "ALL_TICKETS_VIEW_DISABLED");
    enable_view(world, admin, admin_token).await;

    // One page: the three customers merged newest first, cedar's back room left out (R21).
    let expected = visible_newest_first(&scenario);
    let all = list(world, admin_token, 200, "", "")
        .await
        .expect("all tickets");
    assert_eq!(names(&all), expected);
    assert_eq!(all.customer_count, 3);
    assert!(
        all.failed_customers.is_empty(),
        "{:?}",
        all.failed_customers
    );
    assert!(all.next_page_token.is_empty());
    let customers: HashSet<_> = all.tickets.iter().map(|t| t.customer.as_str()).collect();
    assert_eq!(
        customers,
        HashSet::from(["customers/alder", "customers/birch", "customers/cedar"])
    );
    assert!(
        all.tickets.iter().all(
            |t| t.customer_display_name == format!("{} Ltd", &t.customer["customers/".len()..])
        )
    );
    assert!(all.tickets.iter().all(|t| {
        t.ticket.as_ref().is_some_and(|ticket| {
            ticket
                .rooms
                .iter()
                .all(|r| !r.room.ends_with("back-room") || !t.customer.ends_with("cedar"))
        })
    }));

    // Paging: every ticket once, in order.
    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let page = list(world, admin_token, 4, &token, "")
            .await
            .expect("a page");
        assert!(page.tickets.len() <= 4);
        paged.extend(names(&page));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(paged, expected);

    // The customer filter, and tokens bound to their filter.
    let birch = list(world, admin_token, 3, "", r#"customer = "customers/birch""#)
        .await
        .expect("birch only");
    assert!(
        birch
            .tickets
            .iter()
            .all(|t| t.customer == "customers/birch")
    );
    assert_eq!(birch.customer_count, 1);
    let foreign = list(world, admin_token, 3, &birch.next_page_token, "")
        .await
        .expect_err("a token of another filter");
    assert_eq!(foreign.code(), Code::InvalidArgument);
    let mut tampered = birch.next_page_token.clone().into_bytes();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == b'x' { b'y' } else { b'x' };
    let tampered = list(
        world,
        admin_token,
        3,
        &String::from_utf8(tampered).expect("ascii"),
        r#"customer = "customers/birch""#,
    )
    .await
    .expect_err("a changed token");
    assert_eq!(tampered.code(), Code::InvalidArgument);
    let stranger = list(
        world,
        admin_token,
        3,
        "",
        &format!(r#"customer = "customers/{STRANGER}""#),
    )
    .await
    .expect("a customer the partner does not serve");
    assert!(stranger.tickets.is_empty());
    assert_eq!(stranger.customer_count, 0);

    scenario.world.stop().await;
}

#[tokio::test]
async fn r23_primary_admin_at_one_customer_sees_only_that_customers_tickets() {
    let scenario = scenario().await;
    let world = &scenario.world;
    let (helper, helper_token) = &scenario.helper;
    enable_view(world, helper, helper_token).await;
    let page = list(world, helper_token, 200, "", "")
        .await
        .expect("tickets");
    let expected: Vec<_> = scenario
        .tickets
        .iter()
        .rev()
        .filter(|(name, _)| name.starts_with("customers/alder/"))
        .map(|(name, _)| name.clone())
        .collect();
    assert_eq!(names(&page), expected);
    assert_eq!(page.customer_count, 1);
    scenario.world.stop().await;
}

#[tokio::test]
async fn r25_a_failing_store_is_named_and_the_others_answer() {
    let scenario = scenario().await;
    let world = &scenario.world;
    let (admin, admin_token) = &scenario.admin;
    enable_view(world, admin, admin_token).await;
    // The last store rooms-svc opened is the stranger's (its last incident), so cedar's store
    // is closed; corrupt its file so the next open fails.
    let cedar = world.stack.store_file("cedar");
    std::fs::write(&cedar, vec![0x5a_u8; 8192]).expect("overwrite the store file");

    let page = list(world, admin_token, 200, "", "")
        .await
        .expect("partial view");
    let expected: Vec<_> = visible_newest_first(&scenario)
        .into_iter()
        .filter(|name| !name.starts_with("customers/cedar/"))
        .collect();
    assert_eq!(names(&page), expected);
    assert_eq!(page.customer_count, 3);
    assert_eq!(
        page.failed_customers.len(),
        1,
        "{:?}",
        page.failed_customers
    );
    let failed = &page.failed_customers[0];
    assert_eq!(failed.customer, "customers/cedar");
    assert_eq!(failed.display_name, "cedar Ltd");
    assert_ne!(failed.code, Code::Ok as i32);
    assert!(!failed.message.is_empty());
    scenario.world.stop().await;
}
