//! Offboarding fails safe (ARCHITECTURE.md, R17, R18, R30): access is gone in rbac-svc before
//! the change that removes it is committed, so a crash or a failing rbac-svc at any step
//! leaves access denied or the change undone, never a committed removal with access left;
//! and reconciliation, on its timer too, finishes a revocation at once.

use mtm_proto::mtm::audit::v1::ListAuditRecordsRequest;
use mtm_proto::mtm::common::v1::{RelationshipState, RoomScope};
use mtm_proto::mtm::tenancy::v1::relationship::TerminationReason;
use mtm_proto::mtm::tenancy::v1::relationship_service_client::RelationshipServiceClient;
use mtm_proto::mtm::tenancy::v1::*;
use tenancy_svc::service::Caller;
use tenancy_svc::state::State;
use tenancy_svc::store::entity::relationship;
use tenancy_svc::sync;
use tonic::Code;

use crate::support::{Org, Person, Store, Suite, req};

/// A customer, an elite partner and its user `ana`, related: ana is a primary admin.
async fn related(suite: &Suite) -> (Org, Org, Person, Relationship) {
    let customer = suite.customer("contoso").await;
    let partner = suite.partner("fabrikam").await;
    let ana = suite.user(&partner, "ana").await;
    let relationship = suite.relate(&customer, &partner, &ana).await;
    assert!(suite.rbac_allows(&ana, &customer, 0).await);
    (customer, partner, ana, relationship)
}

/// The relationship as tenancy-svc stores it.
async fn stored(state: &State, name: &str) -> relationship::Model {
    let id = name.rsplit('/').next().expect("id");
    tenancy_svc::store::relationships::get(&state.db, "contoso", id)
        .await
        .expect("read")
        .expect("stored")
}

async fn public_state(suite: &Suite, customer: &Org, name: &str) -> Relationship {
    suite
        .relationships()
        .get_relationship(req(
            GetRelationshipRequest {
                name: name.to_owned(),
            },
            &customer.admin.context(),
        ))
        .await
        .expect("get")
        .into_inner()
        .relationship
        .expect("relationship")
}

async fn case_r17_a_crash_after_the_first_step_of_a_termination_leaves_no_access(store: Store) {
    let suite = Suite::start(store).await;
    let (customer, _, ana, relationship) = related(&suite).await;
    let state = suite.state().await;
    let row = stored(&state, &relationship.name).await;
    // The request's first step runs, then the process "crashes": nothing else happens.
    let (marked, revision) = sync::revoke(
        &state,
        &Caller::system(),
        row,
        TerminationReason::RemovedByCustomer,
    )
    .await
    .expect("first step");
    assert!(marked.terminating);
    assert_ne!(marked.state, "TERMINATED");
    assert!(
        !suite.rbac_allows(&ana, &customer, revision).await,
        "access is gone once the terminating mark is committed"
    );
    let active = suite
        .internal()
        .get_active_relationship(req(
            GetActiveRelationshipRequest {
                customer: "customers/contoso".into(),
                partner: "partners/fabrikam".into(),
            },
            &Suite::operator(),
        ))
        .await
        .expect_err("not active while terminating");
    assert_eq!(active.code(), Code::NotFound);
    // The timer's reconciliation, with its grace for provisioning, finishes at once.
    let done = sync::reconcile(&state, None, sync::SETTLE_US)
        .await
        .expect("reconcile");
    assert!(done.relationships_synced >= 1);
    let ended = public_state(&suite, &customer, &relationship.name).await;
    assert_eq!(ended.state(), RelationshipState::Terminated);
    assert_eq!(
        ended.termination_reason(),
        TerminationReason::RemovedByCustomer
    );
    assert!(ended.terminate_time.is_some());
    assert!(!suite.rbac_allows(&ana, &customer, done.rbac_revision).await);
    let log = suite
        .audit()
        .list_audit_records(req(
            ListAuditRecordsRequest {
                parent: "customers/contoso".into(),
                page_size: 1000,
                filter: String::new(),
                ..Default::default()
            },
            &customer.admin.context(),
        ))
        .await
        .expect("audit")
        .into_inner()
        .audit_records;
    let ends = log.iter().filter(|r| r.operation == "terminate").count();
    assert_eq!(ends, 1, "finished once");
    // Reconciling again, or finishing again, changes nothing more.
    sync::reconcile(&state, None, sync::SETTLE_US)
        .await
        .expect("reconcile again");
    let again = sync::finish_termination(&state, &Caller::system(), marked)
        .await
        .expect("finish again");
    assert_eq!(again.state, "TERMINATED");
    suite.stop().await;
}
on_both!(
    r17_a_crash_after_the_first_step_of_a_termination_leaves_no_access,
    r17_a_crash_after_the_first_step_of_a_termination_leaves_no_access_postgres,
    case_r17_a_crash_after_the_first_step_of_a_termination_leaves_no_access
);

