//! Rate limits: each user has a bucket of their own, so one user's burst is refused with
//! RESOURCE_EXHAUSTED (a retry delay, `RATE_LIMITED` with scope `principal`) while a colleague's
//! calls go on; all users of a tenant together meet the tenant's ceiling (scope `tenant`), and
//! another tenant is not limited by it.

use std::time::Duration;

use mtm_proto::mtm::gateway::v1::GetStatusRequest;
use mtm_proto::mtm::gateway::v1::status_service_client::StatusServiceClient;
use tonic::Code;
use tonic::transport::Channel;
use tonic_types::StatusExt;

use crate::harness::Stack;
use crate::harness::calls::{bearer, error_info};
use crate::harness::direct::World;

/// One call as the holder of `token`.
async fn call(status: &mut StatusServiceClient<Channel>, token: &str) -> Result<(), tonic::Status> {
    status
        .get_status(bearer(GetStatusRequest {}, token))
        .await
        .map(drop)
}

/// Asserts that `refused` is a rate-limit refusal by the bucket of `scope` with a retry delay
/// of more than a second (the tests' buckets refill one token in 100 s).
fn assert_rate_limited(refused: &tonic::Status, scope: &str) {
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    let info = error_info(refused);
    assert_eq!(info.reason, "RATE_LIMITED");
    assert_eq!(info.domain, "mtm");
    assert_eq!(
        info.metadata.get("scope").map(String::as_str),
        Some(scope),
        "{refused:?}"
    );
    let retry = refused.get_error_details().retry_info().cloned();
    assert!(
        retry
            .as_ref()
            .and_then(|r| r.retry_delay)
            .is_some_and(|d| d > Duration::from_secs(1)),
        "{retry:?}"
    );
}

#[tokio::test]
async fn one_users_burst_does_not_throttle_a_colleague() {
    let limits = gateway::LimitArgs {
        principal_rate_limit: 0.01,
        principal_rate_burst: 3,
        tenant_rate_limit: 0.01,
        tenant_rate_burst: 8,
    };
    let world = World::on(Stack::builder().limits(limits).start().await);
    let customer = world.customer("busy").await;
    let colleague = world.user(&customer, "colleague").await;
    let busy_token = world.sign_in(&customer.admin).await;
    let colleague_token = world.sign_in(&colleague).await;
    let mut status = StatusServiceClient::new(world.stack.public());

    for _ in 0..3 {
        call(&mut status, &busy_token)
            .await
            .expect("within the burst");
    }
    // More refused calls than the tenant has tokens left: refusals take none of them.
    for _ in 0..8 {
        let refused = call(&mut status, &busy_token)
            .await
            .expect_err("over the user's burst");
        assert_rate_limited(&refused, "principal");
    }

    for _ in 0..3 {
        call(&mut status, &colleague_token)
            .await
            .expect("a colleague is not limited by the busy user");
    }
    world.stop().await;
}

#[tokio::test]
async fn the_tenant_ceiling_holds_across_its_users_and_spares_other_tenants() {
    let limits = gateway::LimitArgs {
        principal_rate_limit: 0.01,
        principal_rate_burst: 4,
        tenant_rate_limit: 0.01,
        tenant_rate_burst: 5,
    };
    let world = World::on(Stack::builder().limits(limits).start().await);
    let busy = world.customer("busy").await;
    let quiet = world.customer("quiet").await;
    let second = world.user(&busy, "second").await;
    let first_token = world.sign_in(&busy.admin).await;
    let second_token = world.sign_in(&second).await;
    let quiet_token = world.sign_in(&quiet.admin).await;
    let mut status = StatusServiceClient::new(world.stack.public());

    for _ in 0..3 {
        call(&mut status, &first_token).await.expect("first user");
    }
    for _ in 0..2 {
        call(&mut status, &second_token).await.expect("second user");
    }
    // Each user has tokens of their own left; the tenant has none.
    let refused = call(&mut status, &second_token)
        .await
        .expect_err("over the tenant's ceiling");
    assert_rate_limited(&refused, "tenant");
    let refused = call(&mut status, &first_token)
        .await
        .expect_err("over the tenant's ceiling");
    assert_rate_limited(&refused, "tenant");

    call(&mut status, &quiet_token)
        .await
        .expect("another tenant is not limited by the first");
    world.stop().await;
}
