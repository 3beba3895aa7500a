//! The suite comes up with every backend serving behind the gateway, and stops cleanly.

use mtm_proto::mtm::gateway::v1::GetStatusRequest;
use mtm_proto::mtm::gateway::v1::backend_status::State;
use mtm_proto::mtm::gateway::v1::status_service_client::StatusServiceClient;

use crate::support::start_suite;

#[tokio::test]
async fn suite_serves_every_backend_through_the_gateway_and_stops_cleanly_on_sigterm() {
    let (suite, _dir) = start_suite(Vec::new()).await;
    let channel = suite.gateway_channel().await.expect("gateway");
    let status = StatusServiceClient::new(channel)
        .get_status(GetStatusRequest {})
        .await
        .expect("status")
        .into_inner();
    assert_eq!(status.backends.len(), 4);
    assert!(
        status.backends.iter().all(|b| b.state() == State::Serving),
        "{status:?}"
    );
    assert_eq!(
        suite.stop().await,
        Vec::<String>::new(),
        "every service exits 0 on SIGTERM"
    );
}
