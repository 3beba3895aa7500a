//! The public `mtm.rbac.v1.DecisionService` served by the gateway: every question is answered
//! about the verified caller, whatever principal the request names (R23), with rbac-svc's
//! `target_visible` passed on (R37).

use mtm_proto::mtm::common::v1::{Principal, TenantKind};
use mtm_proto::mtm::rbac::v1::decision_service_client::DecisionServiceClient;
use mtm_proto::mtm::rbac::v1::{
    BatchCheckItem, BatchCheckRequest, CheckRequest, Decision, DenyReason,
    ListAccessibleCustomersRequest, ResolveScopeRequest,
};
use tonic::Code;
use tonic::transport::Channel;

use crate::harness::calls::bearer;
use crate::harness::public::{Live, Org, Person};

fn decisions(live: &Live) -> DecisionServiceClient<Channel> {
    DecisionServiceClient::new(live.stack.public())
}

/// The principal the request claims: someone else's.
fn claimed(someone: &Person, tenant: &Org) -> Option<Principal> {
    Some(Principal {
        user: someone.user.clone(),
        upn: someone.upn.clone(),
        home_tenant: format!("tenants/{}", tenant.id),
        ..Default::default()
    })
}

async fn check(
    live: &Live,
    who: &Person,
    principal: Option<Principal>,
    customer: &Org,
    permission: &str,
) -> Decision {
    decisions(live)
        .check(bearer(
            CheckRequest {
                principal,
                customer: customer.customer(),
                permission: permission.to_owned(),
                ..Default::default()
            },
            &who.token,
        ))
        .await
        .expect("check")
        .into_inner()
        .decision
        .expect("decision")
}

#[tokio::test]
async fn r23_r37_public_decisions_are_about_the_caller_whoever_the_request_names() {
    let live = Live::start().await;
    let operator = live.operator().await;
    let partner = live.elite_partner(&operator, "fabrikam").await;
    let contoso = live
        .tenant(&operator, "contoso", TenantKind::Customer)
        .await;
    let northwind = live
        .tenant(&operator, "northwind", TenantKind::Customer)
        .await;
    let ana = live.user(&partner, "ana", "Ana").await;
    let eve = live.user(&partner, "eve", "Eve").await;
    let relationship = live.relate(&contoso, &partner, &ana).await;
    let as_ana = || claimed(&ana, &partner);

    // Ana holds Primary admins at contoso: she may read its reports.
    let anas = check(&live, &ana, None, &contoso, "reports.view").await;
    assert!(anas.allowed, "{anas:?}");
    assert_eq!(anas.partner_relationship, relationship.name);

    // Eve claiming to be Ana is answered about Eve, who holds nothing there (R37: invisible).
    let eves = check(&live, &eve, as_ana(), &contoso, "reports.view").await;
    assert!(!eves.allowed);
    assert!(!eves.target_visible);
    // So is the customer's admin claiming to be Ana: it holds MMR admin, which includes
    // settings.view, which Primary admins lack.
    let admins = check(&live, &contoso.admin, as_ana(), &contoso, "settings.view").await;
    assert!(admins.allowed, "{admins:?}");
    assert!(admins.partner_relationship.is_empty());

    // R37: Ana can see contoso but lacks settings.view there; northwind she cannot see (R23).
    let denied = check(&live, &ana, None, &contoso, "settings.view").await;
    assert!(!denied.allowed);
    assert!(denied.target_visible, "{denied:?}");
    let unseen = check(&live, &ana, None, &northwind, "reports.view").await;
    assert!(!unseen.allowed);
    assert!(!unseen.target_visible, "{unseen:?}");

    let batch = |who: &Person| {
        let request = bearer(
            BatchCheckRequest {
                principal: as_ana(),
                items: [&contoso, &northwind]
                    .into_iter()
                    .map(|customer| BatchCheckItem {
                        customer: customer.customer(),
                        permission: "reports.view".into(),
                        ..Default::default()
                    })
                    .collect(),
                at_least_revision: 0,
            },
            &who.token,
        );
        let mut client = decisions(&live);
        async move {
            client
                .batch_check(request)
                .await
                .expect("batch check")
                .into_inner()
                .decisions
                .into_iter()
                .map(|d| d.allowed)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(batch(&ana).await, [true, false]);
    assert_eq!(batch(&eve).await, [false, false]);

    let scope = |who: &Person| {
        let request = bearer(
            ResolveScopeRequest {
                principal: as_ana(),
                customer: contoso.customer(),
                permission: "rooms.view".into(),
                at_least_revision: 0,
            },
            &who.token,
        );
        let mut client = decisions(&live);
        async move {
            client
                .resolve_scope(request)
                .await
                .expect("resolve scope")
                .into_inner()
        }
    };
    let anas_scope = scope(&ana).await;
    assert!(anas_scope.allowed);
    assert!(anas_scope.scope.expect("scope").all_rooms);
    let eves_scope = scope(&eve).await;
    assert!(!eves_scope.allowed);
    assert!(!eves_scope.scope.unwrap_or_default().all_rooms);

    let accessible = |who: &Person| {
        let request = bearer(
            ListAccessibleCustomersRequest {
                principal: as_ana(),
                ..Default::default()
            },
            &who.token,
        );
        let mut client = decisions(&live);
        async move {
            client
                .list_accessible_customers(request)
                .await
                .expect("accessible customers")
                .into_inner()
                .customers
                .into_iter()
                .map(|c| c.customer)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(accessible(&ana).await, ["customers/contoso"]);
    assert!(accessible(&eve).await.is_empty());

    // The operator holds no role anywhere, whoever it claims to be.
    let operators = check(&live, &operator, as_ana(), &contoso, "reports.view").await;
    assert!(!operators.allowed);
    assert!(!operators.target_visible);
    assert_eq!(operators.deny_reason(), DenyReason::NoGrant);
    assert!(accessible(&operator).await.is_empty());

    let anonymous = decisions(&live)
        .check(CheckRequest {
            principal: as_ana(),
            customer: contoso.customer(),
            permission: "reports.view".into(),
            ..Default::default()
        })
        .await
        .expect_err("no token");
    assert_eq!(anonymous.code(), Code::Unauthenticated);

    let too_many = vec![
        BatchCheckItem {
            customer: contoso.customer(),
            permission: "rooms.view".into(),
            ..Default::default()
        };
        10_001
    ];
    let refused = decisions(&live)
        .batch_check(bearer(
            BatchCheckRequest {
                items: too_many,
                ..Default::default()
            },
            &ana.token,
        ))
        .await
        .expect_err("too many items");
    assert_eq!(refused.code(), Code::InvalidArgument);
    live.stop().await;
}
