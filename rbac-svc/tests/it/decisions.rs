//! `DecisionService` and `PermissionService` through the real server.

use mtm_plumbing::testing::TestPki;
use mtm_proto::mtm::rbac::v1 as pb;
use mtm_proto::mtm::rbac::v1::permission_service_client::PermissionServiceClient;
use tonic::Code;

use crate::on_both_backends;
use crate::support::*;

async fn r34_r35_r37_decisions_over_the_api(db: &Db) {
    let pki = TestPki::new();
    let mut running = Running::start(&pki, db).await;
    provision(&mut running, "a", "root").await;
    let revision = relate(
        &mut running,
        "a",
        "p",
        scope("a", &["g1"], &["r9"]),
        &["ana"],
    )
    .await;
    let ana = principal("p", "ana", &[]);

    let ticket = pb::DecisionTarget {
        target: Some(pb::decision_target::Target::Ticket(pb::TicketTarget {
            ticket: "customers/a/tickets/t1".into(),
            rooms: vec![
                pb::RoomTarget {
                    room: "customers/a/rooms/r1".into(),
                    room_group: "customers/a/roomGroups/g2".into(),
                },
                pb::RoomTarget {
                    room: "customers/a/rooms/r2".into(),
                    room_group: "customers/a/roomGroups/g1".into(),
                },
            ],
        })),
    };
    let d = check(&mut running, &ana, "a", "tickets.view", Some(ticket)).await;
    assert!(d.allowed);
    assert_eq!(
        d.visible_rooms,
        ["customers/a/rooms/r2"],
        "R34: only rooms in scope are shown"
    );

    let d = check(
        &mut running,
        &ana,
        "a",
        "rooms.unenroll",
        Some(room("a", "r1", "g1")),
    )
    .await;
    assert!(
        !d.allowed && d.target_visible,
        "R37: visible, so PERMISSION_DENIED"
    );
    let d = check(
        &mut running,
        &ana,
        "a",
        "rooms.view",
        Some(room("a", "r1", "g2")),
    )
    .await;
    assert!(
        !d.allowed && !d.target_visible,
        "R37: out of scope answers NOT_FOUND"
    );
    let d = check(&mut running, &ana, "a", "update_rings.modify", None).await;
    assert_eq!(d.deny_reason, pb::DenyReason::NotCustomerWide as i32, "R35");
    let d = check(&mut running, &ana, "a", "no.such", None).await;
    assert_eq!(d.deny_reason, pb::DenyReason::Invalid as i32);

    let batch = running
        .decisions
        .batch_check(pb::BatchCheckRequest {
            principal: Some(ana.clone()),
            items: vec![
                pb::BatchCheckItem {
                    customer: "customers/a".into(),
                    permission: "rooms.view".into(),
                    target: Some(room("a", "r9", "g5")),
                    kind: 0,
                },
                pb::BatchCheckItem {
                    customer: "customers/a".into(),
                    permission: "roles.modify".into(),
                    target: None,
                    kind: pb::DecisionKind::AnyAssignment as i32,
                },
                pb::BatchCheckItem {
                    customer: "customers/a".into(),
                    permission: "roles.modify".into(),
                    target: None,
                    kind: 0,
                },
            ],
            at_least_revision: revision,
        })
        .await
        .expect("batch")
        .into_inner();
    let allowed: Vec<bool> = batch.decisions.iter().map(|d| d.allowed).collect();
    assert_eq!(allowed, [true, true, false]);
    assert!(batch.revision >= revision);

    let resolved = running
        .decisions
        .resolve_scope(pb::ResolveScopeRequest {
            principal: Some(ana.clone()),
            customer: "customers/a".into(),
            permission: "tickets.view".into(),
            at_least_revision: 0,
        })
        .await
        .expect("resolve")
        .into_inner();
    assert!(resolved.allowed);
    assert_eq!(
        resolved.scope,
        Some(scope("a", &["g1"], &["r9"])),
        "R21: clipped to the relationship"
    );
    running.stop().await;
}
on_both_backends!(
    r34_r35_r37_decisions_over_the_api,
    r34_r35_r37_decisions_over_the_api_sqlite,
    r34_r35_r37_decisions_over_the_api_postgres
);

