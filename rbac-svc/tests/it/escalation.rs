//! R36 through the real server: role-management writes stay inside the caller's own rights
//! and `roles.modify` scope over every assignment they affect; and R21/R34: `Check`,
//! `ResolveScope` and `effective_scope` agree on a partner assignment intersected with its
//! relationship (R20: a room named on one side and its group on the other is in).

use mtm_plumbing::testing::TestPki;
use mtm_proto::mtm::common::v1::{GroupBoundRoom, Principal};
use mtm_proto::mtm::rbac::v1 as pb;
use tonic::Code;

use crate::on_both_backends;
use crate::support::*;

const A: &str = "customers/a";

/// Customer `a` with an all-rooms "Viewers" assignment for group `everyone`, and `mia`, who
/// holds `roles.modify` (and `settings.modify`) over room group g1 only.
async fn viewers_and_a_group_manager(running: &mut Running) -> Principal {
    provision(running, "a", "root").await;
    let root = principal("a", "root", &[]);
    create_role(running, &root, A, "viewers", &["rooms.view"])
        .await
        .expect("viewers");
    assign(
        running,
        &root,
        A,
        "everyone-views",
        "customers/a/roles/viewers",
        &["tenants/a/groups/everyone"],
        all_rooms(),
    )
    .await
    .expect("all rooms");
    create_role(
        running,
        &root,
        A,
        "site-manager",
        &[
            "roles.modify",
            "roles.view",
            "rooms.view",
            "settings.modify",
        ],
    )
    .await
    .expect("site manager");
    assign(
        running,
        &root,
        A,
        "managers",
        "customers/a/roles/site-manager",
        &["tenants/a/users/mia"],
        scope("a", &["g1"], &[]),
    )
    .await
    .expect("over g1");
    principal("a", "mia", &[])
}

