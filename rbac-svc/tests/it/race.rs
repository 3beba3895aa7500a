//! Revocation races (ARCHITECTURE.md, "Authorization consistency"): checks stream
//! concurrently while access is removed; once the revoking RPC has returned, no check sent
//! afterwards is allowed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use mtm_plumbing::testing::TestPki;
use mtm_proto::mtm::common::v1::{Principal, RelationshipState};
use mtm_proto::mtm::rbac::v1 as pb;
use mtm_proto::mtm::rbac::v1::decision_service_client::DecisionServiceClient;
use tonic::transport::Channel;

use crate::on_both_backends;
use crate::support::*;

/// Checks sent by each checker after it has seen the revocation.
const AFTER: usize = 40;
const CHECKERS: usize = 4;

/// Streams checks until each checker has sent `AFTER` checks that started after `revoked`
/// was set; returns (allows before, allows after).
async fn checker(
    mut client: DecisionServiceClient<Channel>,
    request: pb::CheckRequest,
    revoked: Arc<AtomicBool>,
) -> (usize, usize) {
    let (mut before, mut after, mut sent_after) = (0, 0, 0);
    while sent_after < AFTER {
        let seen = revoked.load(Ordering::SeqCst);
        let allowed = client
            .check(request.clone())
            .await
            .expect("check")
            .into_inner()
            .decision
            .expect("decision")
            .allowed;
        if seen {
            sent_after += 1;
            after += usize::from(allowed);
        } else {
            before += usize::from(allowed);
        }
    }
    (before, after)
}

/// Runs checkers for `principal`/`target` while `revoke` runs; asserts zero allows after.
async fn race<F, Fut>(
    running: &Running,
    principal: &Principal,
    target: pb::DecisionTarget,
    revoke: F,
) where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let revoked = Arc::new(AtomicBool::new(false));
    let request = pb::CheckRequest {
        principal: Some(principal.clone()),
        customer: "customers/a".into(),
        permission: "rooms.view".into(),
        target: Some(target),
        ..pb::CheckRequest::default()
    };
    let first = running
        .decisions
        .clone()
        .check(request.clone())
        .await
        .expect("check");
    assert!(
        first.into_inner().decision.expect("decision").allowed,
        "allowed before"
    );
    let tasks: Vec<_> = (0..CHECKERS)
        .map(|_| {
            tokio::spawn(checker(
                running.decisions.clone(),
                request.clone(),
                revoked.clone(),
            ))
        })
        .collect();
    revoke().await;
    revoked.store(true, Ordering::SeqCst);
    for task in tasks {
        let (_, after) = task.await.expect("checker");
        assert_eq!(
            after, 0,
            "a check sent after the revocation returned was allowed"
        );
    }
}

async fn revocations_race_checks_and_never_lose(db: &Db) {
    let pki = TestPki::new();
    let mut running = Running::start(&pki, db).await;
    provision(&mut running, "a", "root").await;
    relate(
        &mut running,
        "a",
        "p",
        scope("a", &["g1"], &["r9"]),
        &["ana", "ben"],
    )
    .await;
    let rel = "customers/a/partnerRelationships/p".to_owned();

    // A room taken out of the relationship scope (R18).
    let ana = principal("p", "ana", &[]);
    let mut internal = running.internal.clone();
    race(&running, &ana, room("a", "r9", "g2"), || async {
        internal
            .put_relationship(pb::PutRelationshipRequest {
                relationship: rel.clone(),
                partner: "partners/p".into(),
                customer: "customers/a".into(),
                scope: Some(scope("a", &["g1"], &[])),
                state: RelationshipState::Active as i32,
                end_time: None,
            })
            .await
            .expect("narrow");
    })
    .await;

    // A member taken out of an assignment (primary admins).
    let ben = principal("p", "ben", &[]);
    let mut internal = running.internal.clone();
    race(&running, &ben, room("a", "r1", "g1"), || async {
        internal
            .remove_primary_admins(pb::RemovePrimaryAdminsRequest {
                relationship: rel.clone(),
                members: vec!["tenants/p/users/ben".into()],
            })
            .await
            .expect("remove member");
    })
    .await;

    // The whole relationship (R17).
    let mut internal = running.internal.clone();
    race(&running, &ana, room("a", "r1", "g1"), || async {
        internal
            .remove_relationship(pb::RemoveRelationshipRequest {
                relationship: rel.clone(),
            })
            .await
            .expect("remove relationship");
    })
    .await;
    running.stop().await;
}
on_both_backends!(
    revocations_race_checks_and_never_lose,
    r17_r18_revocations_race_checks_and_never_lose_sqlite,
    r17_r18_revocations_race_checks_and_never_lose_postgres
);

async fn role_and_assignment_revocations_race_checks_and_never_lose(db: &Db) {
    let pki = TestPki::new();
    let mut running = Running::start(&pki, db).await;
    provision(&mut running, "a", "root").await;
    let root = principal("a", "root", &[]);
    let tom = principal("a", "tom", &["techs"]);
    let role = create_role(
        &running,
        &root,
        "customers/a",
        "viewer",
        &["rooms.view", "tickets.view"],
    )
    .await
    .expect("role")
    .role
    .expect("role");
    let techs = ["tenants/a/groups/techs"];
    let viewer = "customers/a/roles/viewer";
    assign(
        &running,
        &root,
        "customers/a",
        "one",
        viewer,
        &techs,
        scope("a", &["g1"], &[]),
    )
    .await
    .expect("assign");

    // A permission taken out of a role.
    let client = roles(&running);
    race(&running, &tom, room("a", "r1", "g1"), || async {
        let mut changed = role.clone();
        changed.permissions = vec!["tickets.view".into()];
        client
            .clone()
            .update_role(as_caller(
                &root,
                pb::UpdateRoleRequest {
                    role: Some(changed),
                    update_mask: None,
                },
            ))
            .await
            .expect("update role");
    })
    .await;

    // An assignment deleted.
    let again = create_role(
        &running,
        &root,
        "customers/a",
        "viewer-two",
        &["rooms.view"],
    )
    .await
    .expect("role");
    assert!(again.revision > 0);
    assign(
        &running,
        &root,
        "customers/a",
        "two",
        "customers/a/roles/viewer-two",
        &techs,
        all_rooms(),
    )
    .await
    .expect("assign");
    race(&running, &tom, room("a", "r1", "g1"), || async {
        client
            .clone()
            .delete_role_assignment(as_caller(
                &root,
                pb::DeleteRoleAssignmentRequest {
                    name: "customers/a/roleAssignments/two".into(),
                    etag: String::new(),
                },
            ))
            .await
            .expect("delete assignment");
    })
    .await;

    // A role deleted with its assignments.
    assign(
        &running,
        &root,
        "customers/a",
        "three",
        "customers/a/roles/viewer-two",
        &techs,
        all_rooms(),
    )
    .await
    .expect("assign");
    race(&running, &tom, room("a", "r1", "g1"), || async {
        client
            .clone()
            .delete_role(as_caller(
                &root,
                pb::DeleteRoleRequest {
                    name: "customers/a/roles/viewer-two".into(),
                    etag: String::new(),
                    force: true,
                },
            ))
            .await
            .expect("delete role");
    })
    .await;
    running.stop().await;
}
on_both_backends!(
    role_and_assignment_revocations_race_checks_and_never_lose,
    r31_r36_role_and_assignment_revocations_race_checks_and_never_lose_sqlite,
    r31_r36_role_and_assignment_revocations_race_checks_and_never_lose_postgres
);
