//! `ListAccessibleCustomers` narrowed to one permission, as the aggregated views use it.

use mtm_plumbing::testing::TestPki;
use mtm_proto::mtm::common::v1::{Principal, RoomScope};
use mtm_proto::mtm::rbac::v1 as pb;
use tonic::Code;

use crate::on_both_backends;
use crate::support::*;

/// Every page of `principal`'s accessible customers holding `permission`, `page_size` at a
/// time: (customer, scope) in the order served.
async fn list_all(
    running: &mut Running,
    principal: &Principal,
    permission: &str,
    page_size: i32,
) -> Vec<(String, Option<RoomScope>)> {
    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = running
            .decisions
            .list_accessible_customers(pb::ListAccessibleCustomersRequest {
                principal: Some(principal.clone()),
                page_size,
                page_token,
                at_least_revision: 0,
                permission: permission.into(),
            })
            .await
            .expect("page")
            .into_inner();
        assert!(page.customers.len() <= usize::try_from(page_size).expect("size"));
        seen.extend(page.customers.into_iter().map(|c| (c.customer, c.scope)));
        if page.next_page_token.is_empty() {
            return seen;
        }
        page_token = page.next_page_token;
    }
}

async fn resolved_scope(
    running: &mut Running,
    principal: &Principal,
    customer: &str,
    permission: &str,
) -> pb::ResolveScopeResponse {
    running
        .decisions
        .resolve_scope(pb::ResolveScopeRequest {
            principal: Some(principal.clone()),
            customer: customer.into(),
            permission: permission.into(),
            at_least_revision: 0,
        })
        .await
        .expect("resolve scope")
        .into_inner()
}

async fn r21_r24_r25_accessible_customers_narrowed_to_a_permission_carry_its_scope(db: &Db) {
    let pki = TestPki::new();
    let mut running = Running::start(&pki, db).await;
    for (customer, relationship_scope) in [
        ("c3", all_rooms()),
        ("c1", scope("c1", &["g1"], &["r9"])),
        ("c2", all_rooms()),
    ] {
        provision(&mut running, customer, "root").await;
        relate(&mut running, customer, "p", relationship_scope, &["ana"]).await;
    }
    provision(&mut running, "a", "root").await;
    let root = principal("a", "root", &[]);
    let viewers = create_role(&running, &root, "customers/a", "viewers", &["rooms.view"])
        .await
        .expect("create role")
        .role
        .expect("role");
    assign(
        &running,
        &root,
        "customers/a",
        "eva-views",
        &viewers.name,
        &["tenants/a/users/eva"],
        scope("a", &["g1"], &[]),
    )
    .await
    .expect("assign");

    let ana = principal("p", "ana", &[]);
    let listed = list_all(&mut running, &ana, "tickets.view", 2).await;
    let names: Vec<&str> = listed.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        ["customers/c1", "customers/c2", "customers/c3"],
        "R24: in customer order, across pages"
    );
    for (customer, scope) in &listed {
        let resolved = resolved_scope(&mut running, &ana, customer, "tickets.view").await;
        assert!(resolved.allowed);
        assert_eq!(
            scope, &resolved.scope,
            "R21: the scope is the one ResolveScope answers for {customer}"
        );
    }
    assert_eq!(
        listed[0].1,
        Some(scope("c1", &["g1"], &["r9"])),
        "R21: never beyond the relationship's scope"
    );

    let eva = principal("a", "eva", &[]);
    assert!(
        list_all(&mut running, &eva, "tickets.view", 10)
            .await
            .is_empty(),
        "R25: a customer where the permission is not held is left out"
    );
    assert_eq!(
        list_all(&mut running, &eva, "rooms.view", 10).await,
        [("customers/a".to_owned(), Some(scope("a", &["g1"], &[])))]
    );
    assert_eq!(
        list_all(&mut running, &eva, "", 10).await,
        [("customers/a".to_owned(), None)],
        "without a permission every customer with a role is listed, without a scope"
    );

    let status = running
        .decisions
        .list_accessible_customers(pb::ListAccessibleCustomersRequest {
            principal: Some(ana.clone()),
            permission: "tickets.nothing".into(),
            ..Default::default()
        })
        .await
        .expect_err("unknown permission");
    assert_eq!(status.code(), Code::InvalidArgument);
    running.stop().await;
}
on_both_backends!(
    r21_r24_r25_accessible_customers_narrowed_to_a_permission_carry_its_scope,
    r21_r24_r25_accessible_customers_narrowed_to_a_permission_carry_its_scope_sqlite,
    r21_r24_r25_accessible_customers_narrowed_to_a_permission_carry_its_scope_postgres
);
