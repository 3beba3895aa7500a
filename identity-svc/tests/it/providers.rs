//! Own-domain identity providers (R2): a tenant trusts an external OIDC issuer whose keys the
//! test mints; its tokens sign in that tenant's users only.

use mtm_proto::mtm::common::v1::Principal;
use mtm_proto::mtm::identity::v1::{
    CreateIdentityProviderRequest, DeleteIdentityProviderRequest, ExchangeExternalTokenRequest,
    GetJwksRequest, IdentityProvider, UpdateIdentityProviderRequest,
};
use mtm_token::{KeyMaterial, Verifier, jwks_json};
use prost_types::FieldMask;
use tonic::Code;

use crate::on_both_stores;
use crate::support::{Harness, Store, admin_of, as_principal, assert_code, assert_invalid_field};

const ISSUER: &str = "https://login.contoso.com";
const AUDIENCE: &str = "mtm-app";

fn id_token(key: &KeyMaterial, upn: &str, adjust: impl FnOnce(&mut serde_json::Value)) -> String {
    let now = chrono_now();
    let mut claims = serde_json::json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "external-subject",
        "upn": upn,
        "amr": ["pwd", "mfa"],
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    });
    adjust(&mut claims);
    key.sign(&claims).expect("sign")
}

fn chrono_now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs(),
    )
    .expect("time")
}

fn provider_request(tenant: &str, key: &KeyMaterial) -> CreateIdentityProviderRequest {
    CreateIdentityProviderRequest {
        parent: format!("tenants/{tenant}"),
        identity_provider: Some(IdentityProvider {
            display_name: "Contoso sign-in".into(),
            issuer: ISSUER.into(),
            audience: AUDIENCE.into(),
            jwks_json: jwks_json([(key.kid.as_str(), key.x.as_str())]),
            ..Default::default()
        }),
        identity_provider_id: "contoso-login".into(),
        request_id: String::new(),
    }
}

async fn exchange(
    h: &Harness,
    token: String,
) -> Result<mtm_proto::mtm::identity::v1::ExchangeExternalTokenResponse, tonic::Status> {
    h.auth()
        .exchange_external_token(ExchangeExternalTokenRequest { id_token: token })
        .await
        .map(tonic::Response::into_inner)
}

