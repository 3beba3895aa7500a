//! RelationshipService: primary admins (R13, R14), offboarding (R16, R17), scope (R18),
//! change control (R29), end time and renewal (R30), kept in step with rbac-svc.

use mtm_proto::mtm::common::v1::{RelationshipState, RoomScope};
use mtm_proto::mtm::tenancy::v1::*;
use tonic::Code;

use crate::support::{Org, Person, Store, Suite, assert_status, req};

/// A customer, an elite partner, its user `ana` and their ACTIVE relationship.
async fn related(suite: &Suite) -> (Org, Org, Person, Relationship) {
    let customer = suite.customer("contoso").await;
    let partner = suite.partner("fabrikam").await;
    let ana = suite.user(&partner, "ana").await;
    let relationship = suite.relate(&customer, &partner, &ana).await;
    (customer, partner, ana, relationship)
}

async fn get(suite: &Suite, who: &Person, name: &str) -> Result<Relationship, tonic::Status> {
    suite
        .relationships()
        .get_relationship(req(
            GetRelationshipRequest {
                name: name.to_owned(),
            },
            &who.context(),
        ))
        .await
        .map(|r| r.into_inner().relationship.expect("relationship"))
}

async fn case_r10_accepted_primary_admin_is_allowed_at_once_in_rbac(store: Store) {
    let suite = Suite::start(store).await;
    let customer = suite.customer("contoso").await;
    let partner = suite.partner("fabrikam").await;
    let ana = suite.user(&partner, "ana").await;
    assert!(!suite.rbac_allows(&ana, &customer, 0).await);
    let relationship = suite.relate(&customer, &partner, &ana).await;
    assert!(
        suite.rbac_allows(&ana, &customer, 0).await,
        "R10: the new primary admin is allowed"
    );
    let seen = get(&suite, &ana, &relationship.name)
        .await
        .expect("primary admin reads it");
    assert!(seen.room_scope.is_some());
    suite.stop().await;
}
on_both!(
    r10_accepted_primary_admin_is_allowed_at_once_in_rbac,
    r10_accepted_primary_admin_is_allowed_at_once_in_rbac_postgres,
    case_r10_accepted_primary_admin_is_allowed_at_once_in_rbac
);

async fn case_r13_customer_invites_more_primary_admins(store: Store) {
    let suite = Suite::start(store).await;
    let (customer, partner, _ana, relationship) = related(&suite).await;
    let bob = suite.user(&partner, "bob").await;
    let invited = suite
        .invitations()
        .invite_primary_admins(req(
            InvitePrimaryAdminsRequest {
                relationship: relationship.name.clone(),
                invited_upns: vec![bob.principal.upn.clone()],
                lifetime_days: Some(7),
                request_id: String::new(),
            },
            &customer.admin.context(),
        ))
        .await
        .expect("invite")
        .into_inner()
        .invitations;
    assert_eq!(invited[0].kind(), invitation::Kind::PrimaryAdmin);
    let joined = suite
        .accept(&bob, &invited[0].name)
        .await
        .expect("bob accepts");
    assert!(!joined.created_relationship);
    assert_eq!(joined.relationship.expect("rel").primary_admin_count, 2);
    assert!(suite.rbac_allows(&bob, &customer, 0).await);
    suite.stop().await;
}
on_both!(
    r13_customer_invites_more_primary_admins,
    r13_customer_invites_more_primary_admins_postgres,
    case_r13_customer_invites_more_primary_admins
);

async fn case_r14_last_primary_admin_cannot_be_removed(store: Store) {
    let suite = Suite::start(store).await;
    let (customer, _partner, ana, relationship) = related(&suite).await;
    let admins = suite.primary_admins(&ana, &relationship.name).await;
    assert_eq!(admins.len(), 1);
    let outcome = suite
        .relationships()
        .remove_primary_admin(req(
            RemovePrimaryAdminRequest {
                name: admins[0].name.clone(),
            },
            &customer.admin.context(),
        ))
        .await;
    assert_status(outcome, Code::FailedPrecondition, "R14");
    assert_eq!(
        suite.primary_admins(&ana, &relationship.name).await.len(),
        1
    );
    assert!(suite.rbac_allows(&ana, &customer, 0).await);
    suite.stop().await;
}
on_both!(
    r14_last_primary_admin_cannot_be_removed,
    r14_last_primary_admin_cannot_be_removed_postgres,
    case_r14_last_primary_admin_cannot_be_removed
);

