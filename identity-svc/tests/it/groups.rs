//! Security groups, nesting and R2: membership resolved at request time.

use mtm_proto::mtm::common::v1::{DirectoryRole, Principal};
use mtm_proto::mtm::identity::v1::{
    AddGroupMemberRequest, CreateGroupRequest, DeleteGroupRequest, GrantDirectoryRoleRequest,
    Group, ListGroupMembersRequest, ListGroupsRequest, MemberKind, RemoveGroupMemberRequest,
    UpdateUserRequest, User,
};
use tonic::Code;

use crate::on_both_stores;
use crate::support::{Harness, Store, admin_of, as_principal, assert_code};

async fn create_group(h: &Harness, admin: &Principal, tenant: &str, id: &str) -> Group {
    h.directory()
        .create_group(as_principal(
            CreateGroupRequest {
                parent: format!("tenants/{tenant}"),
                group: Some(Group {
                    display_name: format!("Group {id}"),
                    description: "test".into(),
                    ..Default::default()
                }),
                group_id: id.into(),
                request_id: String::new(),
            },
            admin.clone(),
        ))
        .await
        .expect("create group")
        .into_inner()
        .group
        .expect("group")
}

async fn add(
    h: &Harness,
    admin: &Principal,
    group: &str,
    member: &str,
) -> Result<(), tonic::Status> {
    h.directory()
        .add_group_member(as_principal(
            AddGroupMemberRequest {
                group: group.into(),
                member: member.into(),
            },
            admin.clone(),
        ))
        .await
        .map(|_| ())
}

async fn r2_removal_from_group_counts_on_next_request_on(store: Store) {
    let h = Harness::start(store).await;
    let created = h.create_tenant("contoso", "contoso.com").await;
    let admin = admin_of(&created);
    let ana = h
        .create_user(&admin, "contoso", "ana", "contoso.com", "ana-password-123")
        .await;
    let outer = create_group(&h, &admin, "contoso", "tenant-managers").await;
    let inner = create_group(&h, &admin, "contoso", "helpdesk").await;
    add(&h, &admin, &outer.name, &inner.name)
        .await
        .expect("nest");
    add(&h, &admin, &inner.name, &ana.name).await.expect("add");
    add(&h, &admin, &inner.name, &ana.name)
        .await
        .expect("adding again is a no-op");

    let groups = |r: mtm_proto::mtm::identity::v1::ResolvePrincipalResponse| {
        r.principal.expect("principal").groups
    };
    let mut expected = vec![inner.name.clone(), outer.name.clone()];
    expected.sort();
    assert_eq!(
        groups(h.resolve(&ana.name).await.expect("resolve")),
        expected
    );
    // Resolved twice: the second answer may come from the cache.
    assert_eq!(
        groups(h.resolve(&ana.name).await.expect("resolve")),
        expected
    );

    h.directory()
        .remove_group_member(as_principal(
            RemoveGroupMemberRequest {
                group: inner.name.clone(),
                member: ana.name.clone(),
            },
            admin.clone(),
        ))
        .await
        .expect("remove");
    assert!(groups(h.resolve(&ana.name).await.expect("resolve")).is_empty());
    assert_code(
        h.directory()
            .remove_group_member(as_principal(
                RemoveGroupMemberRequest {
                    group: inner.name.clone(),
                    member: ana.name.clone(),
                },
                admin.clone(),
            ))
            .await,
        Code::NotFound,
    );

    // Nested removal: ana in inner again, then inner leaves outer.
    add(&h, &admin, &inner.name, &ana.name).await.expect("add");
    assert_eq!(
        groups(h.resolve(&ana.name).await.expect("resolve")),
        expected
    );
    h.directory()
        .delete_group(as_principal(
            DeleteGroupRequest {
                name: outer.name.clone(),
                etag: String::new(),
            },
            admin.clone(),
        ))
        .await
        .expect("delete outer");
    assert_eq!(
        groups(h.resolve(&ana.name).await.expect("resolve")),
        vec![inner.name]
    );
    h.stop().await;
}
on_both_stores!(
    r2_removal_from_group_counts_on_next_request,
    r2_removal_from_group_counts_on_next_request_postgres,
    r2_removal_from_group_counts_on_next_request_on
);

