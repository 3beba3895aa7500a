//! InvitationService: contents (SPEC §3), visibility (R6, R9), accept (R10, R11), decline
//! (R12), withdraw and expiry (R8), one relationship per pair (R15), never with itself (R7).

use mtm_proto::mtm::tenancy::v1::*;
use tonic::Code;

use crate::support::{Org, Person, Store, Suite, assert_status, invitation_request, req};

/// A customer and an elite partner with one extra partner user, `ana`.
async fn pair(suite: &Suite) -> (Org, Org, Person) {
    let customer = suite.customer("contoso").await;
    let partner = suite.partner("fabrikam").await;
    let ana = suite.user(&partner, "ana").await;
    (customer, partner, ana)
}

async fn count_invitations(suite: &Suite, customer: &Org) -> i32 {
    suite
        .invitations()
        .list_invitations(req(
            ListInvitationsRequest {
                parent: format!("customers/{}", customer.id),
                ..Default::default()
            },
            &customer.admin.context(),
        ))
        .await
        .expect("list")
        .into_inner()
        .total_size
}

async fn accept(
    suite: &Suite,
    who: &Person,
    invitation: &str,
) -> Result<AcceptInvitationResponse, tonic::Status> {
    suite
        .invitations()
        .accept_invitation(req(
            AcceptInvitationRequest {
                name: invitation.to_owned(),
                ..Default::default()
            },
            &who.context(),
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn case_bad_invitations_are_refused_naming_the_problem_and_change_nothing(store: Store) {
    let suite = Suite::start(store).await;
    let (customer, partner, ana) = pair(&suite).await;
    let upn = ana.principal.upn.clone();
    type Case = (
        &'static str,
        Box<dyn Fn(&mut CreateInvitationRequest)>,
        Code,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "lifetime 0",
            Box::new(|r| r.lifetime_days = Some(0)),
            Code::InvalidArgument,
            "lifetime_days",
        ),
        (
            "lifetime 31",
            Box::new(|r| r.lifetime_days = Some(31)),
            Code::InvalidArgument,
            "lifetime_days",
        ),
        (
            "no terms",
            Box::new(|r| r.accept_terms = false),
            Code::InvalidArgument,
            "accept_terms",
        ),
        (
            "no UPN",
            Box::new(|r| r.invited_upns.clear()),
            Code::InvalidArgument,
            "invited_upns",
        ),
        (
            "a group",
            Box::new(|r| {
                r.invited_upns
                    .push("tenants/fabrikam/groups/helpdesk".into())
            }),
            Code::InvalidArgument,
            "invited_upns[1]",
        ),
        (
            "outside the partner's domains",
            Box::new(|r| r.invited_upns = vec!["eve@elsewhere.example".into()]),
            Code::InvalidArgument,
            "invited_upns[0]",
        ),
        (
            "not a user",
            Box::new(|r| r.invited_upns = vec!["ghost@fabrikam.example".into()]),
            Code::InvalidArgument,
            "invited_upns[0]",
        ),
        (
            "empty scope",
            Box::new(|r| r.room_scope = None),
            Code::InvalidArgument,
            "room_scope",
        ),
        (
            "unknown domain",
            Box::new(|r| r.partner_domain = "nobody.example".into()),
            Code::InvalidArgument,
            "partner_domain",
        ),
    ];
    for (case, change, code, needle) in cases {
        let mut request = invitation_request(&customer, &partner, std::slice::from_ref(&upn));
        change(&mut request);
        let outcome = suite
            .invitations()
            .create_invitation(req(request, &customer.admin.context()))
            .await;
        let status = outcome.expect_err(case);
        assert_eq!(status.code(), code, "{case}: {status:?}");
        assert!(
            status.message().contains(needle),
            "{case}: {:?}",
            status.message()
        );
    }
    assert_eq!(count_invitations(&suite, &customer).await, 0);
    let records = suite
        .audit()
        .list_audit_records(req(
            mtm_proto::mtm::audit::v1::ListAuditRecordsRequest {
                parent: "customers/contoso".into(),
                page_size: 1000,
                ..Default::default()
            },
            &customer.admin.context(),
        ))
        .await
        .expect("audit")
        .into_inner()
        .audit_records;
    let failures = records
        .iter()
        .filter(|r| {
            r.operation == "create" && r.result() == mtm_proto::mtm::audit::v1::AuditResult::Failure
        })
        .count();
    assert_eq!(
        failures, 9,
        "every refused invitation is audited as a failure"
    );
    suite.stop().await;
}
on_both!(
    bad_invitations_are_refused_naming_the_problem_and_change_nothing,
    bad_invitations_are_refused_naming_the_problem_and_change_nothing_postgres,
    case_bad_invitations_are_refused_naming_the_problem_and_change_nothing
);

async fn case_r7_tenant_cannot_invite_itself(store: Store) {
    let suite = Suite::start(store).await;
    let (customer, _, _) = pair(&suite).await;
    let own = customer.admin.principal.upn.clone();
    let outcome = suite
        .invitations()
        .create_invitation(req(
            invitation_request(&customer, &customer, &[own]),
            &customer.admin.context(),
        ))
        .await;
    assert_status(outcome, Code::InvalidArgument, "partner_domain");
    assert_eq!(count_invitations(&suite, &customer).await, 0);
    suite.stop().await;
}
on_both!(
    r7_tenant_cannot_invite_itself,
    r7_tenant_cannot_invite_itself_postgres,
    case_r7_tenant_cannot_invite_itself
);

async fn case_r8_withdrawn_and_accepted_invitations_cannot_be_acted_on(store: Store) {
    let suite = Suite::start(store).await;
    let (customer, partner, ana) = pair(&suite).await;
    let invited = suite
        .invite(
            &customer,
            &partner,
            std::slice::from_ref(&ana.principal.upn),
        )
        .await;
    let name = invited[0].name.clone();
    assert_eq!(invited[0].state(), invitation::State::Pending);
    assert_eq!(invited[0].lifetime_days, 30);
    let withdrawn = suite
        .invitations()
        .withdraw_invitation(req(
            WithdrawInvitationRequest {
                name: name.clone(),
                etag: invited[0].etag.clone(),
            },
            &customer.admin.context(),
        ))
        .await
        .expect("withdraw")
        .into_inner()
        .invitation
        .expect("invitation");
    assert_eq!(withdrawn.state(), invitation::State::Withdrawn);
    assert_status(
        accept(&suite, &ana, &name).await,
        Code::FailedPrecondition,
        "WITHDRAWN",
    );
    let declined = suite
        .invitations()
        .decline_invitation(req(
            DeclineInvitationRequest {
                name: name.clone(),
                reason: String::new(),
            },
            &ana.context(),
        ))
        .await;
    assert_status(declined, Code::FailedPrecondition, "WITHDRAWN");
    let again = suite
        .invitations()
        .withdraw_invitation(req(
            WithdrawInvitationRequest {
                name,
                etag: String::new(),
            },
            &customer.admin.context(),
        ))
        .await;
    assert_status(again, Code::FailedPrecondition, "PENDING");
    suite.stop().await;
}
on_both!(
    r8_withdrawn_and_accepted_invitations_cannot_be_acted_on,
    r8_withdrawn_and_accepted_invitations_cannot_be_acted_on_postgres,
    case_r8_withdrawn_and_accepted_invitations_cannot_be_acted_on
);

async fn case_r8_expired_invitation_cannot_be_accepted(store: Store) {
    let suite = Suite::start(store).await;
    let (customer, partner, ana) = pair(&suite).await;
    let mut request = invitation_request(
        &customer,
        &partner,
        std::slice::from_ref(&ana.principal.upn),
    );
    request.lifetime_days = Some(1);
    let invited = suite
        .invitations()
        .create_invitation(req(request, &customer.admin.context()))
        .await
        .expect("create")
        .into_inner()
        .invitations;
    assert_eq!(invited[0].lifetime_days, 1);
    let id = invited[0].name.rsplit('/').next().expect("id").to_owned();
    crate::support::age_invitation(&suite, &id).await;
    let got = suite
        .invitations()
        .get_invitation(req(
            GetInvitationRequest {
                name: invited[0].name.clone(),
            },
            &ana.context(),
        ))
        .await
        .expect("get")
        .into_inner()
        .invitation
        .expect("invitation");
    assert_eq!(got.state(), invitation::State::Expired);
    assert_status(
        accept(&suite, &ana, &invited[0].name).await,
        Code::FailedPrecondition,
        "EXPIRED",
    );
    suite.stop().await;
}
on_both!(
    r8_expired_invitation_cannot_be_accepted,
    r8_expired_invitation_cannot_be_accepted_postgres,
    case_r8_expired_invitation_cannot_be_accepted
);

async fn case_r9_only_the_partners_admins_and_the_invitee_see_an_invitation(store: Store) {
    let suite = Suite::start(store).await;
    let (customer, partner, ana) = pair(&suite).await;
    let bob = suite.user(&partner, "bob").await;
    let stranger = suite.partner("tailspin").await;
    let invited = suite
        .invite(
            &customer,
            &partner,
            std::slice::from_ref(&ana.principal.upn),
        )
        .await;
    let get = |who: &Person| {
        let mut client = suite.invitations();
        let request = req(
            GetInvitationRequest {
                name: invited[0].name.clone(),
            },
            &who.context(),
        );
        async move { client.get_invitation(request).await }
    };
    let seen = get(&ana)
        .await
        .expect("invitee sees it")
        .into_inner()
        .invitation
        .expect("inv");
    assert!(
        seen.room_scope.is_none(),
        "R6: the partner side never sees the scope itself"
    );
    assert!(seen.scope_summary.expect("summary").all_rooms);
    assert_eq!(seen.customer_display_name, "contoso Ltd");
    get(&partner.admin).await.expect("global admin sees it");
    assert_status(get(&bob).await, Code::NotFound, "invitation");
    assert_status(get(&stranger.admin).await, Code::NotFound, "invitation");
    assert_status(
        accept(&suite, &bob, &invited[0].name).await,
        Code::NotFound,
        "invitation",
    );
    assert_status(
        accept(&suite, &stranger.admin, &invited[0].name).await,
        Code::NotFound,
        "invitation",
    );
    let full = get(&customer.admin)
        .await
        .expect("customer")
        .into_inner()
        .invitation
        .expect("inv");
    assert!(full.room_scope.is_some());
    let received = |who: &Person| {
        let mut client = suite.invitations();
        let request = req(
            ListReceivedInvitationsRequest {
                parent: "partners/fabrikam".into(),
                ..Default::default()
            },
            &who.context(),
        );
        async move { client.list_received_invitations(request).await }
    };
    assert_eq!(
        received(&partner.admin)
            .await
            .expect("list")
            .into_inner()
            .invitations
            .len(),
        1
    );
    assert_eq!(
        received(&bob)
            .await
            .expect("list")
            .into_inner()
            .invitations
            .len(),
        0
    );
    suite.stop().await;
}
on_both!(
    r9_only_the_partners_admins_and_the_invitee_see_an_invitation,
    r9_only_the_partners_admins_and_the_invitee_see_an_invitation_postgres,
    case_r9_only_the_partners_admins_and_the_invitee_see_an_invitation
);

async fn case_r10_r11_first_accept_creates_relationship_later_ones_join(store: Store) {
    let suite = Suite::start(store).await;
    let (customer, partner, ana) = pair(&suite).await;
    let bob = suite.user(&partner, "bob").await;
    let invited = suite
        .invite(
            &customer,
            &partner,
            &[ana.principal.upn.clone(), bob.principal.upn.clone()],
        )
        .await;
    assert_eq!(invited.len(), 2);
    let first = accept(&suite, &ana, &invited[0].name)
        .await
        .expect("ana accepts");
    assert!(first.created_relationship);
    let relationship = first.relationship.expect("relationship");
    assert_eq!(
        relationship.state(),
        mtm_proto::mtm::common::v1::RelationshipState::Active
    );
    assert_eq!(relationship.primary_admin_count, 1);
    assert!(relationship.room_scope.expect("scope").all_rooms);
    assert_eq!(
        first.invitation.expect("inv").state(),
        invitation::State::Accepted
    );
    let second = accept(&suite, &bob, &invited[1].name)
        .await
        .expect("bob accepts");
    assert!(!second.created_relationship);
    let joined = second.relationship.expect("relationship");
    assert_eq!(joined.name, relationship.name);
    assert_eq!(joined.primary_admin_count, 2);
    assert_status(
        accept(&suite, &ana, &invited[0].name).await,
        Code::FailedPrecondition,
        "ACCEPTED",
    );
    suite.stop().await;
}
on_both!(
    r10_r11_first_accept_creates_relationship_later_ones_join,
    r10_r11_first_accept_creates_relationship_later_ones_join_postgres,
    case_r10_r11_first_accept_creates_relationship_later_ones_join
);

async fn case_r11_concurrent_accepts_make_exactly_one_relationship(store: Store) {
    let suite = Suite::start(store).await;
    let customer = suite.customer("contoso").await;
    let partner = suite.partner("fabrikam").await;
    let mut people = Vec::new();
    for i in 0..50 {
        people.push(suite.user(&partner, &format!("user{i}")).await);
    }
    let upns: Vec<String> = people.iter().map(|p| p.principal.upn.clone()).collect();
    let invited = suite.invite(&customer, &partner, &upns).await;
    assert_eq!(invited.len(), 50);
    let mut tasks = tokio::task::JoinSet::new();
    for (person, invitation) in people.iter().cloned().zip(invited.iter().cloned()) {
        let mut client = suite.invitations();
        tasks.spawn(async move {
            client
                .accept_invitation(req(
                    AcceptInvitationRequest {
                        name: invitation.name,
                        ..Default::default()
                    },
                    &person.context(),
                ))
                .await
                .map(tonic::Response::into_inner)
        });
    }
    let mut created = 0;
    let mut relationships = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let answer = done.expect("task").expect("every accept succeeds");
        created += i32::from(answer.created_relationship);
        relationships.push(answer.relationship.expect("relationship").name);
    }
    relationships.sort();
    relationships.dedup();
    assert_eq!(
        created, 1,
        "exactly one acceptance created the relationship"
    );
    assert_eq!(
        relationships.len(),
        1,
        "every acceptance joined the same relationship"
    );
    let admins = crate::support::primary_admin_upns(&suite, &customer, &relationships[0]).await;
    let mut expected = upns.clone();
    expected.sort();
    assert_eq!(admins, expected, "every accepter is a primary admin");
    for person in &people {
        assert!(
            suite.rbac_allows(person, &customer, 0).await,
            "rbac-svc knows {} as a primary admin",
            person.principal.upn
        );
    }
    suite.stop().await;
}
on_both!(
    r11_concurrent_accepts_make_exactly_one_relationship,
    r11_concurrent_accepts_make_exactly_one_relationship_postgres,
    case_r11_concurrent_accepts_make_exactly_one_relationship
);

async fn case_r12_declined_invitation_is_deleted_for_good(store: Store) {
    let suite = Suite::start(store).await;
    let (customer, partner, ana) = pair(&suite).await;
    let invited = suite
        .invite(
            &customer,
            &partner,
            std::slice::from_ref(&ana.principal.upn),
        )
        .await;
    let declined = suite
        .invitations()
        .decline_invitation(req(
            DeclineInvitationRequest {
                name: invited[0].name.clone(),
                reason: "not now".into(),
            },
            &ana.context(),
        ))
        .await
        .expect("decline")
        .into_inner()
        .invitation
        .expect("invitation");
    assert_eq!(declined.state(), invitation::State::Declined);
    assert_eq!(count_invitations(&suite, &customer).await, 0);
    assert_status(
        accept(&suite, &ana, &invited[0].name).await,
        Code::NotFound,
        "invitation",
    );
    suite.stop().await;
}
on_both!(
    r12_declined_invitation_is_deleted_for_good,
    r12_declined_invitation_is_deleted_for_good_postgres,
    case_r12_declined_invitation_is_deleted_for_good
);

async fn case_r15_related_partner_cannot_be_invited_again(store: Store) {
    let suite = Suite::start(store).await;
    let (customer, partner, ana) = pair(&suite).await;
    let bob = suite.user(&partner, "bob").await;
    let invited = suite
        .invite(
            &customer,
            &partner,
            std::slice::from_ref(&ana.principal.upn),
        )
        .await;
    accept(&suite, &ana, &invited[0].name)
        .await
        .expect("accept");
    let again = suite
        .invitations()
        .create_invitation(req(
            invitation_request(
                &customer,
                &partner,
                std::slice::from_ref(&bob.principal.upn),
            ),
            &customer.admin.context(),
        ))
        .await;
    assert_status(again, Code::FailedPrecondition, "R15");
    suite.stop().await;
}
on_both!(
    r15_related_partner_cannot_be_invited_again,
    r15_related_partner_cannot_be_invited_again_postgres,
    case_r15_related_partner_cannot_be_invited_again
);

async fn case_invitations_are_idempotent_on_request_id_and_paged(store: Store) {
    let suite = Suite::start(store).await;
    let (customer, partner, ana) = pair(&suite).await;
    let bob = suite.user(&partner, "bob").await;
    let eve = suite.user(&partner, "eve").await;
    let upns = vec![
        ana.principal.upn.clone(),
        bob.principal.upn.clone(),
        eve.principal.upn.clone(),
    ];
    let mut request = invitation_request(&customer, &partner, &upns);
    request.request_id = uuid::Uuid::new_v4().to_string();
    let create = |request: CreateInvitationRequest| {
        let mut client = suite.invitations();
        let request = req(request, &customer.admin.context());
        async move {
            client
                .create_invitation(request)
                .await
                .map(|r| r.into_inner().invitations)
        }
    };
    let first = create(request.clone()).await.expect("create");
    let again = create(request.clone()).await.expect("retry");
    assert_eq!(
        first.iter().map(|i| &i.name).collect::<Vec<_>>(),
        again.iter().map(|i| &i.name).collect::<Vec<_>>()
    );
    let mut other = request.clone();
    other.invited_upns.pop();
    assert_status(create(other).await, Code::InvalidArgument, "request_id");
    let page = |token: String| {
        let mut client = suite.invitations();
        let request = req(
            ListInvitationsRequest {
                parent: "customers/contoso".into(),
                page_size: 2,
                page_token: token,
                filter: "state = \"PENDING\" AND partner = \"partners/fabrikam\"".into(),
            },
            &customer.admin.context(),
        );
        async move {
            client
                .list_invitations(request)
                .await
                .map(|r| r.into_inner())
        }
    };
    let one = page(String::new()).await.expect("page 1");
    assert_eq!((one.invitations.len(), one.total_size), (2, 3));
    let two = page(one.next_page_token).await.expect("page 2");
    assert_eq!(two.invitations.len(), 1);
    assert!(two.next_page_token.is_empty());
    assert_status(
        page("bogus".into()).await,
        Code::InvalidArgument,
        "page_token",
    );
    suite.stop().await;
}
on_both!(
    invitations_are_idempotent_on_request_id_and_paged,
    invitations_are_idempotent_on_request_id_and_paged_postgres,
    case_invitations_are_idempotent_on_request_id_and_paged
);
