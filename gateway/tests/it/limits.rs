//! Per-tenant rate limits: one tenant's burst is refused with RESOURCE_EXHAUSTED and a retry
//! delay, while another tenant's calls go on.

use mtm_proto::mtm::gateway::v1::GetStatusRequest;
use mtm_proto::mtm::gateway::v1::status_service_client::StatusServiceClient;
use tonic::Code;
use tonic_types::StatusExt;

use crate::harness::Stack;
use crate::harness::calls::bearer;
use crate::harness::direct::World;

#[tokio::test]
async fn one_tenants_burst_does_not_starve_another() {
    let limits = gateway::LimitArgs {
        tenant_rate_limit: 0.01,
        tenant_rate_burst: 3,
    };
    let world = World::on(Stack::builder().limits(limits).start().await);
    let busy = world.customer("busy").await;
    let quiet = world.customer("quiet").await;
    let busy_token = world.sign_in(&busy.admin).await;
    let quiet_token = world.sign_in(&quiet.admin).await;
    let mut status = StatusServiceClient::new(world.stack.public());

    for _ in 0..3 {
        status
            .get_status(bearer(GetStatusRequest {}, &busy_token))
            .await
            .expect("within the burst");
    }
    let refused = status
        .get_status(bearer(GetStatusRequest {}, &busy_token))
        .await
        .expect_err("over the burst");
    assert_eq!(refused.code(), Code::ResourceExhausted);
    let retry = refused
        .get_error_details()
        .retry_info()
        .cloned()
        .expect("RetryInfo");
    assert!(
        retry
            .retry_delay
            .is_some_and(|d| d > std::time::Duration::from_secs(1)),
        "{retry:?}"
    );

    status
        .get_status(bearer(GetStatusRequest {}, &quiet_token))
        .await
        .expect("another tenant is not limited by the first");
    world.stop().await;
}
