//! `RoleService`: built-in and custom roles, assignments, and the rules that guard them.

use mtm_plumbing::testing::TestPki;
use mtm_proto::mtm::rbac::v1 as pb;
use tonic::Code;

use crate::on_both_backends;
use crate::support::*;

const A: &str = "customers/a";
const REL: &str = "customers/a/partnerRelationships/p";

async fn r31_r33_built_ins_are_fixed_and_the_last_mmr_admin_stays(db: &Db) {
    let pki = TestPki::new();
    let mut running = Running::start(&pki, db).await;
    provision(&mut running, "a", "root").await;
    let root = principal("a", "root", &[]);
    let mut client = roles(&running);

    let listed = client
        .list_roles(as_caller(
            &root,
            pb::ListRolesRequest {
                parent: A.into(),
                ..Default::default()
            },
        ))
        .await
        .expect("list")
        .into_inner();
    let ids: Vec<&str> = listed.roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        ids,
        [
            "customers/a/roles/mmr-admin",
            "customers/a/roles/site-lead",
            "customers/a/roles/site-tech"
        ]
    );
    assert_eq!(listed.roles[0].assignment_count, 1);

    let mut mmr = listed.roles[0].clone();
    mmr.permissions = vec!["rooms.view".into()];
    let status = client
        .update_role(as_caller(
            &root,
            pb::UpdateRoleRequest {
                role: Some(mmr),
                update_mask: None,
            },
        ))
        .await
        .expect_err("R31 edit");
    assert_eq!(status.code(), Code::FailedPrecondition);
    let status = client
        .delete_role(as_caller(
            &root,
            pb::DeleteRoleRequest {
                name: "customers/a/roles/site-tech".into(),
                etag: String::new(),
                force: true,
            },
        ))
        .await
        .expect_err("R31 delete");
    assert_eq!(status.code(), Code::FailedPrecondition);

    let initial = "customers/a/roleAssignments/initial-mmr-admin";
    let status = client
        .delete_role_assignment(as_caller(
            &root,
            pb::DeleteRoleAssignmentRequest {
                name: initial.into(),
                etag: String::new(),
            },
        ))
        .await
        .expect_err("R33");
    assert_eq!(status.code(), Code::FailedPrecondition);
    let narrowed = pb::RoleAssignment {
        name: initial.into(),
        scope: Some(scope("a", &["g1"], &[])),
        ..Default::default()
    };
    let status = client
        .update_role_assignment(as_caller(
            &root,
            pb::UpdateRoleAssignmentRequest {
                role_assignment: Some(narrowed),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["scope".into()],
                }),
            },
        ))
        .await
        .expect_err("R33 narrowing the last one");
    assert_eq!(status.code(), Code::FailedPrecondition);

    assign(
        &running,
        &root,
        A,
        "second-admin",
        "customers/a/roles/mmr-admin",
        &["tenants/a/users/eva"],
        all_rooms(),
    )
    .await
    .expect("a second MMR admin");
    client
        .delete_role_assignment(as_caller(
            &root,
            pb::DeleteRoleAssignmentRequest {
                name: initial.into(),
                etag: String::new(),
            },
        ))
        .await
        .expect("no longer the last");
    assert!(
        !check(
            &mut running,
            &root,
            "a",
            "rooms.view",
            Some(room("a", "r1", "g1"))
        )
        .await
        .allowed
    );
    let eva = principal("a", "eva", &[]);
    let status = client
        .delete_role_assignment(as_caller(
            &eva,
            pb::DeleteRoleAssignmentRequest {
                name: "customers/a/roleAssignments/second-admin".into(),
                etag: String::new(),
            },
        ))
        .await
        .expect_err("R33 the last again");
    assert_eq!(status.code(), Code::FailedPrecondition);
    running.stop().await;
}
on_both_backends!(
    r31_r33_built_ins_are_fixed_and_the_last_mmr_admin_stays,
    r31_r33_last_mmr_admin_cannot_be_removed_sqlite,
    r31_r33_last_mmr_admin_cannot_be_removed_postgres
);

