//! `RbacInternalService`: provisioning, relationships and primary admins, idempotent, each
//! in the index before it returns, and the index rebuilt from the store at start.

use mtm_plumbing::testing::TestPki;
use mtm_proto::mtm::common::v1::RelationshipState;
use mtm_proto::mtm::rbac::v1 as pb;
use tonic::Code;

use crate::on_both_backends;
use crate::support::*;

async fn r33_provisioning_makes_the_first_admin_mmr_admin_and_survives_restart(db: &Db) {
    let pki = TestPki::new();
    let mut running = Running::start(&pki, db).await;
    let first = provision(&mut running, "contoso", "root").await;
    assert!(first > 0);
    let again = provision(&mut running, "contoso", "root").await;
    assert_eq!(again, first, "a repeat changes nothing");
    let root = principal("contoso", "root", &[]);
    let d = check(&mut running, &root, "contoso", "settings.modify", None).await;
    assert!(d.allowed);
    assert_eq!(
        d.granting_assignment,
        "customers/contoso/roleAssignments/initial-mmr-admin"
    );
    running.stop().await;

    let mut restarted = Running::start(&pki, db).await;
    let d = check(
        &mut restarted,
        &root,
        "contoso",
        "update_rings.create",
        None,
    )
    .await;
    assert!(d.allowed, "the index is rebuilt from the store at start");
    let revision = restarted
        .internal
        .get_revision(pb::GetRevisionRequest {})
        .await
        .expect("revision")
        .into_inner();
    assert_eq!(revision.applied_revision, first);
    assert_eq!(revision.committed_revision, first);
    restarted.stop().await;
}
on_both_backends!(
    r33_provisioning_makes_the_first_admin_mmr_admin_and_survives_restart,
    r33_provisioning_makes_the_first_admin_mmr_admin_and_survives_restart_sqlite,
    r33_provisioning_makes_the_first_admin_mmr_admin_and_survives_restart_postgres
);

