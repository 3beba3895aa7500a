//! Concurrent writers: changes that read before they write (idempotency, UPN and etag checks)
//! all succeed when many run at once, instead of failing with "database is locked" when
//! SQLite cannot upgrade a reader to a writer.

use mtm_proto::mtm::identity::v1::{CreateUserRequest, UpdateUserRequest, User};
use prost_types::FieldMask;

use crate::support::{Harness, Store, admin_of, as_principal};

/// Users created at once, and existing users renamed at the same time.
const CREATES: usize = 24;
const UPDATES: usize = 8;

async fn concurrent_read_then_write_changes_all_succeed_on(store: Store) {
    let h = Harness::start(store).await;
    let admin = admin_of(&h.create_tenant("contoso", "contoso.com").await);
    let mut existing = Vec::new();
    for i in 0..UPDATES {
        let user = h
            .create_user(&admin, "contoso", &format!("old-{i}"), "contoso.com", "")
            .await;
        existing.push(user.name);
    }
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..CREATES {
        let mut directory = h.directory();
        let request = as_principal(
            CreateUserRequest {
                parent: "tenants/contoso".into(),
                user: Some(User {
                    upn: format!("new-{i}@contoso.com"),
                    display_name: format!("New {i}"),
                    enabled: true,
                    ..Default::default()
                }),
                user_id: format!("new-{i}"),
                initial_password: String::new(),
                request_id: uuid::Uuid::new_v4().to_string(),
            },
            admin.clone(),
        );
        calls.spawn(async move {
            directory
                .create_user(request)
                .await
                .map(|_| ())
                .map_err(|status| format!("create new-{i}: {status:?}"))
        });
    }
    for (i, name) in existing.into_iter().enumerate() {
        let mut directory = h.directory();
        let request = as_principal(
            UpdateUserRequest {
                user: Some(User {
                    name: name.clone(),
                    display_name: format!("Renamed {i}"),
                    ..Default::default()
                }),
                update_mask: Some(FieldMask {
                    paths: vec!["display_name".into()],
                }),
            },
            admin.clone(),
        );
        calls.spawn(async move {
            directory
                .update_user(request)
                .await
                .map(|_| ())
                .map_err(|status| format!("update {name}: {status:?}"))
        });
    }
    let failures: Vec<String> = calls
        .join_all()
        .await
        .into_iter()
        .filter_map(Result::err)
        .collect();
    assert!(
        failures.is_empty(),
        "concurrent writes failed: {failures:#?}"
    );
    let listed = h
        .directory()
        .list_users(as_principal(
            mtm_proto::mtm::identity::v1::ListUsersRequest {
                parent: "tenants/contoso".into(),
                page_size: 500,
                ..Default::default()
            },
            admin.clone(),
        ))
        .await
        .expect("list users")
        .into_inner()
        .users;
    let created = listed.iter().filter(|u| u.upn.starts_with("new-")).count();
    let renamed = listed
        .iter()
        .filter(|u| u.display_name.starts_with("Renamed "))
        .count();
    assert_eq!((created, renamed), (CREATES, UPDATES));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_read_then_write_changes_all_succeed() {
    concurrent_read_then_write_changes_all_succeed_on(Store::sqlite()).await;
}

#[cfg(feature = "postgres-tests")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_read_then_write_changes_all_succeed_postgres() {
    concurrent_read_then_write_changes_all_succeed_on(Store::postgres()).await;
}