async fn r36_cannot_grant_permission_not_held(db: &Db) {
    let pki = TestPki::new();
    let mut running = Running::start(&pki, db).await;
    provision(&mut running, "a", "root").await;
    let root = principal("a", "root", &[]);
    create_role(
        &running,
        &root,
        A,
        "site-manager",
        &["roles.modify", "roles.view", "rooms.view"],
    )
    .await
    .expect("role");
    assign(
        &running,
        &root,
        A,
        "managers",
        "customers/a/roles/site-manager",
        &["tenants/a/groups/managers"],
        scope("a", &["g1"], &[]),
    )
    .await
    .expect("assignment");
    let mgr = principal("a", "mia", &["managers"]);

    let status = create_role(&running, &mgr, A, "settings", &["settings.view"])
        .await
        .expect_err("not held");
    assert_eq!(status.code(), Code::PermissionDenied);
    create_role(&running, &mgr, A, "viewer", &["rooms.view"])
        .await
        .expect("held");
    let status = assign(
        &running,
        &mgr,
        A,
        "admins",
        "customers/a/roles/mmr-admin",
        &["tenants/a/users/x"],
        scope("a", &["g1"], &[]),
    )
    .await
    .expect_err("a role with permissions not held");
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = assign(
        &running,
        &mgr,
        A,
        "wide",
        "customers/a/roles/viewer",
        &["tenants/a/users/x"],
        all_rooms(),
    )
    .await
    .expect_err("a scope beyond its own");
    assert_eq!(status.code(), Code::PermissionDenied);
    let made = assign(
        &running,
        &mgr,
        A,
        "narrow",
        "customers/a/roles/viewer",
        &["tenants/a/users/x"],
        scope("a", &["g1"], &[]),
    )
    .await
    .expect("inside its scope");
    let x = principal("a", "x", &[]);
    assert!(
        check(
            &mut running,
            &x,
            "a",
            "rooms.view",
            Some(room("a", "r1", "g1"))
        )
        .await
        .allowed
    );
    assert!(made.revision > 0);
    let status = roles(&running)
        .delete_role_assignment(as_caller(
            &mgr,
            pb::DeleteRoleAssignmentRequest {
                name: "customers/a/roleAssignments/initial-mmr-admin".into(),
                etag: String::new(),
            },
        ))
        .await
        .expect_err("an assignment beyond its scope");
    assert_eq!(status.code(), Code::PermissionDenied);
    running.stop().await;
}
on_both_backends!(
    r36_cannot_grant_permission_not_held,
    r36_cannot_grant_permission_not_held_sqlite,
    r36_cannot_grant_permission_not_held_postgres
);

