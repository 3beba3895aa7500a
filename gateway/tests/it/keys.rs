//! Token keys: a deleted signing key stops verifying on the gateway within the refresh
//! interval, and keys that cannot be refreshed are not trusted past their maximum age.

use std::time::Duration;

use mtm_proto::mtm::gateway::v1::GetCallerRequest;
use mtm_proto::mtm::gateway::v1::workspace_service_client::WorkspaceServiceClient;
use mtm_proto::mtm::identity::v1::auth_service_client::AuthServiceClient;
use mtm_proto::mtm::identity::v1::{DeleteSigningKeyRequest, RotateSigningKeyRequest};
use tonic::Code;

use crate::harness::Stack;
use crate::harness::calls::bearer;
use crate::harness::public::Live;

/// The refresh interval the tests run with, and the most a refresh may take on a busy machine.
const REFRESH: Duration = Duration::from_millis(300);
const FETCH_MARGIN: Duration = Duration::from_millis(1200);

async fn live() -> Live {
    let keys = gateway::KeyArgs {
        jwks_refresh_ms: u64::try_from(REFRESH.as_millis()).expect("small"),
        jwks_max_age_ms: 1000,
    };
    Live {
        stack: Stack::builder().keys(keys).start().await,
    }
}

async fn get_caller(live: &Live, token: &str) -> Result<(), tonic::Status> {
    WorkspaceServiceClient::new(live.stack.public())
        .get_caller(bearer(GetCallerRequest {}, token))
        .await
        .map(drop)
}

#[tokio::test]
async fn a_deleted_signing_key_stops_verifying_within_the_refresh_interval() {
    let live = live().await;
    let before = live.operator().await;
    get_caller(&live, &before.token)
        .await
        .expect("a token of the active key");
    let rotated = AuthServiceClient::new(live.stack.public())
        .rotate_signing_key(bearer(RotateSigningKeyRequest::default(), &before.token))
        .await
        .expect("rotate")
        .into_inner();
    let retired = rotated.retired_key.expect("the key that was active");
    let after = live.operator().await;
    get_caller(&live, &before.token)
        .await
        .expect("a retired key still verifies");

    AuthServiceClient::new(live.stack.public())
        .delete_signing_key(bearer(
            DeleteSigningKeyRequest {
                name: retired.name.clone(),
            },
            &after.token,
        ))
        .await
        .expect("delete the retired key");
    tokio::time::sleep(REFRESH + FETCH_MARGIN).await;

    let refused = get_caller(&live, &before.token)
        .await
        .expect_err("a token of the deleted key");
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    get_caller(&live, &after.token)
        .await
        .expect("tokens of the active key still verify");
    live.stop().await;
}

#[tokio::test]
async fn keys_that_cannot_be_refreshed_are_not_trusted_past_their_maximum_age() {
    let mut live = live().await;
    let operator = live.operator().await;
    get_caller(&live, &operator.token).await.expect("verified");
    live.stack.stop_one("identity-svc").await;
    // The maximum age (1 s), plus the last refresh interval the keys were fetched in.
    tokio::time::sleep(Duration::from_millis(1000) + REFRESH + FETCH_MARGIN).await;
    let refused = get_caller(&live, &operator.token)
        .await
        .expect_err("no trusted keys");
    assert!(
        matches!(refused.code(), Code::Unavailable | Code::Unauthenticated),
        "{refused:?}"
    );
    live.stop().await;
}
