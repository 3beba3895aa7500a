//! `AuthService`: password sign-in, tokens verified locally from the JWKS, rate limiting and
//! key rotation.

use mtm_proto::mtm::common::v1::Principal;
use mtm_proto::mtm::identity::v1::signing_key::State as KeyState;
use mtm_proto::mtm::identity::v1::{
    DeleteSigningKeyRequest, GetJwksRequest, RotateSigningKeyRequest, SignInRequest,
};
use mtm_token::{TokenError, Verifier};
use tonic::Code;

use crate::on_both_stores;
use crate::support::{
    ADMIN_PASSWORD, Harness, OPERATOR_PASSWORD, Store, as_operator, as_principal, assert_code,
};

async fn verifier(h: &Harness) -> Verifier {
    let jwks = h
        .auth()
        .get_jwks(GetJwksRequest {})
        .await
        .expect("jwks")
        .into_inner();
    assert_eq!(jwks.issuer, h.config.token_issuer);
    assert_eq!(jwks.audience, h.config.token_audience);
    Verifier::from_jwks_json(&jwks.jwks_json, &jwks.issuer, &jwks.audience, 0).expect("verifier")
}

async fn r2_sign_in_issues_a_token_naming_user_and_home_tenant_on(store: Store) {
    let h = Harness::start(store).await;
    let created = h.create_tenant("contoso", "contoso.com").await;
    let response = h
        .auth()
        .sign_in(SignInRequest {
            upn: "Admin@Contoso.COM".into(),
            password: ADMIN_PASSWORD.into(),
        })
        .await
        .expect("sign in")
        .into_inner();
    assert_eq!(response.token_type, "Bearer");
    assert_eq!(response.user, created.first_admin_user);
    assert_eq!(response.tenant, "tenants/contoso");
    let claims = verifier(&h)
        .await
        .verify(&response.access_token)
        .expect("verifies");
    assert_eq!(claims.sub, created.first_admin_user);
    assert_eq!(claims.tid, "tenants/contoso");
    assert_eq!(claims.upn, "admin@contoso.com");
    assert_eq!(claims.amr, ["pwd"]);
    assert!(!claims.operator);
    assert_eq!(
        response.expire_time.expect("expiry").seconds,
        claims.exp,
        "the response states the token's expiry"
    );
    assert_eq!(claims.exp - claims.iat, 900);
    h.stop().await;
}
on_both_stores!(
    r2_sign_in_issues_a_token_naming_user_and_home_tenant,
    r2_sign_in_issues_a_token_naming_user_and_home_tenant_postgres,
    r2_sign_in_issues_a_token_naming_user_and_home_tenant_on
);

async fn unknown_user_and_wrong_password_are_the_same_unauthenticated_on(store: Store) {
    let h = Harness::start(store).await;
    h.create_tenant("contoso", "contoso.com").await;
    let unknown = h
        .sign_in("nobody@contoso.com", ADMIN_PASSWORD)
        .await
        .expect_err("unknown user");
    let wrong = h
        .sign_in("admin@contoso.com", "wrong-password-here")
        .await
        .expect_err("wrong password");
    let malformed = h
        .sign_in("nonsense", "whatever")
        .await
        .expect_err("malformed");
    for status in [&unknown, &wrong, &malformed] {
        assert_eq!(status.code(), Code::Unauthenticated);
        assert_eq!(status.message(), unknown.message());
    }
    h.stop().await;
}
on_both_stores!(
    unknown_user_and_wrong_password_are_the_same_unauthenticated,
    unknown_user_and_wrong_password_are_the_same_unauthenticated_postgres,
    unknown_user_and_wrong_password_are_the_same_unauthenticated_on
);

async fn repeated_failures_are_rate_limited_per_upn_on(store: Store) {
    let h = Harness::start_with(store, |c| c.sign_in_max_failures = 3).await;
    h.create_tenant("contoso", "contoso.com").await;
    for _ in 0..3 {
        assert_code(
            h.sign_in("admin@contoso.com", "wrong-password-here").await,
            Code::Unauthenticated,
        );
    }
    assert_code(
        h.sign_in("ADMIN@contoso.com", ADMIN_PASSWORD).await,
        Code::ResourceExhausted,
    );
    // Another UPN is counted on its own, and unknown UPNs are limited the same way.
    for _ in 0..3 {
        assert_code(
            h.sign_in("ghost@contoso.com", "wrong-password-here").await,
            Code::Unauthenticated,
        );
    }
    assert_code(
        h.sign_in("ghost@contoso.com", "wrong-password-here").await,
        Code::ResourceExhausted,
    );
    h.stop().await;
}
on_both_stores!(
    repeated_failures_are_rate_limited_per_upn,
    repeated_failures_are_rate_limited_per_upn_postgres,
    repeated_failures_are_rate_limited_per_upn_on
);