async fn r2_external_issuer_signs_in_only_its_own_tenants_users_on(store: Store) {
    let h = Harness::start(store).await;
    let contoso = admin_of(&h.create_tenant("contoso", "contoso.com").await);
    let fabrikam = h.create_tenant("fabrikam", "fabrikam.com").await;
    let ana = h
        .create_user(
            &contoso,
            "contoso",
            "ana",
            "contoso.com",
            "ana-password-123",
        )
        .await;
    let key = KeyMaterial::generate();
    let provider = h
        .directory()
        .create_identity_provider(as_principal(
            provider_request("contoso", &key),
            contoso.clone(),
        ))
        .await
        .expect("trust issuer")
        .into_inner()
        .identity_provider
        .expect("provider");
    assert_eq!(
        provider.name,
        "tenants/contoso/identityProviders/contoso-login"
    );

    let exchanged = exchange(&h, id_token(&key, "ANA@contoso.com", |_| {}))
        .await
        .expect("exchange");
    assert_eq!(exchanged.user, ana.name);
    assert_eq!(exchanged.tenant, "tenants/contoso");
    assert_eq!(exchanged.identity_provider, provider.name);
    assert_eq!(exchanged.amr, ["pwd", "mfa"]);
    let jwks = h
        .auth()
        .get_jwks(GetJwksRequest {})
        .await
        .expect("jwks")
        .into_inner();
    let claims = Verifier::from_jwks_json(&jwks.jwks_json, &jwks.issuer, &jwks.audience, 0)
        .expect("verifier")
        .verify(&exchanged.access_token)
        .expect("an MTM token");
    assert_eq!(claims.sub, ana.name);
    assert_eq!(claims.amr, ["pwd", "mfa"], "MFA is carried over (R3)");

    // A user of another tenant, even when the token names it, is refused.
    assert_code(
        exchange(&h, id_token(&key, "admin@fabrikam.com", |_| {})).await,
        Code::Unauthenticated,
    );
    let _ = fabrikam;
    for bad in [
        id_token(&key, "ana@contoso.com", |c| c["aud"] = "other-app".into()),
        id_token(&key, "ana@contoso.com", |c| {
            c["exp"] = (chrono_now() - 3600).into();
            c["nbf"] = (chrono_now() - 7200).into();
        }),
        id_token(&key, "ana@contoso.com", |c| {
            c["nbf"] = (chrono_now() + 3600).into()
        }),
        id_token(&key, "nobody@contoso.com", |_| {}),
        id_token(&KeyMaterial::generate(), "ana@contoso.com", |_| {}),
        id_token(
            &KeyMaterial {
                kid: key.kid.clone(),
                ..KeyMaterial::generate()
            },
            "ana@contoso.com",
            |_| {},
        ),
        id_token(&key, "ana@contoso.com", |c| {
            c["iss"] = "https://login.evil.com".into()
        }),
        "garbage".to_owned(),
    ] {
        assert_code(exchange(&h, bad).await, Code::Unauthenticated);
    }

    // The issuer rotates its keys: the new document replaces the old.
    let rotated = KeyMaterial::generate();
    h.directory()
        .update_identity_provider(as_principal(
            UpdateIdentityProviderRequest {
                identity_provider: Some(IdentityProvider {
                    name: provider.name.clone(),
                    jwks_json: jwks_json([(rotated.kid.as_str(), rotated.x.as_str())]),
                    etag: provider.etag.clone(),
                    ..Default::default()
                }),
                update_mask: Some(FieldMask {
                    paths: vec!["jwks_json".into()],
                }),
            },
            contoso.clone(),
        ))
        .await
        .expect("update keys");
    exchange(&h, id_token(&rotated, "ana@contoso.com", |_| {}))
        .await
        .expect("new key accepted");
    assert_code(
        exchange(&h, id_token(&key, "ana@contoso.com", |_| {})).await,
        Code::Unauthenticated,
    );

    h.directory()
        .delete_identity_provider(as_principal(
            DeleteIdentityProviderRequest {
                name: provider.name.clone(),
                etag: String::new(),
            },
            contoso.clone(),
        ))
        .await
        .expect("delete");
    assert_code(
        exchange(&h, id_token(&rotated, "ana@contoso.com", |_| {})).await,
        Code::Unauthenticated,
    );
    h.stop().await;
}
on_both_stores!(
    r2_external_issuer_signs_in_only_its_own_tenants_users,
    r2_external_issuer_signs_in_only_its_own_tenants_users_postgres,
    r2_external_issuer_signs_in_only_its_own_tenants_users_on
);

async fn an_issuer_is_trusted_by_one_tenant_and_needs_a_usable_jwks_on(store: Store) {
    let h = Harness::start(store).await;
    let contoso = admin_of(&h.create_tenant("contoso", "contoso.com").await);
    let fabrikam: Principal = admin_of(&h.create_tenant("fabrikam", "fabrikam.com").await);
    let key = KeyMaterial::generate();
    h.directory()
        .create_identity_provider(as_principal(
            provider_request("contoso", &key),
            contoso.clone(),
        ))
        .await
        .expect("trust issuer");
    assert_code(
        h.directory()
            .create_identity_provider(as_principal(
                provider_request("fabrikam", &key),
                fabrikam.clone(),
            ))
            .await,
        Code::AlreadyExists,
    );
    let mut bad = provider_request("fabrikam", &key);
    if let Some(p) = bad.identity_provider.as_mut() {
        p.issuer = "https://login.fabrikam.com".into();
        p.jwks_json = r#"{"keys":[{"kty":"oct","kid":"k","k":"c2VjcmV0"}]}"#.into();
    }
    assert_invalid_field(
        h.directory()
            .create_identity_provider(as_principal(bad, fabrikam.clone()))
            .await,
        "identity_provider.jwks_json",
    );
    h.stop().await;
}
on_both_stores!(
    an_issuer_is_trusted_by_one_tenant_and_needs_a_usable_jwks,
    an_issuer_is_trusted_by_one_tenant_and_needs_a_usable_jwks_postgres,
    an_issuer_is_trusted_by_one_tenant_and_needs_a_usable_jwks_on
);

