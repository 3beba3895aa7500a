//! What the caller hears when input is bad: domains are checked up front (ASCII DNS names only,
//! so a look-alike letter of another script is refused, not mapped), and a refusal by
//! identity-svc, rbac-svc or rooms-svc reaches the caller with its own code and the caller's
//! field names, never as INTERNAL.

use mtm_proto::mtm::common::v1::{RoomScope, TenantKind};
use mtm_proto::mtm::tenancy::v1::*;
use tenancy_svc::service::{Caller, lookup};
use tenancy_svc::store::encode;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::support::{Store, Suite, invitation_request, req};

fn violated(status: &Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// Look-alikes of `fabrikam.example` and other domains that are not ASCII DNS names.
const NOT_DOMAINS: &[&str] = &[
    "f\u{0430}brikam.example",               // Cyrillic a
    "\u{ff46}\u{ff41}\u{ff42}rikam.example", // fullwidth f, a, b
    "fabrikam.example\u{0}",                 // NUL
    "fabri\u{200b}kam.example",              // zero-width space
    "fabrikam.\u{0435}xample",               // Cyrillic e in the TLD
    "fabrikam..example",                     // empty label
    "-fabrikam.example",                     // leading hyphen
    "fabrikam_example",                      // no dot
];

async fn case_look_alike_domains_are_invalid_arguments_naming_the_field(store: Store) {
    let suite = Suite::start(store).await;
    let customer = suite.customer("contoso").await;
    let partner = suite.partner("fabrikam").await;
    let ana = suite.user(&partner, "ana").await;
    for domain in NOT_DOMAINS {
        let mut request = invitation_request(
            &customer,
            &partner,
            std::slice::from_ref(&ana.principal.upn),
        );
        request.partner_domain = (*domain).to_owned();
        let refused = suite
            .invitations()
            .create_invitation(req(request, &customer.admin.context()))
            .await
            .expect_err("not a domain");
        assert_eq!(
            refused.code(),
            Code::InvalidArgument,
            "{domain:?}: {refused:?}"
        );
        assert_eq!(violated(&refused), ["partner_domain"], "{domain:?}");
        let mut request = invitation_request(&customer, &partner, &[format!("ana@{domain}")]);
        request.partner_domain = partner.domain.clone();
        let refused = suite
            .invitations()
            .create_invitation(req(request, &customer.admin.context()))
            .await
            .expect_err("not a UPN");
        assert_eq!(
            refused.code(),
            Code::InvalidArgument,
            "{domain:?}: {refused:?}"
        );
        assert_eq!(violated(&refused), ["invited_upns[0]"], "{domain:?}");
        let refused = suite
            .tenants()
            .create_tenant(req(
                CreateTenantRequest {
                    tenant: Some(Tenant {
                        display_name: "Look-alike Ltd".into(),
                        kind: TenantKind::Partner.into(),
                        ..Default::default()
                    }),
                    tenant_id: "lookalike".into(),
                    domains: vec![(*domain).to_owned()],
                    first_admin_upn: format!("admin@{domain}"),
                    first_admin_display_name: "Admin".into(),
                    first_admin_password: "correct horse battery".into(),
                    request_id: String::new(),
                },
                &Suite::operator(),
            ))
            .await
            .expect_err("not a domain");
        assert_eq!(
            refused.code(),
            Code::InvalidArgument,
            "{domain:?}: {refused:?}"
        );
        assert!(
            violated(&refused).contains(&"domains[0]".to_owned()),
            "{domain:?}: {refused:?}"
        );
    }
    // The ASCII (punycode) form of an internationalised name is a domain; nobody holds it.
    let mut request = invitation_request(
        &customer,
        &partner,
        std::slice::from_ref(&ana.principal.upn),
    );
    request.partner_domain = "xn--fbrikam-3ve.example".into();
    let unknown = suite
        .invitations()
        .create_invitation(req(request, &customer.admin.context()))
        .await
        .expect_err("nobody holds it");
    assert_eq!(unknown.code(), Code::InvalidArgument);
    assert_eq!(violated(&unknown), ["partner_domain"]);
    assert!(unknown.message().contains("no tenant holds"), "{unknown:?}");
    suite.stop().await;
}
on_both!(
    look_alike_domains_are_invalid_arguments_naming_the_field,
    look_alike_domains_are_invalid_arguments_naming_the_field_postgres,
    case_look_alike_domains_are_invalid_arguments_naming_the_field
);

async fn case_refusals_of_other_services_keep_their_code_and_name_the_callers_field(store: Store) {
    let suite = Suite::start(store).await;
    let customer = suite.customer("contoso").await;
    let partner = suite.partner("fabrikam").await;
    let ana = suite.user(&partner, "ana").await;
    let relationship = suite.relate(&customer, &partner, &ana).await;
    let state = suite.state().await;
    // identity-svc: INVALID_ARGUMENT on its `domain_name` is the caller's `partner_domain`.
    let refused = lookup::resolve_domain(&state, "f\u{0430}brikam.example", "partner_domain")
        .await
        .expect_err("identity-svc refuses");
    let refused = Status::from(refused);
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert_eq!(violated(&refused), ["partner_domain"]);
    // rooms-svc: NOT_FOUND for a customer without a store stays NOT_FOUND.
    let all = RoomScope {
        all_rooms: true,
        ..Default::default()
    };
    let missing = lookup::room_scope(&state, "nobody", &all, "room_scope")
        .await
        .expect_err("no store");
    assert_eq!(Status::from(missing).code(), Code::NotFound);
    // rbac-svc: INVALID_ARGUMENT on its `scope` is the caller's `room_scope`.
    let id = relationship.name.rsplit('/').next().expect("id");
    let row = tenancy_svc::store::relationships::get(&state.db, "contoso", id)
        .await
        .expect("read")
        .expect("stored");
    let mut foreign = row.clone();
    foreign.room_scope = encode(&RoomScope {
        room_groups: vec!["customers/woodgrove/roomGroups/berlin".into()],
        ..Default::default()
    });
    let refused = tenancy_svc::sync::push_with(&state, &Caller::system(), &state.db, &foreign)
        .await
        .expect_err("rbac-svc refuses");
    let refused = Status::from(refused);
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert_eq!(violated(&refused), ["room_scope.room_groups[0]"]);
    // rbac-svc: FAILED_PRECONDITION (a customer it does not know) stays FAILED_PRECONDITION.
    let mut unknown = row;
    unknown.customer_id = "ghost".into();
    let refused = tenancy_svc::sync::push_with(&state, &Caller::system(), &state.db, &unknown)
        .await
        .expect_err("rbac-svc refuses");
    assert_eq!(Status::from(refused).code(), Code::FailedPrecondition);
    suite.stop().await;
}
on_both!(
    refusals_of_other_services_keep_their_code_and_name_the_callers_field,
    refusals_of_other_services_keep_their_code_and_name_the_callers_field_postgres,
    case_refusals_of_other_services_keep_their_code_and_name_the_callers_field
);