async fn r2_roles_and_enabled_flag_count_on_next_request_on(store: Store) {
    let h = Harness::start(store).await;
    let created = h.create_tenant("contoso", "contoso.com").await;
    let admin = admin_of(&created);
    let ana = h
        .create_user(&admin, "contoso", "ana", "contoso.com", "ana-password-123")
        .await;
    let first = h.resolve(&ana.name).await.expect("resolve");
    assert!(first.enabled);
    assert!(
        first
            .principal
            .expect("principal")
            .directory_roles
            .is_empty()
    );
    h.directory()
        .grant_directory_role(as_principal(
            GrantDirectoryRoleRequest {
                user: ana.name.clone(),
                role: DirectoryRole::ManagedServiceAdmin as i32,
            },
            admin.clone(),
        ))
        .await
        .expect("grant");
    let granted = h.resolve(&ana.name).await.expect("resolve");
    assert_eq!(
        granted.principal.expect("principal").directory_roles,
        [DirectoryRole::ManagedServiceAdmin as i32]
    );
    h.directory()
        .update_user(as_principal(
            UpdateUserRequest {
                user: Some(User {
                    name: ana.name.clone(),
                    enabled: false,
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["enabled".into()],
                }),
            },
            admin.clone(),
        ))
        .await
        .expect("disable");
    assert!(!h.resolve(&ana.name).await.expect("resolve").enabled);
    assert_code(
        h.sign_in("ana@contoso.com", "ana-password-123").await,
        Code::Unauthenticated,
    );
    h.stop().await;
}
on_both_stores!(
    r2_roles_and_enabled_flag_count_on_next_request,
    r2_roles_and_enabled_flag_count_on_next_request_postgres,
    r2_roles_and_enabled_flag_count_on_next_request_on
);

