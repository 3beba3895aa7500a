//! Integration tests of the gateway on `127.0.0.1:0`, in front of backend-shaped servers built
//! from the shared plumbing (mTLS, health, reflection).

/// Runs a test body once on SQLite (`$sqlite`) and, with feature `postgres-tests`, once on
/// PostgreSQL (`$postgres`).
macro_rules! on_both_backends {
    ($sqlite:ident, $postgres:ident, $body:path) => {
        #[tokio::test]
        async fn $sqlite() {
            $body($crate::harness::Backend::Sqlite).await;
        }

        #[cfg(feature = "postgres-tests")]
        #[tokio::test]
        async fn $postgres() {
            $body($crate::harness::Backend::Postgres).await;
        }
    };
}

mod admission;
mod aggregated_tickets;
mod audit;
mod change_control;
mod decisions;
mod denial_audit;
mod existence;
mod harness;
mod keys;
mod limits;
mod mfa;
mod request_id;
mod workspace;

use mtm_plumbing::server::{Assembly, ServeError};
use mtm_plumbing::testing::{RunningServer, TestPki, assert_introspectable};
use mtm_proto::mtm::gateway::v1::GetStatusRequest;
use mtm_proto::mtm::gateway::v1::backend_status::State;
use mtm_proto::mtm::gateway::v1::status_service_client::StatusServiceClient;

/// A backend-shaped server: the shared plumbing with mTLS, health and reflection, holding the
/// service's certificate and its default callers.
async fn start_backend(pki: &TestPki, service: &'static str) -> RunningServer<ServeError> {
    let settings = harness::backend_args(pki, service);
    let backend = mtm_plumbing::callgraph::Service::from_name(service).expect("a backend");
    RunningServer::start(move |listener, shutdown| async move {
        Assembly::new()
            .serve_backend(&settings, backend, listener, None, shutdown)
            .await
    })
    .await
}

struct Suite {
    backends: Vec<(&'static str, RunningServer<ServeError>)>,
    gateway: RunningServer<gateway::Error>,
}

async fn start_suite(pki: &TestPki) -> Suite {
    let mut backends = Vec::new();
    for service in ["identity-svc", "tenancy-svc", "rbac-svc", "rooms-svc"] {
        backends.push((service, start_backend(pki, service).await));
    }
    let addrs = std::array::from_fn(|i| backends[i].1.addr);
    let config = harness::gateway_config(pki, addrs, gateway::LimitArgs::default());
    let gateway = RunningServer::start(|l, s| gateway::serve(config, l, None, s)).await;
    Suite { backends, gateway }
}

async fn public_client(
    pki: &TestPki,
    suite: &Suite,
) -> StatusServiceClient<tonic::transport::Channel> {
    StatusServiceClient::new(harness::public_channel(pki, suite.gateway.addr).await)
}

#[tokio::test]
async fn gateway_serves_health_reflection_and_its_public_services() {
    let pki = TestPki::new();
    let suite = start_suite(&pki).await;
    let mut public = vec!["mtm.gateway.v1.StatusService"];
    public.extend(gateway::FORWARDED_SERVICES);
    public.extend([
        "mtm.gateway.v1.AggregatedTicketService",
        "mtm.gateway.v1.WorkspaceService",
        "mtm.rbac.v1.DecisionService",
        "mtm.audit.v1.AuditService",
    ]);
    assert_introspectable(suite.gateway.addr, &pki.stranger("any-client"), &public).await;
    suite.gateway.stop().await;
    for (_, server) in suite.backends {
        server.stop().await;
    }
}

#[tokio::test]
async fn status_reports_each_backend_over_mtls_and_names_the_one_that_is_down() {
    let pki = TestPki::new();
    let mut suite = start_suite(&pki).await;
    let mut client = public_client(&pki, &suite).await;

    let status = client
        .get_status(GetStatusRequest {})
        .await
        .expect("status")
        .into_inner();
    let names: Vec<_> = status.backends.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(
        names,
        ["identity-svc", "tenancy-svc", "rbac-svc", "rooms-svc"]
    );
    assert!(
        status.backends.iter().all(|b| b.state() == State::Serving),
        "{status:?}"
    );

    let (_, rooms) = suite.backends.pop().expect("rooms-svc");
    rooms.stop().await;
    let status = client
        .get_status(GetStatusRequest {})
        .await
        .expect("status")
        .into_inner();
    let rooms = status
        .backends
        .iter()
        .find(|b| b.name == "rooms-svc")
        .expect("rooms-svc");
    assert_eq!(rooms.state(), State::Unreachable);
    assert!(!rooms.detail.is_empty());
    assert!(
        status.backends[..3]
            .iter()
            .all(|b| b.state() == State::Serving)
    );

    suite.gateway.stop().await;
    for (_, server) in suite.backends {
        server.stop().await;
    }
}

#[tokio::test]
async fn health_port_answers_plaintext_probes_without_a_certificate() {
    let pki = TestPki::new();
    let settings = harness::backend_args(&pki, "rbac-svc");
    let health = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let health_addr = health.local_addr().expect("addr");
    let server = RunningServer::start(move |listener, shutdown| async move {
        Assembly::new()
            .serve_backend(
                &settings,
                mtm_plumbing::callgraph::Service::Rbac,
                listener,
                Some(health),
                shutdown,
            )
            .await
    })
    .await;
    let channel = tonic::transport::Channel::from_shared(format!("http://{health_addr}"))
        .expect("url")
        .connect()
        .await
        .expect("plaintext connect");
    let serving = tonic_health::pb::health_check_response::ServingStatus::Serving as i32;
    assert_eq!(
        mtm_plumbing::testing::health_of(channel.clone(), "")
            .await
            .expect("health"),
        serving
    );
    // The plaintext port offers health only: nothing else is reachable there.
    let reflection = mtm_plumbing::testing::reflected_services(channel).await;
    assert_eq!(
        reflection.expect_err("no reflection").code(),
        tonic::Code::Unimplemented
    );
    server.stop().await;
}