async fn case_r14_concurrent_removal_of_the_last_two_leaves_one(store: Store) {
    let suite = Suite::start(store).await;
    let (customer, partner, ana, relationship) = related(&suite).await;
    let bob = suite.user(&partner, "bob").await;
    let added = suite
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
        .expect("add")
        .into_inner();
    assert!(
        suite
            .rbac_allows(&bob, &customer, added.rbac_revision)
            .await
    );
    let admins = suite.primary_admins(&ana, &relationship.name).await;
    assert_eq!(admins.len(), 2);
    let mut tasks = tokio::task::JoinSet::new();
    for admin in admins {
        let mut client = suite.relationships();
        let context = customer.admin.context();
        tasks.spawn(async move {
            client
                .remove_primary_admin(req(
                    RemovePrimaryAdminRequest { name: admin.name },
                    &context,
                ))
                .await
        });
    }
    let mut ok = 0;
    let mut refused = 0;
    while let Some(done) = tasks.join_next().await {
        match done.expect("task") {
            Ok(_) => ok += 1,
            Err(status) => {
                assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
                refused += 1;
            }
        }
    }
    assert_eq!((ok, refused), (1, 1));
    let left = suite
        .primary_admins(&customer.admin, &relationship.name)
        .await;
    assert_eq!(left.len(), 1);
    let kept = if left[0].member == ana.principal.user {
        &ana
    } else {
        &bob
    };
    let gone = if left[0].member == ana.principal.user {
        &bob
    } else {
        &ana
    };
    assert!(suite.rbac_allows(kept, &customer, 0).await);
    assert!(!suite.rbac_allows(gone, &customer, 0).await);
    suite.stop().await;
}
on_both!(
    r14_concurrent_removal_of_the_last_two_leaves_one,
    r14_concurrent_removal_of_the_last_two_leaves_one_postgres,
    case_r14_concurrent_removal_of_the_last_two_leaves_one
);

async fn case_r16_only_a_primary_admin_removes_the_customer_with_confirmation(store: Store) {
    let suite = Suite::start(store).await;
    let (customer, partner, ana, relationship) = related(&suite).await;
    let remove = |who: &Person, confirm: bool| {
        let mut client = suite.relationships();
        let request = req(
            RemoveCustomerRequest {
                name: relationship.name.clone(),
                confirm,
                etag: String::new(),
            },
            &who.context(),
        );
        async move {
            client
                .remove_customer(request)
                .await
                .map(tonic::Response::into_inner)
        }
    };
    assert_status(
        remove(&partner.admin, true).await,
        Code::PermissionDenied,
        "R16",
    );
    assert_status(remove(&ana, false).await, Code::InvalidArgument, "confirm");
    assert_status(
        remove(&customer.admin, true).await,
        Code::NotFound,
        "relationship",
    );
    assert!(
        suite.rbac_allows(&ana, &customer, 0).await,
        "the refusals changed nothing"
    );
    let done = remove(&ana, true)
        .await
        .expect("primary admin removes the customer");
    let ended = done.relationship.expect("relationship");
    assert_eq!(ended.state(), RelationshipState::Terminated);
    assert_eq!(
        ended.termination_reason(),
        relationship::TerminationReason::RemovedByPartner
    );
    assert_eq!(ended.terminated_by.expect("who").user, ana.principal.user);
    assert!(ended.terminate_time.is_some());
    assert!(!suite.rbac_allows(&ana, &customer, done.rbac_revision).await);
    suite.stop().await;
}
on_both!(
    r16_only_a_primary_admin_removes_the_customer_with_confirmation,
    r16_only_a_primary_admin_removes_the_customer_with_confirmation_postgres,
    case_r16_only_a_primary_admin_removes_the_customer_with_confirmation
);

async fn case_r17_removing_the_partner_ends_every_access_at_once(store: Store) {
    let suite = Suite::start(store).await;
    let (customer, partner, ana, relationship) = related(&suite).await;
    let bob = suite.user(&partner, "bob").await;
    let pending = suite
        .invitations()
        .invite_primary_admins(req(
            InvitePrimaryAdminsRequest {
                relationship: relationship.name.clone(),
                invited_upns: vec![bob.principal.upn.clone()],
                lifetime_days: None,
                request_id: String::new(),
            },
            &customer.admin.context(),
        ))
        .await
        .expect("invite")
        .into_inner()
        .invitations;
    let refused = suite
        .relationships()
        .remove_partner(req(
            RemovePartnerRequest {
                name: relationship.name.clone(),
                confirm: false,
                etag: String::new(),
            },
            &customer.admin.context(),
        ))
        .await;
    assert_status(refused, Code::InvalidArgument, "confirm");
    let done = suite
        .relationships()
        .remove_partner(req(
            RemovePartnerRequest {
                name: relationship.name.clone(),
                confirm: true,
                etag: relationship.etag.clone(),
            },
            &customer.admin.context(),
        ))
        .await
        .expect("remove partner")
        .into_inner();
    let ended = done.relationship.expect("relationship");
    assert_eq!(ended.state(), RelationshipState::Terminated);
    assert_eq!(
        ended.terminated_by.expect("who").user,
        customer.admin.principal.user
    );
    assert!(
        !suite.rbac_allows(&ana, &customer, done.rbac_revision).await,
        "R17: access stops at once"
    );
    assert_status(
        get(&suite, &ana, &relationship.name).await,
        Code::NotFound,
        "relationship",
    );
    assert_status(
        suite.accept(&bob, &pending[0].name).await,
        Code::FailedPrecondition,
        "WITHDRAWN",
    );
    let again = suite.relate(&customer, &partner, &ana).await;
    assert_ne!(
        again.name, relationship.name,
        "a new relationship after termination, never reused"
    );
    suite.stop().await;
}
on_both!(
    r17_removing_the_partner_ends_every_access_at_once,
    r17_removing_the_partner_ends_every_access_at_once_postgres,
    case_r17_removing_the_partner_ends_every_access_at_once
);