async fn r20_r21_r22_r23_partner_roles(db: &Db) {
    let pki = TestPki::new();
    let mut running = Running::start(&pki, db).await;
    provision(&mut running, "a", "root").await;
    relate(&mut running, "a", "p", scope("a", &["g1"], &[]), &["ana"]).await;
    relate(&mut running, "a", "q", all_rooms(), &["quinn"]).await;
    let ana = principal("p", "ana", &[]);
    let root = principal("a", "root", &[]);

    let status = create_role(&running, &ana, REL, "bad", &["settings.view"])
        .await
        .expect_err("R20");
    assert_eq!(status.code(), Code::InvalidArgument);
    create_role(
        &running,
        &ana,
        REL,
        "helpdesk",
        &["tickets.view", "tickets.update"],
    )
    .await
    .expect("R20 subset");
    let made = assign(
        &running,
        &ana,
        REL,
        "desk",
        &format!("{REL}/roles/helpdesk"),
        &["tenants/p/groups/desk"],
        scope("a", &["g1", "g2"], &[]),
    )
    .await
    .expect("assign")
    .role_assignment
    .expect("assignment");
    assert_eq!(
        made.effective_scope,
        Some(scope("a", &["g1"], &[])),
        "R21: clipped"
    );
    let status = assign(
        &running,
        &ana,
        REL,
        "stranger",
        &format!("{REL}/roles/helpdesk"),
        &["tenants/a/users/root"],
        all_rooms(),
    )
    .await
    .expect_err("members of the partner only");
    assert_eq!(status.code(), Code::InvalidArgument);
    let hal = principal("p", "hal", &["desk"]);
    assert!(
        check(
            &mut running,
            &hal,
            "a",
            "tickets.view",
            Some(room("a", "r1", "g1"))
        )
        .await
        .allowed
    );
    assert!(
        !check(
            &mut running,
            &hal,
            "a",
            "tickets.view",
            Some(room("a", "r1", "g2"))
        )
        .await
        .allowed
    );

    let mut client = roles(&running);
    for (parent, what) in [
        (A, "customer roles"),
        ("customers/a/partnerRelationships/q", "another relationship"),
        ("customers/a/partnerRelationships/-", "every relationship"),
    ] {
        let status = client
            .list_roles(as_caller(
                &ana,
                pb::ListRolesRequest {
                    parent: parent.into(),
                    ..Default::default()
                },
            ))
            .await
            .expect_err(what);
        assert_eq!(status.code(), Code::NotFound, "R23/R37: {what}");
    }
    let stranger = principal("z", "eve", &[]);
    let status = client
        .get_role(as_caller(
            &stranger,
            pb::GetRoleRequest {
                name: format!("{REL}/roles/helpdesk"),
            },
        ))
        .await
        .expect_err("stranger");
    assert_eq!(status.code(), Code::NotFound);

    let all = client
        .list_roles(as_caller(
            &root,
            pb::ListRolesRequest {
                parent: "customers/a/partnerRelationships/-".into(),
                filter: "built_in = \"false\"".into(),
                ..Default::default()
            },
        ))
        .await
        .expect("R22 list")
        .into_inner();
    assert_eq!(all.roles.len(), 1);
    assert_eq!(all.roles[0].name, format!("{REL}/roles/helpdesk"));
    assert_eq!(all.roles[0].assignment_count, 1);
    let status = create_role(&running, &root, REL, "mine", &["tickets.view"])
        .await
        .expect_err("R22: no creating");
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = client
        .delete_role(as_caller(
            &root,
            pb::DeleteRoleRequest {
                name: format!("{REL}/roles/helpdesk"),
                etag: String::new(),
                force: false,
            },
        ))
        .await
        .expect_err("still assigned");
    assert_eq!(status.code(), Code::FailedPrecondition);
    client
        .delete_role(as_caller(
            &root,
            pb::DeleteRoleRequest {
                name: format!("{REL}/roles/helpdesk"),
                etag: String::new(),
                force: true,
            },
        ))
        .await
        .expect("R22 delete");
    assert!(
        !check(
            &mut running,
            &hal,
            "a",
            "tickets.view",
            Some(room("a", "r1", "g1"))
        )
        .await
        .allowed
    );
    running.stop().await;
}
on_both_backends!(
    r20_r21_r22_r23_partner_roles,
    r20_r21_r22_r23_partner_roles_sqlite,
    r20_r21_r22_r23_partner_roles_postgres
);