async fn a_revision_not_reached_is_unavailable_and_bad_requests_are_invalid(db: &Db) {
    let pki = TestPki::new();
    let mut running = Running::start(&pki, db).await;
    let revision = provision(&mut running, "a", "root").await;
    let root = principal("a", "root", &[]);
    let request = |at_least_revision| pb::CheckRequest {
        principal: Some(root.clone()),
        customer: "customers/a".into(),
        permission: "settings.view".into(),
        target: None,
        at_least_revision,
        kind: 0,
    };
    let ok = running
        .decisions
        .check(request(revision))
        .await
        .expect("check")
        .into_inner();
    assert!(ok.decision.expect("decision").allowed);
    assert_eq!(ok.revision, revision);
    let status = running
        .decisions
        .check(request(revision + 1000))
        .await
        .expect_err("ahead");
    assert_eq!(status.code(), Code::Unavailable);
    let status = running
        .decisions
        .check(pb::CheckRequest {
            principal: None,
            ..request(0)
        })
        .await
        .expect_err("no principal");
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = running
        .decisions
        .batch_check(pb::BatchCheckRequest {
            principal: Some(root.clone()),
            items: vec![pb::BatchCheckItem::default(); 10_001],
            at_least_revision: 0,
        })
        .await
        .expect_err("too many");
    assert_eq!(status.code(), Code::InvalidArgument);
    running.stop().await;
}
on_both_backends!(
    a_revision_not_reached_is_unavailable_and_bad_requests_are_invalid,
    a_revision_not_reached_is_unavailable_and_bad_requests_are_invalid_sqlite,
    a_revision_not_reached_is_unavailable_and_bad_requests_are_invalid_postgres
);

#[tokio::test]
async fn table1_the_catalogue_is_served() {
    let pki = TestPki::new();
    let db = Db::sqlite();
    let running = Running::start(&pki, &db).await;
    let list = PermissionServiceClient::new(running.channel.clone())
        .list_permissions(pb::ListPermissionsRequest {})
        .await
        .expect("list")
        .into_inner()
        .permissions;
    assert_eq!(list.len(), 20);
    let rings = list
        .iter()
        .find(|p| p.permission == "update_rings.create")
        .expect("ring create");
    assert_eq!(rings.built_in_roles, ["mmr-admin"]);
    assert!(!rings.partner_assignable);
    running.stop().await;
}

async fn r24_accessible_customers_are_paged_in_customer_order(db: &Db) {
    let pki = TestPki::new();
    let mut running = Running::start(&pki, db).await;
    for customer in ["c3", "c1", "c2"] {
        provision(&mut running, customer, "root").await;
        relate(&mut running, customer, "p", all_rooms(), &["ana"]).await;
    }
    let ana = principal("p", "ana", &[]);
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = running
            .decisions
            .list_accessible_customers(pb::ListAccessibleCustomersRequest {
                principal: Some(ana.clone()),
                page_size: 2,
                page_token: token,
                at_least_revision: 0,
                permission: String::new(),
            })
            .await
            .expect("page")
            .into_inner();
        assert!(page.customers.len() <= 2);
        seen.extend(page.customers.into_iter().map(|c| c.customer));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, ["customers/c1", "customers/c2", "customers/c3"]);
    let status = running
        .decisions
        .list_accessible_customers(pb::ListAccessibleCustomersRequest {
            principal: Some(ana.clone()),
            page_size: -1,
            ..Default::default()
        })
        .await
        .expect_err("negative page size");
    assert_eq!(status.code(), Code::InvalidArgument);
    running.stop().await;
}
on_both_backends!(
    r24_accessible_customers_are_paged_in_customer_order,
    r24_accessible_customers_are_paged_in_customer_order_sqlite,
    r24_accessible_customers_are_paged_in_customer_order_postgres
);