async fn case_r18_customer_changes_scope_and_partner_managers_see_only_its_size(store: Store) {
    let suite = Suite::start(store).await;
    let (customer, partner, ana, relationship) = related(&suite).await;
    let narrowed = suite
        .relationships()
        .update_relationship_scope(req(
            UpdateRelationshipScopeRequest {
                name: relationship.name.clone(),
                room_scope: Some(RoomScope {
                    rooms: vec!["customers/contoso/rooms/nowhere".into()],
                    ..Default::default()
                }),
                etag: relationship.etag.clone(),
            },
            &customer.admin.context(),
        ))
        .await;
    assert_status(narrowed, Code::InvalidArgument, "room_scope.rooms[0]");
    let stale = suite
        .relationships()
        .update_relationship_scope(req(
            UpdateRelationshipScopeRequest {
                name: relationship.name.clone(),
                room_scope: Some(RoomScope {
                    all_rooms: true,
                    ..Default::default()
                }),
                etag: "\"999\"".into(),
            },
            &customer.admin.context(),
        ))
        .await;
    assert_status(stale, Code::Aborted, "");
    let as_manager = get(&suite, &partner.admin, &relationship.name)
        .await
        .expect("summary view");
    assert!(
        as_manager.room_scope.is_none(),
        "R6: no scope without a role at the customer"
    );
    assert!(as_manager.scope_summary.expect("summary").all_rooms);
    let as_admin = get(&suite, &ana, &relationship.name)
        .await
        .expect("full view");
    assert!(as_admin.room_scope.expect("scope").all_rooms);
    suite.stop().await;
}
on_both!(
    r18_customer_changes_scope_and_partner_managers_see_only_its_size,
    r18_customer_changes_scope_and_partner_managers_see_only_its_size_postgres,
    case_r18_customer_changes_scope_and_partner_managers_see_only_its_size
);

async fn case_r29_customer_sets_change_control_per_event_type(store: Store) {
    let suite = Suite::start(store).await;
    let (customer, _partner, ana, relationship) = related(&suite).await;
    let policy = ChangeControlPolicy {
        settings: vec![ChangeControlSetting {
            event_type: ChangeControlEventType::RoomModify.into(),
            mode: ChangeControlMode::ManualApproval.into(),
        }],
    };
    let updated = suite
        .relationships()
        .update_change_control(req(
            UpdateChangeControlRequest {
                name: relationship.name.clone(),
                change_control: Some(policy.clone()),
                etag: String::new(),
            },
            &customer.admin.context(),
        ))
        .await
        .expect("update")
        .into_inner()
        .relationship
        .expect("relationship");
    assert_eq!(updated.change_control, Some(policy.clone()));
    let twice = ChangeControlPolicy {
        settings: vec![policy.settings[0], policy.settings[0]],
    };
    let refused = suite
        .relationships()
        .update_change_control(req(
            UpdateChangeControlRequest {
                name: relationship.name.clone(),
                change_control: Some(twice),
                etag: String::new(),
            },
            &customer.admin.context(),
        ))
        .await;
    assert_status(refused, Code::InvalidArgument, "change_control.settings[1]");
    let by_partner = suite
        .relationships()
        .update_change_control(req(
            UpdateChangeControlRequest {
                name: relationship.name.clone(),
                change_control: Some(ChangeControlPolicy::default()),
                etag: String::new(),
            },
            &ana.context(),
        ))
        .await;
    assert_status(by_partner, Code::NotFound, "relationship");
    suite.stop().await;
}
on_both!(
    r29_customer_sets_change_control_per_event_type,
    r29_customer_sets_change_control_per_event_type_postgres,
    case_r29_customer_sets_change_control_per_event_type
);