async fn case_r17_a_termination_rbac_does_not_take_commits_nothing(store: Store) {
    let suite = Suite::start(store).await;
    let (customer, _, ana, relationship) = related(&suite).await;
    let broken = suite.state_without_rbac().await;
    let row = stored(&broken, &relationship.name).await;
    let failed = sync::terminate(
        &broken,
        &Caller::system(),
        row,
        TerminationReason::RemovedByCustomer,
    )
    .await
    .expect_err("rbac-svc is out of reach");
    assert_eq!(tonic::Status::from(failed).code(), Code::Unavailable);
    let row = stored(&broken, &relationship.name).await;
    assert!(
        !row.terminating && row.state == "ACTIVE",
        "nothing is committed before rbac-svc has taken the access away"
    );
    let removed = suite
        .relationships()
        .remove_partner(req(
            RemovePartnerRequest {
                name: relationship.name.clone(),
                confirm: true,
                etag: String::new(),
            },
            &customer.admin.context(),
        ))
        .await
        .expect("the retry ends it")
        .into_inner();
    assert!(
        !suite
            .rbac_allows(&ana, &customer, removed.rbac_revision)
            .await
    );
    suite.stop().await;
}
on_both!(
    r17_a_termination_rbac_does_not_take_commits_nothing,
    r17_a_termination_rbac_does_not_take_commits_nothing_postgres,
    case_r17_a_termination_rbac_does_not_take_commits_nothing
);

async fn case_r17_half_done_terminations_and_deletions_lose_access_without_grace(store: Store) {
    let suite = Suite::start(store).await;
    let (customer, partner, ana, relationship) = related(&suite).await;
    let state = suite.state().await;
    // A termination marked without rbac-svc being told (as an older version could leave it).
    crate::support::leave_termination_half_done(&suite, &relationship.name).await;
    let done = sync::reconcile(&state, None, sync::SETTLE_US)
        .await
        .expect("reconcile");
    assert!(!suite.rbac_allows(&ana, &customer, done.rbac_revision).await);
    let ended = public_state(&suite, &customer, &relationship.name).await;
    assert_eq!(ended.state(), RelationshipState::Terminated);
    // A tenant deletion cut short right after it was marked DELETING.
    let other = suite.customer("woodgrove").await;
    let bob = suite.user(&partner, "bob").await;
    let second = suite.relate(&other, &partner, &bob).await;
    assert!(suite.rbac_allows(&bob, &other, 0).await);
    mark_deleting(&state, "woodgrove").await;
    let done = sync::reconcile(&state, None, sync::SETTLE_US)
        .await
        .expect("reconcile");
    assert!(
        !suite.rbac_allows(&bob, &other, done.rbac_revision).await,
        "a deleted customer's partners lose access at the next reconciliation"
    );
    let id = second.name.rsplit('/').next().expect("id");
    let row = tenancy_svc::store::relationships::get(&state.db, "woodgrove", id)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(row.state, "TERMINATED");
    let tenant = tenancy_svc::store::tenants::get(&state.db, "woodgrove")
        .await
        .expect("read");
    assert!(
        tenant.is_some_and(|t| t.state == "DELETING"),
        "the rest of the deletion is left to the request for the grace period"
    );
    suite.stop().await;
}
on_both!(
    r17_half_done_terminations_and_deletions_lose_access_without_grace,
    r17_half_done_terminations_and_deletions_lose_access_without_grace_postgres,
    case_r17_half_done_terminations_and_deletions_lose_access_without_grace
);

