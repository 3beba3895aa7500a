//! `DirectoryService`: users and their UPN rules (§1), domains, roles, passwords,
//! preferences (R25) and who may do what (R26).

use mtm_proto::mtm::common::v1::DirectoryRole;
use mtm_proto::mtm::identity::v1::domain::State as DomainState;
use mtm_proto::mtm::identity::v1::{
    CreateDomainRequest, CreateUserRequest, DeleteDomainRequest, DeleteUserRequest,
    GetDirectoryRequest, GetUserRequest, ListDirectoryRoleHoldersRequest, ListUsersRequest,
    RevokeDirectoryRoleRequest, UpdateUserRequest, User, VerifyDomainRequest,
};
use prost_types::FieldMask;
use tonic::Code;

use crate::on_both_stores;
use crate::support::{
    Harness, Store, admin_of, as_operator, as_principal, assert_code, assert_invalid_field,
    user_principal,
};

fn new_user(tenant: &str, upn: &str) -> CreateUserRequest {
    CreateUserRequest {
        parent: format!("tenants/{tenant}"),
        user: Some(User {
            upn: upn.into(),
            display_name: "New User".into(),
            enabled: true,
            ..Default::default()
        }),
        initial_password: "new-user-password".into(),
        ..Default::default()
    }
}

async fn upns_are_unique_case_insensitive_and_in_a_verified_domain_on(store: Store) {
    let h = Harness::start(store).await;
    let contoso = admin_of(&h.create_tenant("contoso", "contoso.com").await);
    h.create_tenant("fabrikam", "fabrikam.com").await;
    let mut directory = h.directory();
    let ana = directory
        .create_user(as_principal(
            new_user("contoso", "Ana@Contoso.com"),
            contoso.clone(),
        ))
        .await
        .expect("create")
        .into_inner()
        .user
        .expect("user");
    assert_eq!(ana.upn, "ana@contoso.com");
    assert!(ana.has_password);
    assert_code(
        directory
            .create_user(as_principal(
                new_user("contoso", "ANA@contoso.COM"),
                contoso.clone(),
            ))
            .await,
        Code::AlreadyExists,
    );
    assert_invalid_field(
        directory
            .create_user(as_principal(
                new_user("contoso", "bob@fabrikam.com"),
                contoso.clone(),
            ))
            .await,
        "user.upn",
    );
    assert_invalid_field(
        directory
            .create_user(as_principal(
                new_user("contoso", "bob at contoso"),
                contoso.clone(),
            ))
            .await,
        "user.upn",
    );
    let pending = directory
        .create_domain(as_principal(
            CreateDomainRequest {
                parent: "tenants/contoso".into(),
                domain_name: "Contoso.org".into(),
                request_id: String::new(),
            },
            contoso.clone(),
        ))
        .await
        .expect("claim")
        .into_inner()
        .domain
        .expect("domain");
    assert_eq!(pending.state, DomainState::PendingVerification as i32);
    assert!(pending.verification_record.starts_with("mtm-verification="));
    assert_invalid_field(
        directory
            .create_user(as_principal(
                new_user("contoso", "bob@contoso.org"),
                contoso.clone(),
            ))
            .await,
        "user.upn",
    );
    assert_code(
        directory
            .create_domain(as_principal(
                CreateDomainRequest {
                    parent: "tenants/contoso".into(),
                    domain_name: "fabrikam.com".into(),
                    request_id: String::new(),
                },
                contoso.clone(),
            ))
            .await,
        Code::AlreadyExists,
    );
    let verified = directory
        .verify_domain(as_principal(
            VerifyDomainRequest {
                name: pending.name.clone(),
            },
            contoso.clone(),
        ))
        .await
        .expect("verify")
        .into_inner()
        .domain
        .expect("domain");
    assert_eq!(verified.state, DomainState::Verified as i32);
    directory
        .create_user(as_principal(
            new_user("contoso", "bob@contoso.org"),
            contoso.clone(),
        ))
        .await
        .expect("now allowed");
    assert_code(
        directory
            .delete_domain(as_principal(
                DeleteDomainRequest {
                    name: pending.name.clone(),
                },
                contoso.clone(),
            ))
            .await,
        Code::FailedPrecondition,
    );
    let summary = directory
        .get_directory(as_principal(
            GetDirectoryRequest {
                name: "tenants/contoso/directory".into(),
            },
            contoso.clone(),
        ))
        .await
        .expect("directory")
        .into_inner()
        .directory
        .expect("directory");
    assert_eq!(summary.user_count, 3, "refused creates wrote nothing");
    assert_eq!(summary.verified_domains, ["contoso.com", "contoso.org"]);
    h.stop().await;
}
on_both_stores!(
    upns_are_unique_case_insensitive_and_in_a_verified_domain,
    upns_are_unique_case_insensitive_and_in_a_verified_domain_postgres,
    upns_are_unique_case_insensitive_and_in_a_verified_domain_on
);

