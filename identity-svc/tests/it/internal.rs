//! `PrincipalInternalService`: directories created and deleted for tenancy-svc, lookups and
//! principal resolution.

use mtm_proto::mtm::common::v1::{DirectoryRole, TenantKind};
use mtm_proto::mtm::identity::v1::resolve_principal_request::UserRef;
use mtm_proto::mtm::identity::v1::{
    DeleteTenantDirectoryRequest, LookupMembersRequest, LookupUsersRequest, MemberKind,
    ResolveDomainRequest, ResolvePrincipalRequest,
};
use tonic::Code;

use crate::on_both_stores;
use crate::support::{
    ADMIN_PASSWORD, Harness, Store, assert_code, assert_invalid_field, directory_request,
};

async fn directory_creation_is_idempotent_and_resolves_domains_on(store: Store) {
    let h = Harness::start(store).await;
    let mut internal = h.internal();
    let first = h.create_tenant("fabrikam", "Fabrikam.com").await;
    let directory = first.directory.expect("directory");
    assert_eq!(directory.name, "tenants/fabrikam/directory");
    assert_eq!(directory.verified_domains, ["fabrikam.com"]);
    assert_eq!(directory.user_count, 1);
    assert!(
        first
            .first_admin_user
            .starts_with("tenants/fabrikam/users/")
    );

    let again = h.create_tenant("fabrikam", "fabrikam.com").await;
    assert_eq!(again.first_admin_user, first.first_admin_user);
    let mut different = directory_request("fabrikam", "fabrikam.com");
    different.display_name = "Another name".into();
    assert_code(
        internal.create_tenant_directory(different).await,
        Code::AlreadyExists,
    );
    assert_code(
        internal
            .create_tenant_directory(directory_request("copycat", "fabrikam.com"))
            .await,
        Code::AlreadyExists,
    );

    let resolved = internal
        .resolve_domain(ResolveDomainRequest {
            domain_name: "FABRIKAM.com".into(),
        })
        .await
        .expect("resolve")
        .into_inner();
    assert_eq!(resolved.tenant, "tenants/fabrikam");
    assert_eq!(resolved.kind, TenantKind::Customer as i32);
    assert_code(
        internal
            .resolve_domain(ResolveDomainRequest {
                domain_name: "unknown.com".into(),
            })
            .await,
        Code::NotFound,
    );
    h.stop().await;
}
on_both_stores!(
    directory_creation_is_idempotent_and_resolves_domains,
    directory_creation_is_idempotent_and_resolves_domains_postgres,
    directory_creation_is_idempotent_and_resolves_domains_on
);

async fn bad_directory_requests_name_the_field_and_write_nothing_on(store: Store) {
    let h = Harness::start(store).await;
    let mut internal = h.internal();
    let mut foreign = directory_request("adatum", "adatum.com");
    foreign.first_admin_upn = "admin@elsewhere.com".into();
    assert_invalid_field(
        internal.create_tenant_directory(foreign).await,
        "first_admin_upn",
    );
    let mut malformed = directory_request("adatum", "adatum.com");
    malformed.first_admin_upn = "not a upn".into();
    assert_invalid_field(
        internal.create_tenant_directory(malformed).await,
        "first_admin_upn",
    );
    let mut short = directory_request("adatum", "adatum.com");
    short.first_admin_password = "short".into();
    assert_invalid_field(
        internal.create_tenant_directory(short).await,
        "first_admin_password",
    );
    let mut no_kind = directory_request("adatum", "adatum.com");
    no_kind.kind = 0;
    assert_invalid_field(internal.create_tenant_directory(no_kind).await, "kind");
    assert_code(
        internal
            .resolve_domain(ResolveDomainRequest {
                domain_name: "adatum.com".into(),
            })
            .await,
        Code::NotFound,
    );
    h.stop().await;
}
on_both_stores!(
    bad_directory_requests_name_the_field_and_write_nothing,
    bad_directory_requests_name_the_field_and_write_nothing_postgres,
    bad_directory_requests_name_the_field_and_write_nothing_on
);

