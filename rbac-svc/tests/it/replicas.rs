//! Two replicas on one store: a write on one is seen by the other for any `Check` carrying
//! the write's revision as `at_least_revision` (ARCHITECTURE.md, read-your-writes).

use mtm_plumbing::testing::TestPki;
use mtm_proto::mtm::rbac::v1 as pb;

use crate::on_both_backends;
use crate::support::*;

async fn check_at(
    running: &mut Running,
    principal: &mtm_proto::mtm::common::v1::Principal,
    revision: i64,
) -> pb::CheckResponse {
    running
        .decisions
        .check(pb::CheckRequest {
            principal: Some(principal.clone()),
            customer: "customers/a".into(),
            permission: "rooms.view".into(),
            target: Some(room("a", "r1", "g1")),
            at_least_revision: revision,
            kind: 0,
        })
        .await
        .expect("check")
        .into_inner()
}

async fn r17_read_your_writes_across_replicas(db: &Db) {
    let pki = TestPki::new();
    let mut first = Running::start(&pki, db).await;
    let mut second = Running::start(&pki, db).await;
    provision(&mut first, "a", "root").await;
    let granted = relate(&mut first, "a", "p", all_rooms(), &["ana"]).await;
    let ana = principal("p", "ana", &[]);
    let seen = check_at(&mut second, &ana, granted).await;
    assert!(seen.revision >= granted);
    assert!(
        seen.decision.expect("decision").allowed,
        "the grant is visible on the other replica"
    );

    let revoked = first
        .internal
        .remove_relationship(pb::RemoveRelationshipRequest {
            relationship: "customers/a/partnerRelationships/p".into(),
        })
        .await
        .expect("remove")
        .into_inner()
        .revision;
    let after = check_at(&mut second, &ana, revoked).await;
    assert!(
        !after.decision.expect("decision").allowed,
        "R17: the revocation holds on every replica"
    );
    first.stop().await;
    second.stop().await;
}
on_both_backends!(
    r17_read_your_writes_across_replicas,
    r17_read_your_writes_across_replicas_sqlite,
    r17_read_your_writes_across_replicas_postgres
);