async fn r26_another_tenants_directory_is_not_found_and_writes_need_a_global_admin_on(
    store: Store,
) {
    let h = Harness::start(store).await;
    let contoso = h.create_tenant("contoso", "contoso.com").await;
    let fabrikam = admin_of(&h.create_tenant("fabrikam", "fabrikam.com").await);
    let admin = admin_of(&contoso);
    let mut directory = h.directory();
    assert_code(
        directory
            .get_user(as_principal(
                GetUserRequest {
                    name: contoso.first_admin_user.clone(),
                },
                fabrikam.clone(),
            ))
            .await,
        Code::NotFound,
    );
    assert_code(
        directory
            .get_user(as_principal(
                GetUserRequest {
                    name: "tenants/contoso/users/nobody".into(),
                },
                fabrikam.clone(),
            ))
            .await,
        Code::NotFound,
    );
    assert_code(
        directory
            .list_users(as_principal(
                ListUsersRequest {
                    parent: "tenants/contoso".into(),
                    ..Default::default()
                },
                fabrikam.clone(),
            ))
            .await,
        Code::NotFound,
    );
    let ana = h
        .create_user(&admin, "contoso", "ana", "contoso.com", "ana-password-123")
        .await;
    let as_ana = user_principal("contoso", &ana.name);
    directory
        .get_user(as_principal(
            GetUserRequest {
                name: contoso.first_admin_user.clone(),
            },
            as_ana.clone(),
        ))
        .await
        .expect("users read their directory");
    assert_code(
        directory
            .create_user(as_principal(new_user("contoso", "eve@contoso.com"), as_ana))
            .await,
        Code::PermissionDenied,
    );
    assert_code(
        directory
            .create_user(as_operator(new_user("contoso", "eve@contoso.com")))
            .await,
        Code::PermissionDenied,
    );
    assert_code(
        directory
            .create_user(tonic::Request::new(new_user("contoso", "eve@contoso.com")))
            .await,
        Code::Unauthenticated,
    );
    h.stop().await;
}
on_both_stores!(
    r26_another_tenants_directory_is_not_found_and_writes_need_a_global_admin,
    r26_another_tenants_directory_is_not_found_and_writes_need_a_global_admin_postgres,
    r26_another_tenants_directory_is_not_found_and_writes_need_a_global_admin_on
);

async fn the_last_global_admin_cannot_be_revoked_disabled_or_deleted_on(store: Store) {
    let h = Harness::start(store).await;
    let created = h.create_tenant("contoso", "contoso.com").await;
    let admin = admin_of(&created);
    let mut directory = h.directory();
    assert_code(
        directory
            .revoke_directory_role(as_principal(
                RevokeDirectoryRoleRequest {
                    user: created.first_admin_user.clone(),
                    role: DirectoryRole::GlobalAdmin as i32,
                },
                admin.clone(),
            ))
            .await,
        Code::FailedPrecondition,
    );
    assert_code(
        directory
            .update_user(as_principal(
                UpdateUserRequest {
                    user: Some(User {
                        name: created.first_admin_user.clone(),
                        enabled: false,
                        ..Default::default()
                    }),
                    update_mask: Some(FieldMask {
                        paths: vec!["enabled".into()],
                    }),
                },
                admin.clone(),
            ))
            .await,
        Code::FailedPrecondition,
    );
    assert_code(
        directory
            .delete_user(as_principal(
                DeleteUserRequest {
                    name: created.first_admin_user.clone(),
                    etag: String::new(),
                },
                admin.clone(),
            ))
            .await,
        Code::FailedPrecondition,
    );
    let holders = directory
        .list_directory_role_holders(as_principal(
            ListDirectoryRoleHoldersRequest {
                parent: "tenants/contoso".into(),
                filter: "role = \"GLOBAL_ADMIN\"".into(),
                ..Default::default()
            },
            admin.clone(),
        ))
        .await
        .expect("list")
        .into_inner()
        .holders;
    assert_eq!(holders.len(), 1);
    assert_eq!(holders[0].user, created.first_admin_user);
    h.stop().await;
}
on_both_stores!(
    the_last_global_admin_cannot_be_revoked_disabled_or_deleted,
    the_last_global_admin_cannot_be_revoked_disabled_or_deleted_postgres,
    the_last_global_admin_cannot_be_revoked_disabled_or_deleted_on
);