async fn issuer_urls_are_compared_in_canonical_form_on(store: Store) {
    let h = Harness::start(store).await;
    let contoso = admin_of(&h.create_tenant("contoso", "contoso.com").await);
    let fabrikam = admin_of(&h.create_tenant("fabrikam", "fabrikam.com").await);
    h.create_user(
        &contoso,
        "contoso",
        "ana",
        "contoso.com",
        "ana-password-123",
    )
    .await;
    let key = KeyMaterial::generate();
    let mut spelled = provider_request("contoso", &key);
    if let Some(p) = spelled.identity_provider.as_mut() {
        p.issuer = "HTTPS://Login.Contoso.com:443/".into();
    }
    let provider = h
        .directory()
        .create_identity_provider(as_principal(spelled, contoso.clone()))
        .await
        .expect("trust issuer")
        .into_inner()
        .identity_provider
        .expect("provider");
    assert_eq!(provider.issuer, ISSUER, "stored in canonical form");
    // Another spelling of the same issuer is the same issuer.
    for other in [ISSUER, "https://login.contoso.com/"] {
        let mut again = provider_request("fabrikam", &key);
        if let Some(p) = again.identity_provider.as_mut() {
            p.issuer = other.into();
        }
        assert_code(
            h.directory()
                .create_identity_provider(as_principal(again, fabrikam.clone()))
                .await,
            Code::AlreadyExists,
        );
    }
    let mut invalid = provider_request("fabrikam", &key);
    if let Some(p) = invalid.identity_provider.as_mut() {
        p.issuer = "login.fabrikam.com".into();
    }
    assert_invalid_field(
        h.directory()
            .create_identity_provider(as_principal(invalid, fabrikam.clone()))
            .await,
        "identity_provider.issuer",
    );
    // Tokens naming the issuer in any spelling find it.
    for iss in [
        ISSUER,
        "https://login.contoso.com/",
        "https://LOGIN.contoso.com:443",
    ] {
        let exchanged = exchange(
            &h,
            id_token(&key, "ana@contoso.com", |c| c["iss"] = iss.into()),
        )
        .await
        .expect("exchange");
        assert_eq!(exchanged.identity_provider, provider.name);
    }
    h.stop().await;
}
on_both_stores!(
    issuer_urls_are_compared_in_canonical_form,
    issuer_urls_are_compared_in_canonical_form_postgres,
    issuer_urls_are_compared_in_canonical_form_on
);

/// A token without `upn`, with `claims` added.
fn token_with(key: &KeyMaterial, claims: serde_json::Value) -> String {
    id_token(key, "", |c| {
        let object = c.as_object_mut().expect("object");
        object.remove("upn");
        for (name, value) in claims.as_object().expect("object") {
            object.insert(name.clone(), value.clone());
        }
    })
}

