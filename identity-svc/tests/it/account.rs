//! A user's own account: passwords (set by the owner, reset by a Global admin), preferences
//! (R25) and deletion.

use mtm_proto::mtm::identity::v1::{
    DeleteUserRequest, GetUserPreferencesRequest, ResetUserPasswordRequest, SetUserPasswordRequest,
    UpdateUserPreferencesRequest, UserPreferences,
};
use prost_types::FieldMask;
use tonic::Code;

use crate::on_both_stores;
use crate::support::{
    ADMIN_PASSWORD, Harness, Store, admin_of, as_principal, assert_code, assert_invalid_field,
    user_principal,
};

async fn passwords_are_set_by_their_owner_or_reset_by_a_global_admin_on(store: Store) {
    let h = Harness::start(store).await;
    let admin = admin_of(&h.create_tenant("contoso", "contoso.com").await);
    let ana = h
        .create_user(&admin, "contoso", "ana", "contoso.com", "ana-password-123")
        .await;
    let bob = h
        .create_user(&admin, "contoso", "bob", "contoso.com", "bob-password-123")
        .await;
    let as_ana = user_principal("contoso", &ana.name);
    let mut directory = h.directory();
    let set = |name: &str, new: &str, current: &str| SetUserPasswordRequest {
        name: name.into(),
        new_password: new.into(),
        current_password: current.into(),
    };
    assert_invalid_field(
        directory
            .set_user_password(as_principal(
                set(&ana.name, "ana-new-password", "wrong-current"),
                as_ana.clone(),
            ))
            .await,
        "current_password",
    );
    assert_invalid_field(
        directory
            .set_user_password(as_principal(
                set(&ana.name, "short", "ana-password-123"),
                as_ana.clone(),
            ))
            .await,
        "new_password",
    );
    assert_code(
        directory
            .set_user_password(as_principal(
                set(&bob.name, "bob-new-password", ""),
                as_ana.clone(),
            ))
            .await,
        Code::PermissionDenied,
    );
    directory
        .set_user_password(as_principal(
            set(&ana.name, "ana-new-password", "ana-password-123"),
            as_ana.clone(),
        ))
        .await
        .expect("own password");
    assert_code(
        h.sign_in("ana@contoso.com", "ana-password-123").await,
        Code::Unauthenticated,
    );
    h.sign_in("ana@contoso.com", "ana-new-password")
        .await
        .expect("new password");
    let temporary = directory
        .reset_user_password(as_principal(
            ResetUserPasswordRequest {
                name: bob.name.clone(),
            },
            admin.clone(),
        ))
        .await
        .expect("reset")
        .into_inner()
        .temporary_password;
    h.sign_in("bob@contoso.com", &temporary)
        .await
        .expect("temporary password");
    h.sign_in("admin@contoso.com", ADMIN_PASSWORD)
        .await
        .expect("admin unaffected");
    h.stop().await;
}
on_both_stores!(
    passwords_are_set_by_their_owner_or_reset_by_a_global_admin,
    passwords_are_set_by_their_owner_or_reset_by_a_global_admin_postgres,
    passwords_are_set_by_their_owner_or_reset_by_a_global_admin_on
);

async fn r25_all_tickets_preference_is_the_users_own_and_reaches_the_principal_on(store: Store) {
    let h = Harness::start(store).await;
    let admin = admin_of(&h.create_tenant("contoso", "contoso.com").await);
    let ana = h
        .create_user(&admin, "contoso", "ana", "contoso.com", "ana-password-123")
        .await;
    let as_ana = user_principal("contoso", &ana.name);
    let name = format!("{}/preferences", ana.name);
    let mut directory = h.directory();
    let defaults = directory
        .get_user_preferences(as_principal(
            GetUserPreferencesRequest { name: name.clone() },
            as_ana.clone(),
        ))
        .await
        .expect("get")
        .into_inner()
        .preferences
        .expect("preferences");
    assert!(!defaults.all_tickets_view_enabled);
    assert!(
        !h.resolve(&ana.name)
            .await
            .expect("resolve")
            .all_tickets_view_enabled
    );
    let update = |etag: &str, principal| {
        as_principal(
            UpdateUserPreferencesRequest {
                preferences: Some(UserPreferences {
                    name: name.clone(),
                    all_tickets_view_enabled: true,
                    etag: etag.into(),
                    ..Default::default()
                }),
                update_mask: Some(FieldMask {
                    paths: vec!["all_tickets_view_enabled".into()],
                }),
            },
            principal,
        )
    };
    assert_code(
        directory
            .update_user_preferences(update("", admin.clone()))
            .await,
        Code::PermissionDenied,
    );
    let updated = directory
        .update_user_preferences(update(&defaults.etag, as_ana.clone()))
        .await
        .expect("update")
        .into_inner()
        .preferences
        .expect("preferences");
    assert!(updated.all_tickets_view_enabled);
    assert!(
        h.resolve(&ana.name)
            .await
            .expect("resolve")
            .all_tickets_view_enabled
    );
    assert_code(
        directory
            .update_user_preferences(update(&defaults.etag, as_ana.clone()))
            .await,
        Code::Aborted,
    );
    h.stop().await;
}
on_both_stores!(
    r25_all_tickets_preference_is_the_users_own_and_reaches_the_principal,
    r25_all_tickets_preference_is_the_users_own_and_reaches_the_principal_postgres,
    r25_all_tickets_preference_is_the_users_own_and_reaches_the_principal_on
);

async fn deleted_users_leave_groups_and_cannot_sign_in_on(store: Store) {
    let h = Harness::start(store).await;
    let admin = admin_of(&h.create_tenant("contoso", "contoso.com").await);
    let ana = h
        .create_user(&admin, "contoso", "ana", "contoso.com", "ana-password-123")
        .await;
    h.resolve(&ana.name).await.expect("resolves");
    h.directory()
        .delete_user(as_principal(
            DeleteUserRequest {
                name: ana.name.clone(),
                etag: ana.etag.clone(),
            },
            admin.clone(),
        ))
        .await
        .expect("delete");
    assert_code(h.resolve(&ana.name).await, Code::NotFound);
    assert_code(
        h.sign_in("ana@contoso.com", "ana-password-123").await,
        Code::Unauthenticated,
    );
    h.stop().await;
}
on_both_stores!(
    deleted_users_leave_groups_and_cannot_sign_in,
    deleted_users_leave_groups_and_cannot_sign_in_postgres,
    deleted_users_leave_groups_and_cannot_sign_in_on
);
