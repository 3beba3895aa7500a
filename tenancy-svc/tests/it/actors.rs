//! Who the audit records name (R28): partner-side actions carry the partner on the actor, and
//! rbac-svc records the person behind each change tenancy-svc makes there.

use mtm_proto::mtm::audit::v1::audit_service_client::AuditServiceClient;
use mtm_proto::mtm::audit::v1::{AuditRecord, ListAuditRecordsRequest};
use mtm_proto::mtm::common::v1::Actor;
use mtm_proto::mtm::tenancy::v1::*;
use tonic::transport::Channel;

use crate::support::{Person, Store, Suite, req};

/// Every record of `parent` in the log `client` serves, matching `filter`.
async fn records(
    mut client: AuditServiceClient<Channel>,
    who: &Person,
    parent: &str,
    filter: &str,
) -> Vec<AuditRecord> {
    client
        .list_audit_records(req(
            ListAuditRecordsRequest {
                parent: parent.to_owned(),
                page_size: 1000,
                filter: filter.to_owned(),
                ..Default::default()
            },
            &who.context(),
        ))
        .await
        .expect("list audit records")
        .into_inner()
        .audit_records
}

fn actor(record: &AuditRecord) -> Actor {
    record.actor.clone().unwrap_or_default()
}

/// Whether `log` holds `operation` done by `who` acting as partner `fabrikam` under
/// `relationship`.
fn done_as_fabrikam(
    log: &[AuditRecord],
    operation: &str,
    who: &Person,
    relationship: &str,
) -> bool {
    log.iter()
        .any(|r| r.operation == operation && as_fabrikam(&actor(r), who, relationship))
}

/// Whether `actor` is `who` acting as partner `fabrikam` under `relationship`.
fn as_fabrikam(actor: &Actor, who: &Person, relationship: &str) -> bool {
    actor.user == who.principal.user
        && actor.tenant == "tenants/fabrikam"
        && actor.partner == "partners/fabrikam"
        && actor.partner_relationship == relationship
}

const BY_FABRIKAM: &str = r#"actor.partner = "partners/fabrikam""#;

async fn case_r28_partner_side_actions_name_the_partner_on_the_actor(store: Store) {
    let suite = Suite::start(store).await;
    let customer = suite.customer("contoso").await;
    let partner = suite.partner("fabrikam").await;
    let ana = suite.user(&partner, "ana").await;
    let tom = suite.user(&partner, "tom").await;
    suite
        .managers()
        .add_tenant_manager(req(
            AddTenantManagerRequest {
                parent: "partners/fabrikam".into(),
                member: tom.principal.user.clone(),
                request_id: String::new(),
            },
            &partner.admin.context(),
        ))
        .await
        .expect("a Global admin appoints a tenant manager");
    let invited = suite
        .invite(
            &customer,
            &partner,
            std::slice::from_ref(&ana.principal.upn),
        )
        .await;
    let relationship = suite
        .accept(&tom, &invited[0].name)
        .await
        .expect("the tenant manager accepts")
        .relationship
        .expect("relationship")
        .name;

    let customer_log = records(
        suite.audit(),
        &customer.admin,
        "customers/contoso",
        BY_FABRIKAM,
    )
    .await;
    assert!(
        done_as_fabrikam(&customer_log, "accept", &tom, &relationship),
        "the tenant manager's acceptance is found by actor.partner: {customer_log:#?}"
    );
    let partner_log = records(
        suite.audit(),
        &partner.admin,
        "partners/fabrikam",
        BY_FABRIKAM,
    )
    .await;
    assert!(
        done_as_fabrikam(&partner_log, "accept", &tom, &relationship),
        "{partner_log:#?}"
    );
    assert!(
        partner_log
            .iter()
            .any(|r| r.operation == "add_tenant_manager"
                && actor(r).user == partner.admin.principal.user),
        "{partner_log:#?}"
    );
    let by_customer = records(suite.audit(), &customer.admin, "customers/contoso", "").await;
    assert!(
        by_customer
            .iter()
            .filter(|r| r.operation == "create")
            .all(|r| actor(r).partner.is_empty()),
        "the customer's own invitation names no partner: {by_customer:#?}"
    );

    suite
        .relationships()
        .remove_customer(req(
            RemoveCustomerRequest {
                name: relationship.clone(),
                confirm: true,
                etag: String::new(),
            },
            &ana.context(),
        ))
        .await
        .expect("the primary admin removes the customer");
    let ended = records(
        suite.audit(),
        &customer.admin,
        "customers/contoso",
        BY_FABRIKAM,
    )
    .await;
    assert!(
        done_as_fabrikam(&ended, "terminate", &ana, &relationship),
        "the primary admin's removal is found by actor.partner: {ended:#?}"
    );
    suite.stop().await;
}
on_both!(
    r28_partner_side_actions_name_the_partner_on_the_actor,
    r28_partner_side_actions_name_the_partner_on_the_actor_postgres,
    case_r28_partner_side_actions_name_the_partner_on_the_actor
);

async fn case_r28_rbac_records_the_person_behind_tenancys_changes(store: Store) {
    let suite = Suite::start(store).await;
    let customer = suite.customer("contoso").await;
    let partner = suite.partner("fabrikam").await;
    let ana = suite.user(&partner, "ana").await;
    let relationship = suite.relate(&customer, &partner, &ana).await.name;
    suite
        .relationships()
        .remove_partner(req(
            RemovePartnerRequest {
                name: relationship.clone(),
                confirm: true,
                etag: String::new(),
            },
            &customer.admin.context(),
        ))
        .await
        .expect("the customer removes the partner");

    let log = records(suite.rbac_audit(), &customer.admin, "customers/contoso", "").await;
    assert!(
        log.iter()
            .all(|r| actor(r).operator || !actor(r).user.is_empty()),
        "every rbac-svc record of tenancy's changes names who made them: {log:#?}"
    );
    assert!(
        log.iter()
            .any(|r| r.object_id == "customers/contoso/roles/mmr-admin"
                && r.operation == "create"
                && actor(r).operator),
        "provisioning is the operator's: {log:#?}"
    );
    let of_relationship = |operation: &str| -> Vec<Actor> {
        log.iter()
            .filter(|r| r.object_id.starts_with(&relationship) && r.operation == operation)
            .map(actor)
            .collect()
    };
    let granted = of_relationship("create");
    assert!(
        !granted.is_empty() && granted.iter().all(|a| as_fabrikam(a, &ana, &relationship)),
        "the acceptance's primary-admins role and assignment name the accepter as partner: {log:#?}"
    );
    let removed = of_relationship("delete");
    assert!(
        !removed.is_empty()
            && removed
                .iter()
                .all(|a| a.user == customer.admin.principal.user
                    && a.tenant == "tenants/contoso"
                    && a.partner.is_empty()),
        "the removal names the customer's admin: {log:#?}"
    );
    let by_partner = records(
        suite.rbac_audit(),
        &customer.admin,
        "customers/contoso",
        BY_FABRIKAM,
    )
    .await;
    assert!(
        !by_partner.is_empty()
            && by_partner
                .iter()
                .all(|r| r.object_id.starts_with(&relationship)),
        "{by_partner:#?}"
    );
    suite.stop().await;
}
on_both!(
    r28_rbac_records_the_person_behind_tenancys_changes,
    r28_rbac_records_the_person_behind_tenancys_changes_postgres,
    case_r28_rbac_records_the_person_behind_tenancys_changes
);