async fn r17_r19_r23_relationship_lifecycle(db: &Db) {
    let pki = TestPki::new();
    let mut running = Running::start(&pki, db).await;
    provision(&mut running, "a", "root").await;
    provision(&mut running, "b", "root").await;
    relate(&mut running, "a", "p", all_rooms(), &["ana"]).await;
    relate(&mut running, "b", "p", all_rooms(), &["bob"]).await;
    let ana = principal("p", "ana", &[]);
    let d = check(
        &mut running,
        &ana,
        "a",
        "tickets.update",
        Some(room("a", "r1", "g1")),
    )
    .await;
    assert!(d.allowed, "R19: primary admins hold table 1");
    assert_eq!(d.partner_relationship, "customers/a/partnerRelationships/p");
    let d = check(
        &mut running,
        &ana,
        "b",
        "tickets.update",
        Some(room("b", "r1", "g1")),
    )
    .await;
    assert!(
        !d.allowed && !d.target_visible,
        "R23: nothing carries over to b"
    );

    let listed = running
        .decisions
        .list_accessible_customers(pb::ListAccessibleCustomersRequest {
            principal: Some(ana.clone()),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.customers.len(), 1);
    assert_eq!(listed.customers[0].customer, "customers/a");
    assert_eq!(
        listed.customers[0].roles,
        ["customers/a/partnerRelationships/p/roles/primary-admins"]
    );

    let revision = running
        .internal
        .remove_relationship(pb::RemoveRelationshipRequest {
            relationship: "customers/a/partnerRelationships/p".into(),
        })
        .await
        .expect("remove")
        .into_inner()
        .revision;
    let d = check(
        &mut running,
        &ana,
        "a",
        "tickets.update",
        Some(room("a", "r1", "g1")),
    )
    .await;
    assert!(!d.allowed, "R17: access stops when the removal returns");
    assert_eq!(d.deny_reason, pb::DenyReason::NoRelationship as i32);
    let again = running
        .internal
        .remove_relationship(pb::RemoveRelationshipRequest {
            relationship: "customers/a/partnerRelationships/p".into(),
        })
        .await
        .expect("remove again")
        .into_inner()
        .revision;
    assert_eq!(
        again, revision,
        "removing an unknown relationship is not an error"
    );
    // A new relationship starts with no leftover members (R17 deleted them).
    running
        .internal
        .put_relationship(pb::PutRelationshipRequest {
            relationship: "customers/a/partnerRelationships/p".into(),
            partner: "partners/p".into(),
            customer: "customers/a".into(),
            scope: Some(all_rooms()),
            state: RelationshipState::Active as i32,
            end_time: None,
        })
        .await
        .expect("put");
    assert!(
        !check(
            &mut running,
            &ana,
            "a",
            "rooms.view",
            Some(room("a", "r1", "g1"))
        )
        .await
        .allowed
    );
    running.stop().await;
}
on_both_backends!(
    r17_r19_r23_relationship_lifecycle,
    r17_r19_r23_relationship_lifecycle_sqlite,
    r17_r19_r23_relationship_lifecycle_postgres
);

async fn r18_r30_scope_narrowing_expiry_and_termination_take_effect_at_once(db: &Db) {
    let pki = TestPki::new();
    let mut running = Running::start(&pki, db).await;
    provision(&mut running, "a", "root").await;
    relate(
        &mut running,
        "a",
        "p",
        scope("a", &["g1"], &["r9"]),
        &["ana"],
    )
    .await;
    let ana = principal("p", "ana", &[]);
    assert!(
        check(
            &mut running,
            &ana,
            "a",
            "rooms.view",
            Some(room("a", "r1", "g1"))
        )
        .await
        .allowed
    );
    let put = |scope, state, end_time| pb::PutRelationshipRequest {
        relationship: "customers/a/partnerRelationships/p".into(),
        partner: "partners/p".into(),
        customer: "customers/a".into(),
        scope: Some(scope),
        state: state as i32,
        end_time,
    };
    running
        .internal
        .put_relationship(put(
            scope("a", &[], &["r9"]),
            RelationshipState::Active,
            None,
        ))
        .await
        .expect("narrow");
    assert!(
        !check(
            &mut running,
            &ana,
            "a",
            "rooms.view",
            Some(room("a", "r1", "g1"))
        )
        .await
        .allowed
    );
    assert!(
        check(
            &mut running,
            &ana,
            "a",
            "rooms.view",
            Some(room("a", "r9", "g1"))
        )
        .await
        .allowed
    );
    let past = prost_types::Timestamp {
        seconds: 1,
        nanos: 0,
    };
    running
        .internal
        .put_relationship(put(
            scope("a", &[], &["r9"]),
            RelationshipState::Active,
            Some(past),
        ))
        .await
        .expect("expire");
    assert!(
        !check(
            &mut running,
            &ana,
            "a",
            "rooms.view",
            Some(room("a", "r9", "g1"))
        )
        .await
        .allowed
    );
    running
        .internal
        .put_relationship(put(all_rooms(), RelationshipState::Terminated, None))
        .await
        .expect("terminate");
    let roles = running
        .decisions
        .list_accessible_customers(pb::ListAccessibleCustomersRequest {
            principal: Some(ana.clone()),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert!(roles.customers.is_empty());
    running.stop().await;
}
on_both_backends!(
    r18_r30_scope_narrowing_expiry_and_termination_take_effect_at_once,
    r18_r30_scope_narrowing_expiry_and_termination_take_effect_at_once_sqlite,
    r18_r30_scope_narrowing_expiry_and_termination_take_effect_at_once_postgres
);

async fn bad_input_is_refused_and_changes_nothing(db: &Db) {
    let pki = TestPki::new();
    let mut running = Running::start(&pki, db).await;
    let start = provision(&mut running, "a", "root").await;
    let status = running
        .internal
        .provision_customer(pb::ProvisionCustomerRequest {
            customer: "customers/b".into(),
            first_admin: "tenants/other/users/x".into(),
        })
        .await
        .expect_err("foreign first admin");
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = running
        .internal
        .put_relationship(pb::PutRelationshipRequest {
            relationship: "customers/a/partnerRelationships/self".into(),
            partner: "partners/a".into(),
            customer: "customers/a".into(),
            scope: Some(scope("b", &["g1"], &[])),
            state: RelationshipState::Active as i32,
            end_time: None,
        })
        .await
        .expect_err("R7 and foreign scope");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("partner") && status.message().contains("scope.room_groups[0]")
    );
    let status = running
        .internal
        .put_relationship(pb::PutRelationshipRequest {
            relationship: "customers/zz/partnerRelationships/p".into(),
            partner: "partners/p".into(),
            customer: "customers/zz".into(),
            scope: Some(all_rooms()),
            state: RelationshipState::Active as i32,
            end_time: None,
        })
        .await
        .expect_err("unprovisioned customer");
    assert_eq!(status.code(), Code::FailedPrecondition);
    let status = running
        .internal
        .add_primary_admins(pb::AddPrimaryAdminsRequest {
            relationship: "customers/a/partnerRelationships/none".into(),
            members: vec!["tenants/p/users/ana".into()],
        })
        .await
        .expect_err("unknown relationship");
    assert_eq!(status.code(), Code::NotFound);
    relate(&mut running, "a", "p", all_rooms(), &["ana"]).await;
    let status = running
        .internal
        .add_primary_admins(pb::AddPrimaryAdminsRequest {
            relationship: "customers/a/partnerRelationships/p".into(),
            members: vec!["tenants/a/users/root".into()],
        })
        .await
        .expect_err("a customer user as primary admin");
    assert_eq!(status.code(), Code::InvalidArgument);
    let now = running
        .internal
        .get_revision(pb::GetRevisionRequest {})
        .await
        .expect("rev")
        .into_inner();
    assert_eq!(
        now.committed_revision,
        start + 2,
        "only the two good writes committed"
    );
    running.stop().await;
}
on_both_backends!(
    bad_input_is_refused_and_changes_nothing,
    bad_input_is_refused_and_changes_nothing_sqlite,
    bad_input_is_refused_and_changes_nothing_postgres
);

#[tokio::test]
async fn only_tenancy_svc_may_call_the_internal_api() {
    let pki = TestPki::new();
    let db = Db::sqlite();
    let running = Running::start(&pki, &db).await;
    let mut as_gateway =
        mtm_proto::mtm::rbac::v1::rbac_internal_service_client::RbacInternalServiceClient::new(
            running.channel.clone(),
        );
    let status = as_gateway
        .provision_customer(pb::ProvisionCustomerRequest {
            customer: "customers/a".into(),
            first_admin: "tenants/a/users/root".into(),
        })
        .await
        .expect_err("the gateway is not tenancy-svc");
    assert_eq!(status.code(), Code::PermissionDenied);
    running.stop().await;
}