async fn lookups_answer_per_entry_in_order_on(store: Store) {
    let h = Harness::start(store).await;
    let mut internal = h.internal();
    let created = h.create_tenant("northwind", "northwind.com").await;
    let users = internal
        .lookup_users(LookupUsersRequest {
            upns: vec![
                "nobody@northwind.com".into(),
                "ADMIN@Northwind.com".into(),
                "garbage".into(),
            ],
        })
        .await
        .expect("lookup")
        .into_inner()
        .users;
    assert_eq!(users.len(), 3);
    assert!(!users[0].found);
    assert!(users[1].found && users[1].enabled);
    assert_eq!(users[1].upn, "ADMIN@Northwind.com");
    assert_eq!(users[1].user, created.first_admin_user);
    assert_eq!(users[1].tenant, "tenants/northwind");
    assert!(!users[2].found);

    let members = internal
        .lookup_members(LookupMembersRequest {
            names: vec![
                created.first_admin_user.clone(),
                "tenants/northwind/groups/none".into(),
            ],
        })
        .await
        .expect("lookup")
        .into_inner()
        .members;
    assert!(members[0].found);
    assert_eq!(members[0].kind, MemberKind::User as i32);
    assert_eq!(members[0].upn, "admin@northwind.com");
    assert!(!members[1].found);
    h.stop().await;
}
on_both_stores!(
    lookups_answer_per_entry_in_order,
    lookups_answer_per_entry_in_order_postgres,
    lookups_answer_per_entry_in_order_on
);

async fn r2_principal_names_home_tenant_and_roles_on(store: Store) {
    let h = Harness::start(store).await;
    let created = h.create_tenant("contoso", "contoso.com").await;
    for user_ref in [
        UserRef::User(created.first_admin_user.clone()),
        UserRef::Upn("Admin@CONTOSO.com".into()),
    ] {
        let resolved = h
            .principals()
            .resolve_principal(ResolvePrincipalRequest {
                user_ref: Some(user_ref),
            })
            .await
            .expect("resolve")
            .into_inner();
        let principal = resolved.principal.expect("principal");
        assert_eq!(principal.user, created.first_admin_user);
        assert_eq!(principal.upn, "admin@contoso.com");
        assert_eq!(principal.home_tenant, "tenants/contoso");
        assert_eq!(
            principal.directory_roles,
            [DirectoryRole::GlobalAdmin as i32]
        );
        assert!(resolved.enabled);
        assert!(!resolved.all_tickets_view_enabled);
    }
    assert_code(
        h.principals()
            .resolve_principal(ResolvePrincipalRequest {
                user_ref: Some(UserRef::User("tenants/contoso/users/nobody".into())),
            })
            .await,
        Code::NotFound,
    );
    h.stop().await;
}
on_both_stores!(
    r2_principal_names_home_tenant_and_roles,
    r2_principal_names_home_tenant_and_roles_postgres,
    r2_principal_names_home_tenant_and_roles_on
);

async fn deleted_directory_users_cannot_sign_in_or_resolve_on(store: Store) {
    let h = Harness::start(store).await;
    let mut internal = h.internal();
    let created = h.create_tenant("adatum", "adatum.com").await;
    h.sign_in("admin@adatum.com", ADMIN_PASSWORD)
        .await
        .expect("signs in");
    h.principals()
        .resolve_principal(ResolvePrincipalRequest {
            user_ref: Some(UserRef::User(created.first_admin_user.clone())),
        })
        .await
        .expect("resolves");
    for _ in 0..2 {
        internal
            .delete_tenant_directory(DeleteTenantDirectoryRequest {
                tenant: "tenants/adatum".into(),
            })
            .await
            .expect("delete is idempotent");
    }
    assert_code(
        h.sign_in("admin@adatum.com", ADMIN_PASSWORD).await,
        Code::Unauthenticated,
    );
    assert_code(
        h.principals()
            .resolve_principal(ResolvePrincipalRequest {
                user_ref: Some(UserRef::User(created.first_admin_user)),
            })
            .await,
        Code::NotFound,
    );
    // The domain is free again.
    h.create_tenant("adatum2", "adatum.com").await;
    h.stop().await;
}
on_both_stores!(
    deleted_directory_users_cannot_sign_in_or_resolve,
    deleted_directory_users_cannot_sign_in_or_resolve_postgres,
    deleted_directory_users_cannot_sign_in_or_resolve_on
);
