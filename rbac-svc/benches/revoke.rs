//! Latency of a revoking write with 1 and 3 rbac-svc replicas on one PostgreSQL database (the
//! revocation barrier, README "Revocation on every replica"): each sample grants a partner
//! user *Primary admins* (not a barrier, untimed), then times `RemovePrimaryAdmins` on replica
//! A until it returns, i.e. until every replica has applied it. Prints p50/p99/max.
//!
//! `cargo bench -p rbac-svc --features postgres-tests --bench revoke` (PostgreSQL on
//! 127.0.0.1:5432 or `MTM_TEST_POSTGRES_URL`; `REVOKE_SAMPLES`, default 1000).

use std::time::{Duration, Instant};

use mtm_plumbing::CancellationToken;
use mtm_plumbing::testing::{RunningServer, TestPki, mtls_channel};
use mtm_proto::mtm::common::v1::{RelationshipState, RoomScope};
use mtm_proto::mtm::rbac::v1 as pb;
use mtm_proto::mtm::rbac::v1::rbac_internal_service_client::RbacInternalServiceClient;
use rbac_svc::{Config, DEFAULT_LEASE_MS, StartError, serve};
use tonic::transport::Channel;

const RELATIONSHIP: &str = "customers/a/partnerRelationships/p";

async fn replica(pki: &TestPki, url: &str) -> RunningServer<StartError> {
    let config = Config {
        backend: mtm_plumbing::config::BackendArgs {
            server: pki.server_args("rbac-svc"),
            allowed_peers: Vec::new(),
        },
        database_url: url.to_owned(),
        lease_ms: DEFAULT_LEASE_MS,
    };
    let server = RunningServer::start(|listener, shutdown: CancellationToken| {
        serve(config, listener, None, shutdown)
    })
    .await;
    wait_serving(pki, &server).await;
    server
}

async fn wait_serving(pki: &TestPki, server: &RunningServer<StartError>) {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let channel = mtls_channel(server.addr, &pki.material("gateway"))
        .await
        .expect("connect");
    let mut updates = HealthClient::new(channel)
        .watch(HealthCheckRequest::default())
        .await
        .expect("watch")
        .into_inner();
    while let Some(update) = updates.message().await.expect("health") {
        if update.status == ServingStatus::Serving as i32 {
            return;
        }
    }
    panic!("never SERVING");
}

async fn setup(internal: &mut RbacInternalServiceClient<Channel>) {
    internal
        .provision_customer(pb::ProvisionCustomerRequest {
            customer: "customers/a".into(),
            first_admin: "tenants/a/users/root".into(),
        })
        .await
        .expect("provision");
    internal
        .put_relationship(pb::PutRelationshipRequest {
            relationship: RELATIONSHIP.into(),
            partner: "partners/p".into(),
            customer: "customers/a".into(),
            scope: Some(RoomScope {
                all_rooms: true,
                ..RoomScope::default()
            }),
            state: RelationshipState::Active as i32,
            end_time: None,
        })
        .await
        .expect("relate");
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at]
}

async fn measure(replicas: usize, samples: usize) {
    let pki = TestPki::new();
    let url = mtm_plumbing::testing::unique_postgres_url("rbacbench");
    let mut servers = Vec::new();
    for _ in 0..replicas {
        servers.push(replica(&pki, &url).await);
    }
    let channel = mtls_channel(servers[0].addr, &pki.material("tenancy-svc"))
        .await
        .expect("connect");
    let mut internal = RbacInternalServiceClient::new(channel);
    setup(&mut internal).await;
    let members = vec!["tenants/p/users/ana".to_owned()];
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        internal
            .add_primary_admins(pb::AddPrimaryAdminsRequest {
                relationship: RELATIONSHIP.into(),
                members: members.clone(),
            })
            .await
            .expect("grant");
        let started = Instant::now();
        internal
            .remove_primary_admins(pb::RemovePrimaryAdminsRequest {
                relationship: RELATIONSHIP.into(),
                members: members.clone(),
            })
            .await
            .expect("revoke");
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "revoking write, {replicas} replica(s), {samples} samples: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&times, 0.50).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
    );
    for server in servers {
        server.stop().await;
    }
    mtm_plumbing::testing::drop_postgres_database(&url).await;
}

#[tokio::main]
async fn main() {
    let samples = std::env::var("REVOKE_SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    measure(1, samples).await;
    measure(3, samples).await;
}