async fn r2_unverified_email_claims_are_refused_on(store: Store) {
    let h = Harness::start(store).await;
    let contoso = admin_of(&h.create_tenant("contoso", "contoso.com").await);
    let ana = h
        .create_user(
            &contoso,
            "contoso",
            "ana",
            "contoso.com",
            "ana-password-123",
        )
        .await;
    let key = KeyMaterial::generate();
    let provider = h
        .directory()
        .create_identity_provider(as_principal(
            provider_request("contoso", &key),
            contoso.clone(),
        ))
        .await
        .expect("trust issuer")
        .into_inner()
        .identity_provider
        .expect("provider");
    let email = "ana@contoso.com";
    for refused in [
        serde_json::json!({ "email": email }),
        serde_json::json!({ "email": email, "email_verified": false }),
        serde_json::json!({ "email": email, "email_verified": "true" }),
        serde_json::json!({ "preferred_username": email }),
        serde_json::json!({ "preferred_username": email, "email_verified": true }),
    ] {
        assert_code(
            exchange(&h, token_with(&key, refused.clone())).await,
            Code::Unauthenticated,
        );
    }
    let exchanged = exchange(
        &h,
        token_with(
            &key,
            serde_json::json!({ "email": email, "email_verified": true }),
        ),
    )
    .await
    .expect("a verified email");
    assert_eq!(exchanged.user, ana.name);

    // The tenant's administrator may name the claim; an email claim still needs verifying.
    let mut etag = provider.etag.clone();
    for (claim, token, accepted) in [
        (
            "preferred_username",
            serde_json::json!({ "preferred_username": email }),
            true,
        ),
        ("email", serde_json::json!({ "email": email }), false),
        (
            "email",
            serde_json::json!({ "email": email, "email_verified": true }),
            true,
        ),
    ] {
        etag = h
            .directory()
            .update_identity_provider(as_principal(
                UpdateIdentityProviderRequest {
                    identity_provider: Some(IdentityProvider {
                        name: provider.name.clone(),
                        upn_claim: claim.into(),
                        etag: etag.clone(),
                        ..Default::default()
                    }),
                    update_mask: Some(FieldMask {
                        paths: vec!["upn_claim".into()],
                    }),
                },
                contoso.clone(),
            ))
            .await
            .expect("name the claim")
            .into_inner()
            .identity_provider
            .expect("provider")
            .etag;
        let outcome = exchange(&h, token_with(&key, token)).await;
        if accepted {
            assert_eq!(outcome.expect("accepted").user, ana.name, "{claim}");
        } else {
            assert_code(outcome, Code::Unauthenticated);
        }
    }
    h.stop().await;
}
on_both_stores!(
    r2_unverified_email_claims_are_refused,
    r2_unverified_email_claims_are_refused_postgres,
    r2_unverified_email_claims_are_refused_on
);

async fn issuers_stored_by_older_releases_are_brought_into_canonical_form_on(store: Store) {
    use identity_svc::store::entity::identity_provider;
    use sea_orm::{ActiveModelTrait, EntityTrait};
    let h = Harness::start(store).await;
    h.create_tenant("contoso", "contoso.com").await;
    let key = KeyMaterial::generate();
    let db = h.raw_store().await;
    identity_provider::ActiveModel::from(identity_provider::Model {
        name: "tenants/contoso/identityProviders/old".into(),
        tenant_id: "contoso".into(),
        display_name: "Old".into(),
        issuer: "https://Login.Contoso.com/".into(),
        audience: AUDIENCE.into(),
        jwks_json: jwks_json([(key.kid.as_str(), key.x.as_str())]),
        upn_claim: String::new(),
        create_time: 1,
        update_time: 1,
        version: 1,
    })
    .insert(&db)
    .await
    .expect("a row as an older release stored it");
    let (replica, _) = h.start_replica().await;
    let row = identity_provider::Entity::find_by_id("tenants/contoso/identityProviders/old")
        .one(&db)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(row.issuer, ISSUER);
    replica.stop().await;
    h.stop().await;
}
on_both_stores!(
    issuers_stored_by_older_releases_are_brought_into_canonical_form,
    issuers_stored_by_older_releases_are_brought_into_canonical_form_postgres,
    issuers_stored_by_older_releases_are_brought_into_canonical_form_on
);
