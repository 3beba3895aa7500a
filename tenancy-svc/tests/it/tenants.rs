//! TenantService: creation, enrolment (R1), visibility.

use mtm_proto::mtm::common::v1::TenantKind;
use mtm_proto::mtm::tenancy::v1::partner_profile::EliteStatus;
use mtm_proto::mtm::tenancy::v1::*;
use tonic::Code;

use crate::support::{Store, Suite, assert_status, invitation_request, req};

async fn case_r1_enrolment_turns_partner_features_on_and_off(store: Store) {
    let suite = Suite::start(store).await;
    let partner = suite.tenant("fabrikam", TenantKind::Partner).await;
    let customer = suite.customer("contoso").await;
    let profile = |ctx| {
        let mut client = suite.tenants();
        async move {
            client
                .get_partner_profile(req(
                    GetPartnerProfileRequest {
                        name: "partners/fabrikam".into(),
                    },
                    &ctx,
                ))
                .await
                .expect("profile")
                .into_inner()
                .partner_profile
                .expect("profile")
        }
    };
    assert_eq!(
        profile(partner.admin.context()).await.elite_status(),
        EliteStatus::NotEnrolled
    );
    let invite = suite
        .invitations()
        .create_invitation(req(
            invitation_request(
                &customer,
                &partner,
                std::slice::from_ref(&partner.admin.principal.upn),
            ),
            &customer.admin.context(),
        ))
        .await;
    assert_status(invite, Code::FailedPrecondition, "elite");
    suite
        .tenants()
        .enroll_elite_partner(req(
            EnrollElitePartnerRequest {
                name: "partners/fabrikam".into(),
            },
            &Suite::operator(),
        ))
        .await
        .expect("enrol");
    assert_eq!(
        profile(partner.admin.context()).await.elite_status(),
        EliteStatus::Enrolled
    );
    let invited = suite
        .invite(
            &customer,
            &partner,
            std::slice::from_ref(&partner.admin.principal.upn),
        )
        .await;
    assert_eq!(invited.len(), 1);
    let refused = suite
        .tenants()
        .enroll_elite_partner(req(
            EnrollElitePartnerRequest {
                name: "partners/contoso".into(),
            },
            &Suite::operator(),
        ))
        .await;
    assert_status(refused, Code::FailedPrecondition, "partner");
    suite.stop().await;
}
on_both!(
    r1_enrolment_turns_partner_features_on_and_off,
    r1_enrolment_turns_partner_features_on_and_off_postgres,
    case_r1_enrolment_turns_partner_features_on_and_off
);