async fn group_cycles_are_refused_naming_the_member_on(store: Store) {
    let h = Harness::start(store).await;
    let created = h.create_tenant("contoso", "contoso.com").await;
    let admin = admin_of(&created);
    let g1 = create_group(&h, &admin, "contoso", "g1").await;
    let g2 = create_group(&h, &admin, "contoso", "g2").await;
    let g3 = create_group(&h, &admin, "contoso", "g3").await;
    add(&h, &admin, &g1.name, &g2.name).await.expect("g2 in g1");
    add(&h, &admin, &g2.name, &g3.name).await.expect("g3 in g2");
    for (group, member) in [(&g3, &g1), (&g1, &g1), (&g3, &g2)] {
        let status = add(&h, &admin, &group.name, &member.name)
            .await
            .expect_err("cycle");
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert!(status.message().contains(&member.name), "{status:?}");
    }
    let ana = h
        .create_user(&admin, "contoso", "ana", "contoso.com", "ana-password-123")
        .await;
    add(&h, &admin, &g3.name, &ana.name)
        .await
        .expect("ana in g3");
    add(&h, &admin, &g1.name, &ana.name)
        .await
        .expect("ana in g1");
    let members = h
        .directory()
        .list_group_members(as_principal(
            ListGroupMembersRequest {
                group: g1.name.clone(),
                transitive: true,
                ..Default::default()
            },
            admin.clone(),
        ))
        .await
        .expect("list")
        .into_inner()
        .members;
    let summary: Vec<(String, i32, bool)> = members
        .iter()
        .map(|m| (m.member.clone(), m.kind, m.direct))
        .collect();
    let user = MemberKind::User as i32;
    let group = MemberKind::Group as i32;
    assert_eq!(
        summary,
        [
            (ana.name.clone(), user, true),
            (g2.name.clone(), group, true),
            (g3.name.clone(), group, false),
        ]
    );
    let users_only = h
        .directory()
        .list_group_members(as_principal(
            ListGroupMembersRequest {
                group: g2.name.clone(),
                transitive: true,
                filter: "kind = \"USER\"".into(),
                ..Default::default()
            },
            admin.clone(),
        ))
        .await
        .expect("list")
        .into_inner()
        .members;
    assert_eq!(users_only.len(), 1);
    assert!(!users_only[0].direct);
    let containing = h
        .directory()
        .list_groups(as_principal(
            ListGroupsRequest {
                parent: "tenants/contoso".into(),
                filter: format!("member = \"{}\"", ana.name),
                ..Default::default()
            },
            admin.clone(),
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(containing.total_size, 2);
    h.stop().await;
}
on_both_stores!(
    group_cycles_are_refused_naming_the_member,
    group_cycles_are_refused_naming_the_member_postgres,
    group_cycles_are_refused_naming_the_member_on
);

async fn members_of_another_tenant_are_not_found_on(store: Store) {
    let h = Harness::start(store).await;
    let contoso = admin_of(&h.create_tenant("contoso", "contoso.com").await);
    let fabrikam = h.create_tenant("fabrikam", "fabrikam.com").await;
    let group = create_group(&h, &contoso, "contoso", "g1").await;
    assert_code(
        add(&h, &contoso, &group.name, &fabrikam.first_admin_user).await,
        Code::NotFound,
    );
    assert_code(
        add(
            &h,
            &admin_of(&fabrikam),
            &group.name,
            &fabrikam.first_admin_user,
        )
        .await,
        Code::NotFound,
    );
    h.stop().await;
}
on_both_stores!(
    members_of_another_tenant_are_not_found,
    members_of_another_tenant_are_not_found_postgres,
    members_of_another_tenant_are_not_found_on
);

async fn r2_removal_from_group_counts_on_next_request_on_another_replica_on(store: Store) {
    use mtm_proto::mtm::identity::v1::ResolvePrincipalRequest;
    use mtm_proto::mtm::identity::v1::principal_internal_service_client::PrincipalInternalServiceClient;
    use mtm_proto::mtm::identity::v1::resolve_principal_request::UserRef;

    let h = Harness::start(store).await;
    let created = h.create_tenant("contoso", "contoso.com").await;
    let admin = admin_of(&created);
    let ana = h
        .create_user(&admin, "contoso", "ana", "contoso.com", "ana-password-123")
        .await;
    let group = create_group(&h, &admin, "contoso", "helpdesk").await;
    add(&h, &admin, &group.name, &ana.name).await.expect("add");
    let (replica, channel) = h.start_replica().await;
    let mut other = PrincipalInternalServiceClient::new(channel);
    let resolve = || ResolvePrincipalRequest {
        user_ref: Some(UserRef::User(ana.name.clone())),
    };
    for _ in 0..2 {
        let groups = other
            .resolve_principal(resolve())
            .await
            .expect("resolve")
            .into_inner()
            .principal
            .expect("principal")
            .groups;
        assert_eq!(groups, vec![group.name.clone()]);
    }
    h.directory()
        .remove_group_member(as_principal(
            RemoveGroupMemberRequest {
                group: group.name.clone(),
                member: ana.name.clone(),
            },
            admin.clone(),
        ))
        .await
        .expect("remove on the first replica");
    let groups = other
        .resolve_principal(resolve())
        .await
        .expect("resolve")
        .into_inner()
        .principal
        .expect("principal")
        .groups;
    assert!(
        groups.is_empty(),
        "the other replica still answered {groups:?}"
    );
    replica.stop().await;
    h.stop().await;
}
on_both_stores!(
    r2_removal_from_group_counts_on_next_request_on_another_replica,
    r2_removal_from_group_counts_on_next_request_on_another_replica_postgres,
    r2_removal_from_group_counts_on_next_request_on_another_replica_on
);
