//! Signing keys at rest: sealed by the key-encryption keys (KEKs), plain-text rows of older
//! stores sealed at start, a wrong KEK refused at start, and KEK rotation without downtime.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use identity_svc::kek::{KeyEncryptionKeys, SEALED_PREFIX, Sealing};
use identity_svc::store::entity::signing_key;
use mtm_proto::mtm::identity::v1::GetJwksRequest;
use mtm_proto::mtm::identity::v1::auth_service_client::AuthServiceClient;
use mtm_proto::mtm::identity::v1::signing_key::State as KeyState;
use mtm_proto::mtm::identity::v1::{RotateSigningKeyRequest, SignInRequest};
use mtm_token::{KeyMaterial, Verifier};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use tonic::transport::Channel;

use crate::on_both_stores;
use crate::support::{ADMIN_PASSWORD, Harness, Store, as_operator};

fn keks(lines: &[&str]) -> KeyEncryptionKeys {
    KeyEncryptionKeys::from_text(&lines.join("\n"), "test").expect("keys")
}

fn new_line() -> String {
    KeyEncryptionKeys::new_line().expect("random")
}

async fn rows(h: &Harness) -> Vec<signing_key::Model> {
    signing_key::Entity::find()
        .all(&h.raw_store().await)
        .await
        .expect("read keys")
}

async fn verifier(channel: Channel) -> Verifier {
    let jwks = AuthServiceClient::new(channel)
        .get_jwks(GetJwksRequest {})
        .await
        .expect("jwks")
        .into_inner();
    Verifier::from_jwks_json(&jwks.jwks_json, &jwks.issuer, &jwks.audience, 0).expect("verifier")
}

async fn sign_in(channel: Channel) -> String {
    AuthServiceClient::new(channel)
        .sign_in(SignInRequest {
            upn: "admin@contoso.com".into(),
            password: ADMIN_PASSWORD.into(),
        })
        .await
        .expect("sign in")
        .into_inner()
        .access_token
}

/// Asserts that no stored private key is readable without a KEK: every row is sealed (by
/// `primary`), holds no PEM and no base64 of a 32-byte seed, and opens only with the KEKs.
fn assert_sealed(rows: &[signing_key::Model], keys: &KeyEncryptionKeys) {
    assert!(!rows.is_empty());
    for row in rows {
        let stored = &row.private_seed;
        assert!(stored.starts_with(SEALED_PREFIX), "{}: not sealed", row.kid);
        assert_eq!(keys.sealing(stored), Sealing::Primary, "{}", row.kid);
        assert!(!stored.contains("PRIVATE KEY") && !stored.contains("-----"));
        let seed = keys.open(&row.kid, stored).expect("opens with the KEKs");
        assert!(
            !stored.contains(&URL_SAFE_NO_PAD.encode(&seed)),
            "{}: the seed is readable in the row",
            row.kid
        );
        assert!(
            URL_SAFE_NO_PAD
                .decode(stored)
                .map_or(true, |bytes| bytes.len() != 32),
            "{}: the row decodes to a seed",
            row.kid
        );
    }
}

async fn signing_keys_are_sealed_at_rest_on(store: Store) {
    let kek = keks(&[&new_line()]);
    let h = Harness::start_with(store, |c| c.key_encryption_keys = Some(kek.clone())).await;
    h.create_tenant("contoso", "contoso.com").await;
    h.auth()
        .rotate_signing_key(as_operator(RotateSigningKeyRequest::default()))
        .await
        .expect("rotate");
    let token = sign_in(h.channel.clone()).await;
    verifier(h.channel.clone())
        .await
        .verify(&token)
        .expect("the token verifies");
    let stored = rows(&h).await;
    assert_eq!(stored.len(), 2, "the first key and the rotated one");
    assert_sealed(&stored, &kek);
    h.stop().await;
}
on_both_stores!(
    signing_keys_are_sealed_at_rest,
    signing_keys_are_sealed_at_rest_postgres,
    signing_keys_are_sealed_at_rest_on
);

