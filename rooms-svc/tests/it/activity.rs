//! Ticket activity (R25): a bound on every store's newest ticket time, read for many
//! customers at once without opening their stores, never older than a ticket that can be
//! read, and unknown for stores it cannot vouch for.

use mtm_proto::mtm::rooms::v1::*;

use crate::harness::{Backend, Suite, admin, call};
use crate::on_both_backends;

on_both_backends!(
    r25_ticket_activity_bounds_each_stores_newest_ticket,
    r25_ticket_activity_bounds_each_stores_newest_ticket_postgres,
    activity_bounds
);

fn micros(time: Option<&prost_types::Timestamp>) -> i64 {
    time.map_or(0, |t| t.seconds * 1_000_000 + i64::from(t.nanos / 1000))
}

async fn activity(suite: &Suite, customers: &[&str]) -> Vec<TicketActivity> {
    suite
        .internal()
        .batch_get_ticket_activity(BatchGetTicketActivityRequest {
            customers: customers.iter().map(|c| format!("customers/{c}")).collect(),
        })
        .await
        .expect("activity")
        .into_inner()
        .activities
}

async fn newest(suite: &Suite, customer: &str) -> i64 {
    let info = suite
        .internal()
        .get_store_info(GetStoreInfoRequest {
            customer: format!("customers/{customer}"),
        })
        .await
        .expect("info")
        .into_inner()
        .store
        .expect("store");
    micros(info.newest_ticket_update_time.as_ref())
}

/// The bound of `customer` in `activities`: `None` when unknown, `Some(0)` when empty.
fn bound_of(activities: &[TicketActivity], customer: &str) -> Option<i64> {
    let name = format!("customers/{customer}");
    activities
        .iter()
        .find(|a| a.customer == name)
        .map(|a| micros(a.newest_ticket_update_time_bound.as_ref()))
}

async fn activity_bounds(backend: Backend) {
    let suite = Suite::start(backend).await;
    suite.provision("contoso").await;
    suite.provision("fabrikam").await;
    suite.group("contoso", "hq").await;
    suite.room("contoso", "hq", "r1").await;
    let ticket = suite
        .tickets()
        .create_incident(call(
            CreateIncidentRequest {
                parent: "customers/contoso".into(),
                rooms: vec!["customers/contoso/rooms/r1".into()],
                title: "Display flickers".into(),
                severity: TicketSeverity::Warning as i32,
                ..Default::default()
            },
            &admin("contoso"),
        ))
        .await
        .expect("incident")
        .into_inner()
        .ticket
        .expect("ticket");

    let all = ["contoso", "fabrikam", "northwind"];
    let found = activity(&suite, &all).await;
    assert_eq!(
        found
            .iter()
            .map(|a| a.customer.as_str())
            .collect::<Vec<_>>(),
        ["customers/contoso", "customers/fabrikam"],
        "known customers in request order; northwind has no store"
    );
    let created = newest(&suite, "contoso").await;
    let bound = bound_of(&found, "contoso").expect("contoso is known");
    assert!(
        bound >= created && bound <= created + 1_000_000,
        "the bound ({bound}) is at most a second past the newest ticket ({created})"
    );
    assert_eq!(bound_of(&found, "fabrikam"), Some(0), "no tickets");

    // A change read right after it returns is never newer than the bound.
    let message = suite
        .tickets()
        .add_ticket_message(call(
            AddTicketMessageRequest {
                ticket: ticket.name.clone(),
                text: "Still flickering".into(),
                ..Default::default()
            },
            &admin("contoso"),
        ))
        .await;
    message.expect("message");
    let changed = newest(&suite, "contoso").await;
    assert!(changed >= created);
    let bound = bound_of(&activity(&suite, &all).await, "contoso").expect("known");
    assert!(
        bound >= changed,
        "bound {bound} below the newest ticket {changed}"
    );

    // A deleted store is unknown for good, even once provisioned again.
    suite
        .store_admin()
        .deprovision_store(DeprovisionStoreRequest {
            customer: "customers/contoso".into(),
            confirm: true,
        })
        .await
        .expect("deprovision");
    suite.provision("contoso").await;
    assert_eq!(bound_of(&activity(&suite, &all).await, "contoso"), None);

    let status = suite
        .internal()
        .batch_get_ticket_activity(BatchGetTicketActivityRequest {
            customers: vec!["customers/fabrikam".into(), "tenants/x".into()],
        })
        .await
        .expect_err("not a customer name");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    suite.finish(&["contoso", "fabrikam"]).await;
}