async fn update_permissions(
    running: &Running,
    caller: &Principal,
    role: &str,
    permissions: &[&str],
) -> Result<pb::UpdateRoleResponse, tonic::Status> {
    roles(running)
        .update_role(as_caller(
            caller,
            pb::UpdateRoleRequest {
                role: Some(pb::Role {
                    name: role.into(),
                    permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
                    ..pb::Role::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["permissions".into()],
                }),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn r36_update_role_cannot_widen_assignments_outside_the_callers_scope(db: &Db) {
    let pki = TestPki::new();
    let mut running = Running::start(&pki, db).await;
    let mia = viewers_and_a_group_manager(&mut running).await;
    let root = principal("a", "root", &[]);
    let viewer = principal("a", "vic", &["everyone"]);

    // Mia holds settings.modify (over g1) and roles.modify (over g1): the all-rooms Viewers
    // assignment lies outside her scope, so she can neither widen nor narrow the role.
    let status = update_permissions(
        &running,
        &mia,
        "customers/a/roles/viewers",
        &["rooms.view", "settings.modify"],
    )
    .await
    .expect_err("widening an all-rooms role");
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = update_permissions(&running, &mia, "customers/a/roles/viewers", &["roles.view"])
        .await
        .expect_err("changing an all-rooms role");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(
        !check(&mut running, &viewer, "a", "settings.modify", None)
            .await
            .allowed,
        "no customer-wide settings.modify"
    );
    assert!(
        check(
            &mut running,
            &viewer,
            "a",
            "rooms.view",
            Some(room("a", "r2", "g2"))
        )
        .await
        .allowed,
        "Viewers unchanged"
    );

    // A role assigned only inside g1 she may change, with permissions she holds there.
    create_role(&running, &root, A, "local", &["rooms.view"])
        .await
        .expect("local");
    assign(
        &running,
        &root,
        A,
        "local-views",
        "customers/a/roles/local",
        &["tenants/a/users/lou"],
        scope("a", &["g1"], &[]),
    )
    .await
    .expect("over g1");
    update_permissions(
        &running,
        &mia,
        "customers/a/roles/local",
        &["rooms.view", "settings.modify"],
    )
    .await
    .expect("inside her scope, with permissions she holds there");
    let status = update_permissions(
        &running,
        &mia,
        "customers/a/roles/local",
        &["rooms.view", "rooms.reset_key"],
    )
    .await
    .expect_err("a permission she does not hold");
    assert_eq!(status.code(), Code::PermissionDenied);

    // Root, over all rooms, may widen Viewers.
    update_permissions(
        &running,
        &root,
        "customers/a/roles/viewers",
        &["rooms.view", "tickets.view"],
    )
    .await
    .expect("an MMR admin over all rooms");
    running.stop().await;
}
on_both_backends!(
    r36_update_role_cannot_widen_assignments_outside_the_callers_scope,
    r36_update_role_cannot_widen_assignments_outside_the_callers_scope_sqlite,
    r36_update_role_cannot_widen_assignments_outside_the_callers_scope_postgres
);

async fn delete_role(
    running: &Running,
    caller: &Principal,
    name: &str,
) -> Result<pb::DeleteRoleResponse, tonic::Status> {
    roles(running)
        .delete_role(as_caller(
            caller,
            pb::DeleteRoleRequest {
                name: name.into(),
                etag: String::new(),
                force: true,
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn r36_force_delete_cannot_remove_assignments_outside_the_callers_scope(db: &Db) {
    let pki = TestPki::new();
    let mut running = Running::start(&pki, db).await;
    let mia = viewers_and_a_group_manager(&mut running).await;
    let root = principal("a", "root", &[]);
    let viewer = principal("a", "vic", &["everyone"]);

    let status = delete_role(&running, &mia, "customers/a/roles/viewers")
        .await
        .expect_err("assignments beyond her scope");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(
        check(
            &mut running,
            &viewer,
            "a",
            "rooms.view",
            Some(room("a", "r2", "g2"))
        )
        .await
        .allowed,
        "the all-rooms assignment stays"
    );
    roles(&running)
        .get_role(as_caller(
            &root,
            pb::GetRoleRequest {
                name: "customers/a/roles/viewers".into(),
            },
        ))
        .await
        .expect("the role stays");

    create_role(&running, &root, A, "local", &["rooms.view"])
        .await
        .expect("local");
    assign(
        &running,
        &root,
        A,
        "local-views",
        "customers/a/roles/local",
        &["tenants/a/users/lou"],
        scope("a", &["g1"], &["r1"]),
    )
    .await
    .expect("inside g1 and one room");
    let status = delete_role(&running, &mia, "customers/a/roles/local")
        .await
        .expect_err("room r1 is not named by her scope");
    assert_eq!(status.code(), Code::PermissionDenied);
    roles(&running)
        .delete_role_assignment(as_caller(
            &root,
            pb::DeleteRoleAssignmentRequest {
                name: "customers/a/roleAssignments/local-views".into(),
                etag: String::new(),
            },
        ))
        .await
        .expect("root removes it");
    assign(
        &running,
        &root,
        A,
        "local-views",
        "customers/a/roles/local",
        &["tenants/a/users/lou"],
        scope("a", &["g1"], &[]),
    )
    .await
    .expect("inside g1");
    delete_role(&running, &mia, "customers/a/roles/local")
        .await
        .expect("every assignment inside her scope");
    running.stop().await;
}
on_both_backends!(
    r36_force_delete_cannot_remove_assignments_outside_the_callers_scope,
    r36_force_delete_cannot_remove_assignments_outside_the_callers_scope_sqlite,
    r36_force_delete_cannot_remove_assignments_outside_the_callers_scope_postgres
);

async fn r21_r34_check_resolve_scope_and_effective_scope_agree_after_narrowing(db: &Db) {
    let pki = TestPki::new();
    let mut running = Running::start(&pki, db).await;
    provision(&mut running, "a", "root").await;
    relate(&mut running, "a", "p", all_rooms(), &["ana"]).await;
    let rel = "customers/a/partnerRelationships/p";
    let ana = principal("p", "ana", &[]);
    let hal = principal("p", "hal", &[]);
    create_role(&running, &ana, rel, "helpdesk", &["tickets.view"])
        .await
        .expect("helpdesk");
    assign(
        &running,
        &ana,
        rel,
        "desk",
        &format!("{rel}/roles/helpdesk"),
        &["tenants/p/users/hal"],
        scope("a", &["g2"], &["r1"]),
    )
    .await
    .expect("one room and one group");
    // The customer narrows the relationship to group g1, which holds r1 now.
    let revision = relate(&mut running, "a", "p", scope("a", &["g1"], &[]), &["ana"]).await;

    let resolved = running
        .decisions
        .resolve_scope(pb::ResolveScopeRequest {
            principal: Some(hal.clone()),
            customer: A.into(),
            permission: "tickets.view".into(),
            at_least_revision: revision,
        })
        .await
        .expect("resolve")
        .into_inner();
    let effective = roles(&running)
        .get_role_assignment(as_caller(
            &principal("a", "root", &[]),
            pb::GetRoleAssignmentRequest {
                name: format!("{rel}/roleAssignments/desk"),
            },
        ))
        .await
        .expect("get")
        .into_inner()
        .role_assignment
        .expect("assignment")
        .effective_scope
        .expect("effective scope");
    assert_eq!(resolved.scope.as_ref(), Some(&effective));
    assert!(effective.room_groups.is_empty() && effective.rooms.is_empty());
    assert_eq!(
        effective.rooms_in_groups,
        vec![GroupBoundRoom {
            room: "customers/a/rooms/r1".into(),
            room_groups: vec!["customers/a/roomGroups/g1".into()],
        }]
    );
    for (r, g) in [("r1", "g1"), ("r1", "g2"), ("r2", "g2"), ("r3", "g1")] {
        let target = room("a", r, g);
        let allowed = check(&mut running, &hal, "a", "tickets.view", Some(target))
            .await
            .allowed;
        assert_eq!(allowed, covers(&effective, r, g), "{r} in {g}");
        assert_eq!(allowed, (r, g) == ("r1", "g1"), "{r} in {g}");
    }
    running.stop().await;
}
on_both_backends!(
    r21_r34_check_resolve_scope_and_effective_scope_agree_after_narrowing,
    r21_r34_check_resolve_scope_and_effective_scope_agree_after_narrowing_sqlite,
    r21_r34_check_resolve_scope_and_effective_scope_agree_after_narrowing_postgres
);