async fn updates_check_etags_masks_and_upn_rules_on(store: Store) {
    let h = Harness::start(store).await;
    let admin = admin_of(&h.create_tenant("contoso", "contoso.com").await);
    let ana = h
        .create_user(&admin, "contoso", "ana", "contoso.com", "ana-password-123")
        .await;
    let mut directory = h.directory();
    let update = |user: User, paths: &[&str]| {
        as_principal(
            UpdateUserRequest {
                user: Some(user),
                update_mask: Some(FieldMask {
                    paths: paths.iter().map(|p| (*p).to_owned()).collect(),
                }),
            },
            admin.clone(),
        )
    };
    let renamed = directory
        .update_user(update(
            User {
                name: ana.name.clone(),
                display_name: "Ana Lopez".into(),
                upn: "Ana.Lopez@contoso.com".into(),
                etag: ana.etag.clone(),
                ..Default::default()
            },
            &["display_name", "upn"],
        ))
        .await
        .expect("update")
        .into_inner()
        .user
        .expect("user");
    assert_eq!(renamed.upn, "ana.lopez@contoso.com");
    assert_eq!(renamed.display_name, "Ana Lopez");
    assert_ne!(renamed.etag, ana.etag);
    assert_code(
        directory
            .update_user(update(
                User {
                    name: ana.name.clone(),
                    display_name: "Stale".into(),
                    etag: ana.etag.clone(),
                    ..Default::default()
                },
                &["display_name"],
            ))
            .await,
        Code::Aborted,
    );
    assert_invalid_field(
        directory
            .update_user(update(
                User {
                    name: ana.name.clone(),
                    ..Default::default()
                },
                &["has_password"],
            ))
            .await,
        "update_mask",
    );
    assert_invalid_field(
        directory
            .update_user(update(
                User {
                    name: ana.name.clone(),
                    upn: "ana@elsewhere.com".into(),
                    ..Default::default()
                },
                &["upn"],
            ))
            .await,
        "user.upn",
    );
    h.sign_in("ana.lopez@contoso.com", "ana-password-123")
        .await
        .expect("signs in with the new UPN");
    let listed = directory
        .list_users(as_principal(
            ListUsersRequest {
                parent: "tenants/contoso".into(),
                page_size: 1,
                ..Default::default()
            },
            admin.clone(),
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.users.len(), 1);
    assert_eq!(listed.total_size, 2);
    let second = directory
        .list_users(as_principal(
            ListUsersRequest {
                parent: "tenants/contoso".into(),
                page_size: 1,
                page_token: listed.next_page_token.clone(),
                ..Default::default()
            },
            admin.clone(),
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(second.users.len(), 1);
    assert!(second.next_page_token.is_empty());
    assert_ne!(listed.users[0].name, second.users[0].name);
    assert_invalid_field(
        directory
            .list_users(as_principal(
                ListUsersRequest {
                    parent: "tenants/contoso".into(),
                    filter: "colour = \"blue\"".into(),
                    ..Default::default()
                },
                admin.clone(),
            ))
            .await,
        "filter",
    );
    h.stop().await;
}
on_both_stores!(
    updates_check_etags_masks_and_upn_rules,
    updates_check_etags_masks_and_upn_rules_postgres,
    updates_check_etags_masks_and_upn_rules_on
);

async fn creates_with_a_request_id_are_idempotent_on(store: Store) {
    let h = Harness::start(store).await;
    let admin = admin_of(&h.create_tenant("contoso", "contoso.com").await);
    let mut directory = h.directory();
    let mut request = new_user("contoso", "ana@contoso.com");
    request.request_id = uuid::Uuid::new_v4().to_string();
    let first = directory
        .create_user(as_principal(request.clone(), admin.clone()))
        .await
        .expect("create")
        .into_inner();
    let retry = directory
        .create_user(as_principal(request.clone(), admin.clone()))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(first, retry);
    let mut other = new_user("contoso", "bob@contoso.com");
    other.request_id = request.request_id.clone();
    assert_invalid_field(
        directory
            .create_user(as_principal(other, admin.clone()))
            .await,
        "request_id",
    );
    h.stop().await;
}
on_both_stores!(
    creates_with_a_request_id_are_idempotent,
    creates_with_a_request_id_are_idempotent_postgres,
    creates_with_a_request_id_are_idempotent_on
);
