//! TenantManagerService and what tenant managers may do (R4, R5, R6).

use mtm_proto::mtm::tenancy::v1::*;
use tonic::Code;

use crate::support::{Org, Person, Store, Suite, assert_status, req};

async fn add(
    suite: &Suite,
    partner: &Org,
    who: &Person,
    member: &str,
) -> Result<TenantManager, tonic::Status> {
    suite
        .managers()
        .add_tenant_manager(req(
            AddTenantManagerRequest {
                parent: format!("partners/{}", partner.id),
                member: member.to_owned(),
                request_id: String::new(),
            },
            &who.context(),
        ))
        .await
        .map(|r| r.into_inner().tenant_manager.expect("entry"))
}

async fn case_r4_only_global_or_managed_service_admins_manage_tenant_managers(store: Store) {
    let suite = Suite::start(store).await;
    let partner = suite.partner("fabrikam").await;
    let tom = suite.user(&partner, "tom").await;
    let eve = suite.user(&partner, "eve").await;
    let outsider = suite.partner("tailspin").await;
    assert_status(
        add(&suite, &partner, &tom, &eve.principal.user).await,
        Code::NotFound,
        "partners/fabrikam",
    );
    assert_status(
        add(&suite, &partner, &outsider.admin, &eve.principal.user).await,
        Code::NotFound,
        "partners/fabrikam",
    );
    let entry = add(&suite, &partner, &partner.admin, &tom.principal.user)
        .await
        .expect("admin adds");
    assert_eq!(entry.upn, tom.principal.upn);
    let again = add(&suite, &partner, &partner.admin, &tom.principal.user)
        .await
        .expect("idempotent");
    assert_eq!(again.name, entry.name);
    assert_status(
        add(&suite, &partner, &tom, &eve.principal.user).await,
        Code::PermissionDenied,
        "R4",
    );
    assert_status(
        add(
            &suite,
            &partner,
            &partner.admin,
            &outsider.admin.principal.user,
        )
        .await,
        Code::InvalidArgument,
        "member",
    );
    let listed = suite
        .managers()
        .list_tenant_managers(req(
            ListTenantManagersRequest {
                parent: "partners/fabrikam".into(),
                ..Default::default()
            },
            &tom.context(),
        ))
        .await
        .expect("tenant managers list them")
        .into_inner();
    assert_eq!(listed.total_size, 1);
    let removed = suite
        .managers()
        .remove_tenant_manager(req(
            RemoveTenantManagerRequest {
                name: entry.name.clone(),
            },
            &tom.context(),
        ))
        .await;
    assert_status(removed, Code::PermissionDenied, "R4");
    suite
        .managers()
        .remove_tenant_manager(req(
            RemoveTenantManagerRequest { name: entry.name },
            &partner.admin.context(),
        ))
        .await
        .expect("admin removes");
    suite.stop().await;
}
on_both!(
    r4_only_global_or_managed_service_admins_manage_tenant_managers,
    r4_only_global_or_managed_service_admins_manage_tenant_managers_postgres,
    case_r4_only_global_or_managed_service_admins_manage_tenant_managers
);

async fn case_r5_r6_tenant_managers_see_and_accept_but_manage_no_rooms(store: Store) {
    let suite = Suite::start(store).await;
    let customer = suite.customer("contoso").await;
    let partner = suite.partner("fabrikam").await;
    let ana = suite.user(&partner, "ana").await;
    let tom = suite.user(&partner, "tom").await;
    let invited = suite
        .invite(
            &customer,
            &partner,
            std::slice::from_ref(&ana.principal.upn),
        )
        .await;
    assert_status(
        suite.accept(&tom, &invited[0].name).await,
        Code::NotFound,
        "invitation",
    );
    add(&suite, &partner, &partner.admin, &tom.principal.user)
        .await
        .expect("add");
    let seen = suite
        .invitations()
        .list_received_invitations(req(
            ListReceivedInvitationsRequest {
                parent: "partners/fabrikam".into(),
                ..Default::default()
            },
            &tom.context(),
        ))
        .await
        .expect("R6: tenant managers see pending invitations")
        .into_inner()
        .invitations;
    assert_eq!(seen.len(), 1);
    assert!(seen[0].room_scope.is_none());
    assert_eq!(seen[0].customer_domain, "contoso.example");
    let accepted = suite
        .accept(&tom, &invited[0].name)
        .await
        .expect("R5: a tenant manager accepts");
    let relationship = accepted.relationship.expect("relationship");
    assert!(
        suite.rbac_allows(&ana, &customer, 0).await,
        "the invitee became primary admin"
    );
    assert!(
        !suite.rbac_allows(&tom, &customer, 0).await,
        "R5: the accepter manages nothing thereby"
    );
    let admins: Vec<String> = suite
        .primary_admins(&customer.admin, &relationship.name)
        .await
        .into_iter()
        .map(|p| p.upn)
        .collect();
    assert_eq!(admins, vec![ana.principal.upn.clone()]);
    suite.stop().await;
}
on_both!(
    r5_r6_tenant_managers_see_and_accept_but_manage_no_rooms,
    r5_r6_tenant_managers_see_and_accept_but_manage_no_rooms_postgres,
    case_r5_r6_tenant_managers_see_and_accept_but_manage_no_rooms
);