async fn case_r30_end_time_expires_and_renewal_restores(store: Store) {
    let suite = Suite::start(store).await;
    let (customer, partner, ana, relationship) = related(&suite).await;
    let past = prost_types::Timestamp {
        seconds: 1,
        nanos: 0,
    };
    let refused = suite
        .relationships()
        .set_relationship_end_time(req(
            SetRelationshipEndTimeRequest {
                name: relationship.name.clone(),
                end_time: Some(past),
                etag: String::new(),
            },
            &customer.admin.context(),
        ))
        .await;
    assert_status(refused, Code::InvalidArgument, "end_time");
    let soon = prost_types::Timestamp::from(
        std::time::SystemTime::now() + std::time::Duration::from_secs(3600),
    );
    let set = suite
        .relationships()
        .set_relationship_end_time(req(
            SetRelationshipEndTimeRequest {
                name: relationship.name.clone(),
                end_time: Some(soon),
                etag: String::new(),
            },
            &customer.admin.context(),
        ))
        .await
        .expect("set end")
        .into_inner();
    assert_eq!(
        set.relationship.expect("rel").end_time.map(|t| t.seconds),
        Some(soon.seconds)
    );
    crate::support::end_relationship_now(&suite, &relationship.name).await;
    let expired = get(&suite, &customer.admin, &relationship.name)
        .await
        .expect("get");
    assert_eq!(expired.state(), RelationshipState::Expired);
    assert!(
        !suite.rbac_allows(&ana, &customer, 0).await,
        "R30: an expired relationship grants nothing"
    );
    let bob = suite.user(&partner, "bob").await;
    let more = suite
        .invitations()
        .invite_primary_admins(req(
            InvitePrimaryAdminsRequest {
                relationship: relationship.name.clone(),
                invited_upns: vec![bob.principal.upn.clone()],
                lifetime_days: None,
                request_id: String::new(),
            },
            &customer.admin.context(),
        ))
        .await;
    assert_status(more, Code::FailedPrecondition, "ACTIVE");
    let renewed = suite
        .relationships()
        .renew_relationship(req(
            RenewRelationshipRequest {
                name: relationship.name.clone(),
                end_time: None,
                etag: String::new(),
            },
            &customer.admin.context(),
        ))
        .await
        .expect("renew")
        .into_inner();
    assert_eq!(
        renewed.relationship.expect("rel").state(),
        RelationshipState::Active
    );
    assert!(
        suite
            .rbac_allows(&ana, &customer, renewed.rbac_revision)
            .await
    );
    suite.stop().await;
}
on_both!(
    r30_end_time_expires_and_renewal_restores,
    r30_end_time_expires_and_renewal_restores_postgres,
    case_r30_end_time_expires_and_renewal_restores
);

async fn case_r18_narrowing_the_scope_clips_partner_access_at_once(store: Store) {
    let suite = Suite::start(store).await;
    let (customer, _partner, ana, relationship) = related(&suite).await;
    let all = suite.rbac_scope(&ana, &customer, 0).await.expect("scope");
    assert!(all.all_rooms);
    let hq = suite.room_group(&customer, "hq").await;
    let narrowed = suite
        .relationships()
        .update_relationship_scope(req(
            UpdateRelationshipScopeRequest {
                name: relationship.name.clone(),
                room_scope: Some(RoomScope {
                    room_groups: vec![hq.clone()],
                    ..Default::default()
                }),
                etag: String::new(),
            },
            &customer.admin.context(),
        ))
        .await
        .expect("narrow")
        .into_inner();
    let relationship_now = narrowed.relationship.expect("relationship");
    assert_eq!(
        relationship_now
            .scope_summary
            .expect("summary")
            .room_group_count,
        1
    );
    let clipped = suite
        .rbac_scope(&ana, &customer, narrowed.rbac_revision)
        .await
        .expect("scope");
    assert!(
        !clipped.all_rooms,
        "R18: narrowing takes effect before the call returns"
    );
    assert_eq!(clipped.room_groups, vec![hq]);
    let widened = suite
        .relationships()
        .update_relationship_scope(req(
            UpdateRelationshipScopeRequest {
                name: relationship.name.clone(),
                room_scope: Some(RoomScope {
                    all_rooms: true,
                    ..Default::default()
                }),
                etag: relationship_now.etag,
            },
            &customer.admin.context(),
        ))
        .await
        .expect("widen")
        .into_inner();
    let back = suite
        .rbac_scope(&ana, &customer, widened.rbac_revision)
        .await
        .expect("scope");
    assert!(back.all_rooms);
    suite.stop().await;
}
on_both!(
    r18_narrowing_the_scope_clips_partner_access_at_once,
    r18_narrowing_the_scope_clips_partner_access_at_once_postgres,
    case_r18_narrowing_the_scope_clips_partner_access_at_once
);