async fn r21_r37_a_target_of_another_customer_is_never_allowed(db: &Db) {
    let pki = TestPki::new();
    let mut running = Running::start(&pki, db).await;
    provision(&mut running, "a", "root").await;
    provision(&mut running, "b", "root").await;
    relate(&mut running, "a", "p", all_rooms(), &["ana"]).await;
    let root = principal("a", "root", &[]);
    let ana = principal("p", "ana", &[]);
    let group = |customer: &str| pb::DecisionTarget {
        target: Some(pb::decision_target::Target::RoomGroup(format!(
            "customers/{customer}/roomGroups/g1"
        ))),
    };
    let ticket = |customer: &str| pb::DecisionTarget {
        target: Some(pb::decision_target::Target::Ticket(pb::TicketTarget {
            ticket: format!("customers/{customer}/tickets/t1"),
            rooms: vec![pb::RoomTarget {
                room: format!("customers/{customer}/rooms/r0"),
                room_group: format!("customers/{customer}/roomGroups/g1"),
            }],
        })),
    };
    let mixed = pb::DecisionTarget {
        target: Some(pb::decision_target::Target::Room(pb::RoomTarget {
            room: "customers/a/rooms/r0".into(),
            room_group: "customers/b/roomGroups/g1".into(),
        })),
    };
    for caller in [&root, &ana] {
        // Each caller covers all rooms of customer a: its own targets are allowed...
        for (permission, target) in [
            ("rooms.view", room("a", "r0", "g1")),
            ("groups.view", group("a")),
            ("tickets.view", ticket("a")),
        ] {
            let d = check(&mut running, caller, "a", permission, Some(target)).await;
            assert!(d.allowed, "{permission} on a's own target");
        }
        // ...and those of customer b, or half of b, never, and are not even visible.
        for (permission, target) in [
            ("rooms.view", room("b", "r0", "g1")),
            ("rooms.modify", room("b", "r0", "g1")),
            ("groups.view", group("b")),
            ("tickets.view", ticket("b")),
            ("rooms.view", mixed.clone()),
        ] {
            let d = check(&mut running, caller, "a", permission, Some(target.clone())).await;
            assert!(!d.allowed && !d.target_visible, "{permission} {target:?}");
            assert!(d.granting_assignment.is_empty() && d.visible_rooms.is_empty());
            let batch = running
                .decisions
                .batch_check(pb::BatchCheckRequest {
                    principal: Some(caller.clone()),
                    items: vec![pb::BatchCheckItem {
                        customer: "customers/a".into(),
                        permission: permission.into(),
                        target: Some(target),
                        kind: 0,
                    }],
                    at_least_revision: 0,
                })
                .await
                .expect("batch")
                .into_inner();
            assert_eq!(batch.decisions, [d]);
        }
    }
    running.stop().await;
}
on_both_backends!(
    r21_r37_a_target_of_another_customer_is_never_allowed,
    r21_r37_a_target_of_another_customer_is_never_allowed_sqlite,
    r21_r37_a_target_of_another_customer_is_never_allowed_postgres
);

async fn r20_r34_a_partner_role_narrowed_to_one_room_of_an_in_scope_group_allows_that_room(
    db: &Db,
) {
    let pki = TestPki::new();
    let mut running = Running::start(&pki, db).await;
    provision(&mut running, "a", "root").await;
    relate(&mut running, "a", "p", scope("a", &["g1"], &[]), &["ana"]).await;
    let rel = "customers/a/partnerRelationships/p";
    let ana = principal("p", "ana", &[]);
    let hal = principal("p", "hal", &[]);
    create_role(&running, &ana, rel, "desk", &["rooms.view", "tickets.view"])
        .await
        .expect("role");
    let bound_in = |room: &str| mtm_proto::mtm::common::v1::GroupBoundRoom {
        room: format!("customers/a/rooms/{room}"),
        room_groups: vec!["customers/a/roomGroups/g1".into()],
    };
    let mut forged = scope("a", &[], &["r1"]);
    forged.rooms_in_groups.push(bound_in("r2"));
    let refused = assign(
        &running,
        &ana,
        rel,
        "forged",
        &format!("{rel}/roles/desk"),
        &["tenants/p/users/hal"],
        forged,
    )
    .await
    .expect_err("rooms_in_groups is output only");
    assert_eq!(refused.code(), Code::InvalidArgument);
    let created = assign(
        &running,
        &ana,
        rel,
        "one-room",
        &format!("{rel}/roles/desk"),
        &["tenants/p/users/hal"],
        scope("a", &[], &["r1"]),
    )
    .await
    .expect("a room of the relationship's site");
    let revision = created.revision;
    let effective = created
        .role_assignment
        .expect("assignment")
        .effective_scope
        .expect("effective scope");
    let expected = mtm_proto::mtm::common::v1::RoomScope {
        rooms_in_groups: vec![bound_in("r1")],
        ..Default::default()
    };
    assert_eq!(effective, expected);
    for permission in ["rooms.view", "tickets.view"] {
        let resolved = running
            .decisions
            .resolve_scope(pb::ResolveScopeRequest {
                principal: Some(hal.clone()),
                customer: "customers/a".into(),
                permission: permission.into(),
                at_least_revision: revision,
            })
            .await
            .expect("resolve")
            .into_inner();
        assert!(resolved.allowed);
        assert_eq!(resolved.scope.as_ref(), Some(&expected));
        for (r, g) in [("r1", "g1"), ("r1", "g2"), ("r2", "g1")] {
            let d = check(&mut running, &hal, "a", permission, Some(room("a", r, g))).await;
            assert_eq!(
                d.allowed,
                covers(&expected, r, g),
                "{permission} {r} in {g}"
            );
            assert_eq!(d.allowed, (r, g) == ("r1", "g1"), "{permission} {r} in {g}");
        }
    }
    running.stop().await;
}
on_both_backends!(
    r20_r34_a_partner_role_narrowed_to_one_room_of_an_in_scope_group_allows_that_room,
    r20_r34_a_partner_role_narrowed_to_one_room_of_an_in_scope_group_allows_that_room_sqlite,
    r20_r34_a_partner_role_narrowed_to_one_room_of_an_in_scope_group_allows_that_room_postgres
);