/// Marks tenant `id` DELETING now, as `DeleteTenant` does first.
async fn mark_deleting(state: &State, id: &str) {
    let row = tenancy_svc::store::tenants::get(&state.db, id)
        .await
        .expect("read")
        .expect("tenant");
    tenancy_svc::store::tenants::update(&state.db, row, |active| {
        active.state = sea_orm::Set("DELETING".into());
    })
    .await
    .expect("mark deleting");
}

async fn case_r18_r30_narrowing_and_ending_rbac_does_not_take_change_nothing(store: Store) {
    let suite = Suite::start(store).await;
    let (customer, partner, ana, relationship) = related(&suite).await;
    let berlin = suite.room_group(&customer, "berlin").await;
    let (channel, broken_server) = suite.tenancy_without_rbac().await;
    let mut handlers = RelationshipServiceClient::new(channel);
    let narrowed = handlers
        .update_relationship_scope(req(
            UpdateRelationshipScopeRequest {
                name: relationship.name.clone(),
                room_scope: Some(RoomScope {
                    room_groups: vec![berlin],
                    ..Default::default()
                }),
                etag: String::new(),
            },
            &customer.admin.context(),
        ))
        .await
        .expect_err("rbac-svc is out of reach");
    assert_eq!(narrowed.code(), Code::Unavailable, "{narrowed:?}");
    let soon = prost_types::Timestamp::from(
        std::time::SystemTime::now() + std::time::Duration::from_secs(3600),
    );
    let ending = handlers
        .set_relationship_end_time(req(
            SetRelationshipEndTimeRequest {
                name: relationship.name.clone(),
                end_time: Some(soon),
                etag: String::new(),
            },
            &customer.admin.context(),
        ))
        .await
        .expect_err("rbac-svc is out of reach");
    assert_eq!(ending.code(), Code::Unavailable);
    let kept = public_state(&suite, &customer, &relationship.name).await;
    assert!(
        kept.room_scope.is_some_and(|s| s.all_rooms),
        "scope unchanged"
    );
    assert!(kept.end_time.is_none(), "end time unchanged");
    // A primary admin leaves rbac-svc before the entry goes.
    let bob = suite.user(&partner, "bob").await;
    suite
        .relationships()
        .add_primary_admins(req(
            AddPrimaryAdminsRequest {
                parent: relationship.name.clone(),
                members: vec![bob.principal.user.clone()],
                request_id: String::new(),
            },
            &ana.context(),
        ))
        .await
        .expect("add bob");
    let admins = suite.primary_admins(&ana, &relationship.name).await;
    let bobs = admins
        .iter()
        .find(|p| p.member == bob.principal.user)
        .expect("bob listed");
    let refused = handlers
        .remove_primary_admin(req(
            RemovePrimaryAdminRequest {
                name: bobs.name.clone(),
            },
            &customer.admin.context(),
        ))
        .await
        .expect_err("rbac-svc is out of reach");
    assert_eq!(refused.code(), Code::Unavailable);
    assert_eq!(
        suite.primary_admins(&ana, &relationship.name).await.len(),
        2,
        "the entry stays while rbac-svc still grants it"
    );
    assert!(suite.rbac_allows(&bob, &customer, 0).await);
    // Expiry (R30): rbac-svc hears EXPIRED before it is committed here.
    crate::support::end_relationship_now(&suite, &relationship.name).await;
    let broken = suite.state_without_rbac().await;
    sync::expire_due(&broken, &Caller::system())
        .await
        .expect_err("rbac-svc is out of reach");
    assert_eq!(stored(&broken, &relationship.name).await.state, "ACTIVE");
    let state = suite.state().await;
    let expired = sync::expire_due(&state, &Caller::system())
        .await
        .expect("expire");
    assert_eq!(expired.len(), 1);
    assert_eq!(stored(&state, &relationship.name).await.state, "EXPIRED");
    assert!(!suite.rbac_allows(&ana, &customer, 0).await);
    broken_server.stop().await;
    suite.stop().await;
}
on_both!(
    r18_r30_narrowing_and_ending_rbac_does_not_take_change_nothing,
    r18_r30_narrowing_and_ending_rbac_does_not_take_change_nothing_postgres,
    case_r18_r30_narrowing_and_ending_rbac_does_not_take_change_nothing
);