async fn case_tenants_are_the_operators_and_each_sees_only_its_own(store: Store) {
    let suite = Suite::start(store).await;
    let customer = suite.customer("contoso").await;
    let other = suite.customer("northwind").await;
    let got = suite
        .tenants()
        .get_tenant(req(
            GetTenantRequest {
                name: "tenants/contoso".into(),
            },
            &customer.admin.context(),
        ))
        .await
        .expect("own tenant")
        .into_inner()
        .tenant
        .expect("tenant");
    assert_eq!(got.state(), tenant::State::Active);
    assert!(!got.first_admin_user.is_empty());
    let foreign = suite
        .tenants()
        .get_tenant(req(
            GetTenantRequest {
                name: "tenants/northwind".into(),
            },
            &customer.admin.context(),
        ))
        .await;
    assert_status(foreign, Code::NotFound, "tenants/northwind");
    let listed = suite
        .tenants()
        .list_tenants(req(
            ListTenantsRequest {
                filter: "kind = \"CUSTOMER\"".into(),
                ..Default::default()
            },
            &Suite::operator(),
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.total_size, 2);
    let again = suite
        .tenants()
        .create_tenant(req(
            CreateTenantRequest {
                tenant: Some(Tenant {
                    display_name: "dup".into(),
                    kind: TenantKind::Customer.into(),
                    ..Default::default()
                }),
                tenant_id: other.id.clone(),
                domains: vec!["dup.example".into()],
                first_admin_upn: "a@dup.example".into(),
                first_admin_display_name: "A".into(),
                first_admin_password: "correct horse battery".into(),
                request_id: String::new(),
            },
            &Suite::operator(),
        ))
        .await;
    assert_status(again, Code::AlreadyExists, "northwind");
    suite.stop().await;
}
on_both!(
    tenants_are_the_operators_and_each_sees_only_its_own,
    tenants_are_the_operators_and_each_sees_only_its_own_postgres,
    case_tenants_are_the_operators_and_each_sees_only_its_own
);

async fn case_r17_unenrolling_a_partner_terminates_its_relationships_and_withdraws_invitations(
    store: Store,
) {
    let suite = Suite::start(store).await;
    let customer = suite.customer("contoso").await;
    let other = suite.customer("northwind").await;
    let partner = suite.partner("fabrikam").await;
    let ana = suite.user(&partner, "ana").await;
    let relationship = suite.relate(&customer, &partner, &ana).await;
    let pending = suite
        .invite(&other, &partner, std::slice::from_ref(&ana.principal.upn))
        .await;
    let refused = suite
        .tenants()
        .unenroll_elite_partner(req(
            UnenrollElitePartnerRequest {
                name: "partners/fabrikam".into(),
                confirm: false,
            },
            &Suite::operator(),
        ))
        .await;
    assert_status(refused, Code::InvalidArgument, "confirm");
    let done = suite
        .tenants()
        .unenroll_elite_partner(req(
            UnenrollElitePartnerRequest {
                name: "partners/fabrikam".into(),
                confirm: true,
            },
            &Suite::operator(),
        ))
        .await
        .expect("unenrol")
        .into_inner();
    assert_eq!(done.terminated_relationship_count, 1);
    assert_eq!(
        done.partner_profile.expect("profile").elite_status(),
        EliteStatus::NotEnrolled
    );
    assert!(!suite.rbac_allows(&ana, &customer, 0).await);
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
    assert_eq!(
        ended.termination_reason(),
        relationship::TerminationReason::PartnerUnenrolled
    );
    let withdrawn = suite
        .invitations()
        .get_invitation(req(
            GetInvitationRequest {
                name: pending[0].name.clone(),
            },
            &other.admin.context(),
        ))
        .await
        .expect("get")
        .into_inner()
        .invitation
        .expect("invitation");
    assert_eq!(withdrawn.state(), invitation::State::Withdrawn);
    suite.stop().await;
}
on_both!(
    r17_unenrolling_a_partner_terminates_its_relationships_and_withdraws_invitations,
    r17_unenrolling_a_partner_terminates_its_relationships_and_withdraws_invitations_postgres,
    case_r17_unenrolling_a_partner_terminates_its_relationships_and_withdraws_invitations
);

async fn case_r17_deleting_a_customer_ends_its_relationships_and_its_tenant(store: Store) {
    let suite = Suite::start(store).await;
    let customer = suite.customer("contoso").await;
    let partner = suite.partner("fabrikam").await;
    let ana = suite.user(&partner, "ana").await;
    suite.relate(&customer, &partner, &ana).await;
    let delete = |confirm| {
        let mut client = suite.tenants();
        let request = req(
            DeleteTenantRequest {
                name: "tenants/contoso".into(),
                confirm,
                etag: String::new(),
            },
            &Suite::operator(),
        );
        async move { client.delete_tenant(request).await }
    };
    assert_status(delete(false).await, Code::InvalidArgument, "confirm");
    delete(true).await.expect("delete");
    assert!(!suite.rbac_allows(&ana, &customer, 0).await);
    let gone = suite
        .tenants()
        .get_tenant(req(
            GetTenantRequest {
                name: "tenants/contoso".into(),
            },
            &Suite::operator(),
        ))
        .await;
    assert_status(gone, Code::NotFound, "tenants/contoso");
    let customers = suite
        .relationships()
        .list_managed_customers(req(
            ListManagedCustomersRequest {
                parent: "partners/fabrikam".into(),
                ..Default::default()
            },
            &partner.admin.context(),
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(customers.total_size, 0);
    suite.stop().await;
}
on_both!(
    r17_deleting_a_customer_ends_its_relationships_and_its_tenant,
    r17_deleting_a_customer_ends_its_relationships_and_its_tenant_postgres,
    case_r17_deleting_a_customer_ends_its_relationships_and_its_tenant
);
