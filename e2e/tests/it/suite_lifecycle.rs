//! The suite comes up with every backend serving behind the gateway, stops cleanly, and
//! restarts a service that dies.

use std::time::Duration;

use mtm_proto::mtm::gateway::v1::GetStatusRequest;
use mtm_proto::mtm::gateway::v1::backend_status::State;
use mtm_proto::mtm::gateway::v1::status_service_client::StatusServiceClient;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

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

/// A service killed under the supervisor comes back on the same address with a new process,
/// the state file and `status` say so, and the suite answers through the gateway again.
#[tokio::test]
async fn a_killed_service_is_restarted_on_its_address_and_the_suite_answers_again() {
    let (mut suite, dir) = start_suite(Vec::new()).await;
    let before = mtm_e2e::status::report(dir.path())
        .await
        .expect("the suite's state");
    assert!(before.supervisor.1, "the test process supervises");
    assert!(
        before.services.iter().all(|s| s.health == "SERVING"),
        "{}",
        before.render()
    );
    let victim = before
        .services
        .iter()
        .find(|s| s.recorded.name == "rbac-svc")
        .expect("rbac-svc")
        .recorded
        .clone();
    let pid = i32::try_from(victim.pid.expect("running")).expect("pid");
    kill(Pid::from_raw(pid), Signal::SIGKILL).expect("kill rbac-svc");

    let channel = suite.gateway_channel().await.expect("gateway");
    let data_dir = dir.path().to_owned();
    let back = async {
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let Ok(report) = mtm_e2e::status::report(&data_dir).await else {
                continue;
            };
            let Some(now) = report
                .services
                .iter()
                .find(|s| s.recorded.name == "rbac-svc")
            else {
                continue;
            };
            if now.recorded.restarts == 0 || now.health != "SERVING" {
                continue;
            }
            let status = StatusServiceClient::new(channel.clone())
                .get_status(GetStatusRequest {})
                .await;
            if let Ok(status) = status {
                let status = status.into_inner();
                if status.backends.iter().all(|b| b.state() == State::Serving) {
                    return now.recorded.clone();
                }
            }
        }
    };
    let mut log = Vec::new();
    let restarted = tokio::select! {
        () = suite.supervise(|line| log.push(line)) => unreachable!("supervision never ends"),
        restarted = tokio::time::timeout(Duration::from_secs(90), back) => restarted,
    };
    let restarted = restarted.unwrap_or_else(|_| panic!("rbac-svc did not come back: {log:?}"));
    assert_eq!(restarted.address, victim.address);
    assert_ne!(restarted.pid, victim.pid);
    assert_eq!(restarted.restarts, 1);
    assert!(
        log.iter().any(|line| line.starts_with("rbac-svc exited"))
            && log
                .iter()
                .any(|line| line.starts_with("rbac-svc restarted")),
        "{log:?}"
    );
    assert_eq!(suite.stop().await, Vec::<String>::new());
}
