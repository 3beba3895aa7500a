//! Health follows the decision index: NOT_SERVING while it is built, SERVING once it answers.

use mtm_plumbing::testing::{TestPki, health_of, mtls_channel};
use mtm_proto::mtm::rbac::v1 as pb;
use mtm_proto::mtm::rbac::v1::decision_service_client::DecisionServiceClient;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::on_both_backends;
use crate::support::{self, Db, Running, principal};

const RBAC_SERVICES: [&str; 4] = [
    "mtm.rbac.v1.DecisionService",
    "mtm.rbac.v1.PermissionService",
    "mtm.rbac.v1.RbacInternalService",
    "mtm.rbac.v1.RoleService",
];

fn admin_check() -> pb::CheckRequest {
    pb::CheckRequest {
        principal: Some(principal("acme", "ada", &[])),
        customer: "customers/acme".into(),
        permission: "settings.modify".into(),
        ..pb::CheckRequest::default()
    }
}

async fn not_serving_until_the_index_is_built(db: &Db) {
    let pki = TestPki::new();
    let mut first = Running::start(&pki, db).await;
    support::provision(&mut first, "acme", "ada").await;
    first.stop().await;

    let (go, gate) = tokio::sync::oneshot::channel();
    let server = support::start_gated(&pki, &db.url, gate).await;
    let channel = mtls_channel(server.addr, &pki.material("gateway"))
        .await
        .expect("connect");
    let mut overall = HealthClient::new(channel.clone())
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health watch")
        .into_inner();
    let first_status = overall.message().await.expect("update").expect("status");
    assert_eq!(first_status.status, ServingStatus::NotServing as i32);
    for service in RBAC_SERVICES {
        assert_eq!(
            health_of(channel.clone(), service).await.expect("health"),
            ServingStatus::NotServing as i32,
            "{service}"
        );
    }
    let mut decisions = DecisionServiceClient::new(channel.clone());
    let early = decisions
        .check(admin_check())
        .await
        .expect_err("no decisions before the index is built");
    assert_eq!(early.code(), tonic::Code::Unavailable);

    go.send(()).expect("the server waits for the gate");
    let next = overall.message().await.expect("update").expect("status");
    assert_eq!(next.status, ServingStatus::Serving as i32);
    let decision = decisions
        .check(admin_check())
        .await
        .expect("the index answers once SERVING")
        .into_inner()
        .decision
        .expect("decision");
    assert!(decision.allowed, "{decision:?}");
    for service in RBAC_SERVICES {
        assert_eq!(
            health_of(channel.clone(), service).await.expect("health"),
            ServingStatus::Serving as i32,
            "{service}"
        );
    }
    server.stop().await;
}

on_both_backends!(
    not_serving_until_the_index_is_built,
    health_is_not_serving_until_the_decision_index_is_built,
    health_is_not_serving_until_the_decision_index_is_built_postgres
);