async fn etags_names_filters_and_pages(db: &Db) {
    let pki = TestPki::new();
    let mut running = Running::start(&pki, db).await;
    provision(&mut running, "a", "root").await;
    let root = principal("a", "root", &[]);
    let made = create_role(&running, &root, A, "desk", &["tickets.view"])
        .await
        .expect("role")
        .role
        .expect("role");
    let status = create_role(&running, &root, A, "desk", &["tickets.view"])
        .await
        .expect_err("same id");
    assert_eq!(status.code(), Code::AlreadyExists);
    let mut client = roles(&running);
    let mut update = made.clone();
    update.permissions = vec!["tickets.view".into(), "tickets.update".into()];
    let updated = client
        .update_role(as_caller(
            &root,
            pb::UpdateRoleRequest {
                role: Some(update.clone()),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["permissions".into()],
                }),
            },
        ))
        .await
        .expect("update")
        .into_inner()
        .role
        .expect("role");
    assert_eq!(updated.permissions, ["tickets.view", "tickets.update"]);
    let status = client
        .update_role(as_caller(
            &root,
            pb::UpdateRoleRequest {
                role: Some(update),
                update_mask: None,
            },
        ))
        .await
        .expect_err("stale etag");
    assert_eq!(status.code(), Code::Aborted);
    let status = client
        .update_role(as_caller(
            &root,
            pb::UpdateRoleRequest {
                role: Some(updated.clone()),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["built_in".into()],
                }),
            },
        ))
        .await
        .expect_err("unknown path");
    assert_eq!(status.code(), Code::InvalidArgument);

    let page = |token: String| pb::ListRolesRequest {
        parent: A.into(),
        page_size: 2,
        page_token: token,
        filter: String::new(),
    };
    let first = client
        .list_roles(as_caller(&root, page(String::new())))
        .await
        .expect("page 1")
        .into_inner();
    assert_eq!((first.roles.len(), first.total_size), (2, 4));
    let second = client
        .list_roles(as_caller(&root, page(first.next_page_token.clone())))
        .await
        .expect("page 2")
        .into_inner();
    assert_eq!(second.roles.len(), 2);
    assert!(second.next_page_token.is_empty());
    assert_eq!(
        second.roles[1].name, "customers/a/roles/desk",
        "custom roles after built-ins"
    );
    let status = client
        .list_roles(as_caller(
            &root,
            pb::ListRolesRequest {
                parent: A.into(),
                page_token: first.next_page_token,
                filter: "built_in = \"true\"".into(),
                ..Default::default()
            },
        ))
        .await
        .expect_err("token of another filter");
    assert_eq!(status.code(), Code::InvalidArgument);
    let filtered = client
        .list_roles(as_caller(
            &root,
            pb::ListRolesRequest {
                parent: A.into(),
                filter: "permission = \"tickets.update\" AND built_in = \"false\"".into(),
                ..Default::default()
            },
        ))
        .await
        .expect("filter")
        .into_inner();
    assert_eq!(filtered.roles.len(), 1);
    let assignments = client
        .list_role_assignments(as_caller(
            &root,
            pb::ListRoleAssignmentsRequest {
                parent: A.into(),
                filter: "member = \"tenants/a/users/root\"".into(),
                ..Default::default()
            },
        ))
        .await
        .expect("assignments")
        .into_inner();
    assert_eq!(assignments.role_assignments.len(), 1);
    assert_eq!(
        assignments.role_assignments[0].effective_scope,
        Some(all_rooms())
    );
    let status = client
        .list_role_assignments(as_caller(
            &root,
            pb::ListRoleAssignmentsRequest {
                parent: A.into(),
                filter: "members = \"x\"".into(),
                ..Default::default()
            },
        ))
        .await
        .expect_err("bad filter");
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = client
        .get_role(tonic::Request::new(pb::GetRoleRequest {
            name: "customers/a/roles/desk".into(),
        }))
        .await
        .expect_err("no call context");
    assert_eq!(status.code(), Code::Unauthenticated);
    running.stop().await;
}
on_both_backends!(
    etags_names_filters_and_pages,
    etags_names_filters_and_pages_sqlite,
    etags_names_filters_and_pages_postgres
);

async fn creates_with_a_request_id_are_idempotent(db: &Db) {
    let pki = TestPki::new();
    let mut running = Running::start(&pki, db).await;
    provision(&mut running, "a", "root").await;
    let root = principal("a", "root", &[]);
    let request = |id: &str, name: &str| pb::CreateRoleRequest {
        parent: A.into(),
        role: Some(pb::Role {
            display_name: name.into(),
            permissions: vec!["rooms.view".into()],
            ..Default::default()
        }),
        role_id: String::new(),
        request_id: id.into(),
    };
    let id = "0192f0c4-3f5e-7a3b-9c1d-2e4f6a8b0c1d";
    let mut client = roles(&running);
    let first = client
        .create_role(as_caller(&root, request(id, "Viewers")))
        .await
        .expect("first")
        .into_inner();
    let again = client
        .create_role(as_caller(&root, request(id, "Viewers")))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(first.role, again.role, "a retry returns the first answer");
    let status = client
        .create_role(as_caller(&root, request(id, "Other")))
        .await
        .expect_err("reuse");
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = client
        .create_role(as_caller(&root, request("not-a-uuid", "Other")))
        .await
        .expect_err("bad id");
    assert_eq!(status.code(), Code::InvalidArgument);
    let listed = client
        .list_roles(as_caller(
            &root,
            pb::ListRolesRequest {
                parent: A.into(),
                filter: "built_in = \"false\"".into(),
                ..Default::default()
            },
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.total_size, 1, "created once");
    running.stop().await;
}
on_both_backends!(
    creates_with_a_request_id_are_idempotent,
    creates_with_a_request_id_are_idempotent_sqlite,
    creates_with_a_request_id_are_idempotent_postgres
);