async fn operator_signs_in_with_the_configured_password_on(store: Store) {
    let h = Harness::start(store).await;
    let response = h
        .auth()
        .sign_in(SignInRequest {
            upn: "Operator".into(),
            password: OPERATOR_PASSWORD.into(),
        })
        .await
        .expect("operator signs in")
        .into_inner();
    assert!(response.user.is_empty() && response.tenant.is_empty());
    let claims = verifier(&h)
        .await
        .verify(&response.access_token)
        .expect("verifies");
    assert!(claims.operator);
    assert_eq!(claims.sub, "operator");
    assert_code(
        h.sign_in("operator", "not-the-password").await,
        Code::Unauthenticated,
    );
    h.stop().await;
}
on_both_stores!(
    operator_signs_in_with_the_configured_password,
    operator_signs_in_with_the_configured_password_postgres,
    operator_signs_in_with_the_configured_password_on
);

async fn rotated_keys_sign_and_retired_keys_verify_until_deleted_on(store: Store) {
    let h = Harness::start(store).await;
    h.create_tenant("contoso", "contoso.com").await;
    let mut auth = h.auth();
    let old_token = h
        .sign_in("admin@contoso.com", ADMIN_PASSWORD)
        .await
        .expect("sign in");

    let non_operator = Principal {
        user: "tenants/contoso/users/x".into(),
        home_tenant: "tenants/contoso".into(),
        ..Default::default()
    };
    assert_code(
        auth.rotate_signing_key(as_principal(
            RotateSigningKeyRequest::default(),
            non_operator,
        ))
        .await,
        Code::PermissionDenied,
    );
    assert_code(
        auth.rotate_signing_key(RotateSigningKeyRequest::default())
            .await,
        Code::Unauthenticated,
    );

    let request_id = uuid::Uuid::new_v4().to_string();
    let rotation = auth
        .rotate_signing_key(as_operator(RotateSigningKeyRequest {
            request_id: request_id.clone(),
        }))
        .await
        .expect("rotate")
        .into_inner();
    let again = auth
        .rotate_signing_key(as_operator(RotateSigningKeyRequest { request_id }))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(again, rotation, "a retried rotation returns the same keys");
    let active = rotation.active_key.expect("active");
    let retired = rotation.retired_key.expect("retired");
    assert_eq!(active.state, KeyState::Active as i32);
    assert_eq!(retired.state, KeyState::Retired as i32);

    let new_token = h
        .sign_in("admin@contoso.com", ADMIN_PASSWORD)
        .await
        .expect("sign in");
    let header = jsonwebtoken_kid(&new_token);
    assert_eq!(header, active.kid, "the new key signs");
    let both = verifier(&h).await;
    both.verify(&old_token).expect("retired key still verifies");
    both.verify(&new_token).expect("active key verifies");

    assert_code(
        auth.delete_signing_key(as_operator(DeleteSigningKeyRequest {
            name: active.name.clone(),
        }))
        .await,
        Code::FailedPrecondition,
    );
    auth.delete_signing_key(as_operator(DeleteSigningKeyRequest {
        name: retired.name.clone(),
    }))
    .await
    .expect("delete retired");
    assert_code(
        auth.delete_signing_key(as_operator(DeleteSigningKeyRequest { name: retired.name }))
            .await,
        Code::NotFound,
    );
    let after = verifier(&h).await;
    assert_eq!(after.verify(&old_token), Err(TokenError::UnknownKey));
    after.verify(&new_token).expect("active key verifies");
    h.stop().await;
}
on_both_stores!(
    rotated_keys_sign_and_retired_keys_verify_until_deleted,
    rotated_keys_sign_and_retired_keys_verify_until_deleted_postgres,
    rotated_keys_sign_and_retired_keys_verify_until_deleted_on
);

fn jsonwebtoken_kid(token: &str) -> String {
    use base64::Engine;
    let header = token.split('.').next().expect("header");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .expect("base64");
    let value: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    value["kid"].as_str().expect("kid").to_owned()
}