async fn plaintext_keys_of_an_older_store_are_sealed_at_start_on(store: Store) {
    let kek = keks(&[&new_line()]);
    let h = Harness::start_with(store, |c| c.key_encryption_keys = Some(kek.clone())).await;
    h.create_tenant("contoso", "contoso.com").await;
    // What an older release stored: the active key's seed in plain text.
    let db = h.raw_store().await;
    let old = rows(&h).await.remove(0);
    let mut retired = old.clone().into_active_model();
    retired.state = Set(KeyState::Retired as i32);
    retired.update(&db).await.expect("retire");
    let legacy = KeyMaterial::generate();
    signing_key::ActiveModel::from(signing_key::Model {
        kid: legacy.kid.clone(),
        private_seed: legacy.seed.clone(),
        public_x: legacy.x.clone(),
        state: KeyState::Active as i32,
        create_time: identity_svc::store::now_micros(),
        retire_time: None,
        request_id: None,
        replaced_kid: Some(old.kid.clone()),
    })
    .insert(&db)
    .await
    .expect("insert a plain-text key");

    let (replica, channel) = h.start_replica().await;
    let stored = rows(&h).await;
    assert_sealed(&stored, &kek);
    let row = stored.iter().find(|r| r.kid == legacy.kid).expect("kept");
    assert_eq!(
        URL_SAFE_NO_PAD.encode(kek.open(&row.kid, &row.private_seed).expect("open")),
        legacy.seed,
        "the same key, now sealed"
    );
    let token = sign_in(channel.clone()).await;
    let claims = verifier(channel).await.verify(&token).expect("verifies");
    assert_eq!(claims.upn, "admin@contoso.com");
    assert_eq!(
        kid_of(&token),
        legacy.kid,
        "signed by the formerly plain-text key"
    );
    replica.stop().await;
    h.stop().await;
}
on_both_stores!(
    plaintext_keys_of_an_older_store_are_sealed_at_start,
    plaintext_keys_of_an_older_store_are_sealed_at_start_postgres,
    plaintext_keys_of_an_older_store_are_sealed_at_start_on
);

/// The `kid` in a token's header.
fn kid_of(token: &str) -> String {
    let header = token.split('.').next().unwrap_or_default();
    let decoded: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("header")).expect("json");
    decoded["kid"].as_str().unwrap_or_default().to_owned()
}

async fn a_wrong_key_encryption_key_stops_the_start_with_a_clear_error_on(store: Store) {
    let h = Harness::start(store).await;
    let mut wrong = h.config.clone();
    wrong.key_encryption_keys = Some(keks(&[&new_line()]));
    let error = identity_svc::prepare(&wrong)
        .await
        .err()
        .expect("a wrong KEK is refused");
    let message = error.to_string();
    assert!(matches!(error, identity_svc::Error::Config(_)), "{error:?}");
    assert!(
        message.contains("signing key") && message.contains("key-encryption key"),
        "{message}"
    );

    let mut none = h.config.clone();
    none.key_encryption_keys = None;
    none.key_encryption_key_file = None;
    let message = identity_svc::prepare(&none)
        .await
        .err()
        .expect("no KEK is refused")
        .to_string();
    assert!(message.contains("--key-encryption-key-file"), "{message}");
    h.stop().await;
}
on_both_stores!(
    a_wrong_key_encryption_key_stops_the_start_with_a_clear_error,
    a_wrong_key_encryption_key_stops_the_start_with_a_clear_error_postgres,
    a_wrong_key_encryption_key_stops_the_start_with_a_clear_error_on
);

/// The documented rotation: add the new KEK second on every replica, then make it first (the
/// replicas re-seal at start), then drop the old one. Every replica keeps signing at every
/// step, and tokens issued before keep verifying.
async fn key_encryption_key_rotation_keeps_tokens_verifying_on(store: Store) {
    let (old, new) = (new_line(), new_line());
    let h = Harness::start_with(store, |c| c.key_encryption_keys = Some(keks(&[&old]))).await;
    h.create_tenant("contoso", "contoso.com").await;
    let before = sign_in(h.channel.clone()).await;

    let (step1, step1_channel) = h
        .start_replica_with(|c| c.key_encryption_keys = Some(keks(&[&old, &new])))
        .await;
    assert_sealed(&rows(&h).await, &keks(&[&old]));
    let (step2, step2_channel) = h
        .start_replica_with(|c| c.key_encryption_keys = Some(keks(&[&new, &old])))
        .await;
    assert_sealed(&rows(&h).await, &keks(&[&new]));
    // The replicas of step 1 still open the keys the step 2 replica re-sealed.
    let during = sign_in(step1_channel.clone()).await;
    let (step3, step3_channel) = h
        .start_replica_with(|c| c.key_encryption_keys = Some(keks(&[&new])))
        .await;
    let after = sign_in(step3_channel.clone()).await;
    let also = sign_in(step2_channel).await;

    let verifier = verifier(step3_channel).await;
    for token in [&before, &during, &after, &also] {
        verifier.verify(token).expect("verifies");
    }
    // A replica still holding only the old KEK is refused at start: drop it only after every
    // replica has the new one.
    let stale = identity_svc::prepare(&{
        let mut c = h.config.clone();
        c.key_encryption_keys = Some(keks(&[&old]));
        c
    })
    .await;
    assert!(stale.is_err());
    for replica in [step1, step2, step3] {
        replica.stop().await;
    }
    h.stop().await;
}
on_both_stores!(
    key_encryption_key_rotation_keeps_tokens_verifying,
    key_encryption_key_rotation_keeps_tokens_verifying_postgres,
    key_encryption_key_rotation_keeps_tokens_verifying_on
);
