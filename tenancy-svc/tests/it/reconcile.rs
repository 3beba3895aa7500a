//! Reconciliation repairs cross-service work a crash left half done (ARCHITECTURE.md), and
//! TenancyInternalService answers the gateway.

use mtm_proto::mtm::common::v1::RelationshipState;
use mtm_proto::mtm::rbac::v1::RemoveRelationshipRequest;
use mtm_proto::mtm::tenancy::v1::*;

use crate::support::{Store, Suite, req};

async fn case_r17_reconciliation_finishes_a_half_done_termination_and_restores_lost_grants(
    store: Store,
) {
    let suite = Suite::start(store).await;
    let customer = suite.customer("contoso").await;
    let partner = suite.partner("fabrikam").await;
    let ana = suite.user(&partner, "ana").await;
    let relationship = suite.relate(&customer, &partner, &ana).await;
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
        .expect("active relationship")
        .into_inner()
        .relationship
        .expect("relationship");
    assert_eq!(active.name, relationship.name);
    suite
        .rbac_internal()
        .remove_relationship(RemoveRelationshipRequest {
            relationship: relationship.name.clone(),
        })
        .await
        .expect("lose the grant in rbac-svc");
    assert!(!suite.rbac_allows(&ana, &customer, 0).await);
    let done = suite
        .internal()
        .reconcile(req(ReconcileRequest::default(), &Suite::operator()))
        .await
        .expect("reconcile")
        .into_inner();
    assert!(done.relationships_synced >= 1);
    assert!(
        suite.rbac_allows(&ana, &customer, done.rbac_revision).await,
        "the grant is pushed again"
    );
    crate::support::leave_termination_half_done(&suite, &relationship.name).await;
    let done = suite
        .internal()
        .reconcile(req(
            ReconcileRequest {
                tenant: "tenants/contoso".into(),
            },
            &Suite::operator(),
        ))
        .await
        .expect("reconcile")
        .into_inner();
    assert!(!suite.rbac_allows(&ana, &customer, done.rbac_revision).await);
    let ended = suite
        .relationships()
        .get_relationship(req(
            GetRelationshipRequest {
                name: relationship.name.clone(),
            },
            &customer.admin.context(),
        ))
        .await
        .expect("get")
        .into_inner()
        .relationship
        .expect("relationship");
    assert_eq!(ended.state(), RelationshipState::Terminated);
    let names = suite
        .internal()
        .batch_get_tenants(req(
            BatchGetTenantsRequest {
                names: vec![
                    "partners/fabrikam".into(),
                    "tenants/nobody".into(),
                    "customers/contoso".into(),
                ],
            },
            &Suite::operator(),
        ))
        .await
        .expect("batch get")
        .into_inner()
        .tenants;
    let got: Vec<&str> = names.iter().map(|t| t.display_name.as_str()).collect();
    assert_eq!(got, vec!["fabrikam Ltd", "contoso Ltd"]);
    suite.stop().await;
}
on_both!(
    r17_reconciliation_finishes_a_half_done_termination_and_restores_lost_grants,
    r17_reconciliation_finishes_a_half_done_termination_and_restores_lost_grants_postgres,
    case_r17_reconciliation_finishes_a_half_done_termination_and_restores_lost_grants
);
